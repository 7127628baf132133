//! One running child process of an isolated plugin, seen from the host: its socket, the calls
//! waiting for its replies, and what reads its frames and its stderr.
//!
//! A call sends one frame and awaits a oneshot: no host thread waits for the child. On the
//! server's runtime, the calls one turn of it starts go in one write ([`super::outbox`]),
//! and the child's frames are read by a task ([`super::inbox`]); without one (`fastmcp
//! call`), frames go at once and a thread of their own reads the child's. Replies become
//! those oneshots' values, and the notifications and client requests of running tools go to
//! their calls' sinks (a request, which blocks until the client answers, on a thread of its
//! own). When the socket ends, a thread reaps the child and every call still waiting gets the
//! crash error ([`crashed`]).

use std::collections::{HashMap, VecDeque};
use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::child::ChildSpec;
use super::death::{STDERR_LINES, cause, crashed, forward_stderr};
use super::inbox;
use super::lock;
use super::outbox::Outbox;
use super::wire::{self, Outgoing};
use crate::plugin::generation::CANCEL_WATCH;
use crate::plugin::listing::Listing;
use crate::plugin::request::PluginRequest;
use crate::plugin::{CallOutcome, CallSink, HostRequestError};

/// How long a child may take to load its library and send its manifest.
const LOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// A child that does not read a frame for this long is hung: it is killed.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a child asked to exit gets before it is killed.
pub(crate) const EXIT_GRACE: Duration = Duration::from_secs(10);

/// Called once, on a thread of its own, when the child's socket ends: the cause of its death.
pub(crate) type OnEnd = Box<dyn FnOnce(&Arc<Conn>, String) + Send>;

/// A call waiting for its reply.
struct Waiting {
    tx: tokio::sync::oneshot::Sender<CallOutcome>,
    sink: Arc<dyn CallSink>,
    cancel: Arc<AtomicBool>,
}

/// A running child.
pub(crate) struct Conn {
    /// The plugin's name, for errors and logs (its manifest's once the child sent it).
    plugin: Mutex<String>,
    out: Arc<Outbox>,
    calls: Mutex<HashMap<u64, Waiting>>,
    next: AtomicU64,
    process: Mutex<Child>,
    /// The child's pid, for logs.
    pub(crate) pid: u32,
    /// The child's last stderr lines.
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// The child's stderr reached its end (its last words are in `stderr`).
    stderr_done: Arc<AtomicBool>,
    /// The socket ended; calls are failed, not sent.
    dead: AtomicBool,
    /// Set once the host asked the child to exit: its end is not a crash.
    pub(crate) stopping: AtomicBool,
    /// The child answered a call (a restart that serves resets the backoff).
    pub(crate) answered: AtomicBool,
    /// The child was reaped.
    exited: AtomicBool,
    /// The host's copy of which tools and prompts the plugin hides (`wire::LISTED`).
    listing: SharedListing,
    /// The cgroup of the memory limit, removed once a child asked to exit is gone.
    cgroup: Option<std::path::PathBuf>,
}

/// The generation's [`Listing`], set once the generation exists (after the first child sent
/// its manifest), shared by every child of the generation.
pub(crate) type SharedListing = Arc<OnceLock<Arc<Listing>>>;

impl Conn {
    /// Starts a child for `spec`, waits for its manifest, and starts reading its frames.
    /// Returns the connection and the manifest JSON, or why the child did not come up (with
    /// its last stderr lines). Blocking.
    ///
    /// The frames are read on `runtime` when it is a multi-threaded one (the server's; a
    /// current-thread runtime may not be driven while its caller waits for a reply), else on
    /// a reader thread, inside `runtime` if there is one. Either way a notification for a
    /// client whose stream is full is dropped (and counted) instead of waiting, as for async
    /// tools in-process, so one slow client cannot hold up this child's replies.
    pub(crate) fn spawn(
        spec: &ChildSpec,
        plugin: &str,
        runtime: Option<tokio::runtime::Handle>,
        on_end: OnEnd,
        listing: SharedListing,
    ) -> Result<(Arc<Conn>, Vec<u8>), String> {
        let (mut process, host) = super::exe::start_child(spec)?;
        let pid = process.id();
        let stderr = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_LINES)));
        let stderr_done = Arc::new(AtomicBool::new(false));
        if let Some(pipe) = process.stderr.take() {
            let ends = (stderr.clone(), stderr_done.clone());
            forward_stderr(pipe, plugin.to_owned(), pid, ends);
        }
        let out = host.try_clone().map_err(|e| e.to_string())?;
        let _ = out.set_write_timeout(Some(WRITE_TIMEOUT));
        let conn = Arc::new(Conn {
            plugin: Mutex::new(plugin.to_owned()),
            out: Arc::new(Outbox::new(out)),
            calls: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            process: Mutex::new(process),
            pid,
            stderr,
            stderr_done,
            dead: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            answered: AtomicBool::new(false),
            exited: AtomicBool::new(false),
            listing,
            cgroup: spec.policy.as_ref().and_then(|p| p.memory_cgroup.clone()),
        });
        let mut input = BufReader::with_capacity(64 * 1024, host);
        let manifest = conn.handshake(&mut input)?;
        if let Some(handle) = runtime
            .as_ref()
            .filter(|r| r.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
        {
            conn.read_on(handle, input, on_end)?;
            return Ok((conn, manifest));
        }
        let reader = conn.clone();
        std::thread::Builder::new()
            .name("fastmcp-isolated".into())
            .spawn(move || {
                let _entered = runtime.as_ref().map(tokio::runtime::Handle::enter);
                while let Ok(Some(f)) = wire::read(&mut input) {
                    reader.dispatch(f.kind, f.id, &f.payload);
                }
                reader.end(on_end);
            })
            .map_err(|e| format!("cannot start a reader thread: {e}"))?;
        Ok((conn, manifest))
    }

    /// Reads the child's frames in a task on `runtime` ([`super::inbox`]); once the socket
    /// ends, [`Conn::end`] runs on a thread of its own, since it waits for the child.
    fn read_on(
        self: &Arc<Self>,
        runtime: &tokio::runtime::Handle,
        input: BufReader<UnixStream>,
        on_end: OnEnd,
    ) -> Result<(), String> {
        let read = input.buffer().to_vec();
        let reader = self.clone();
        let on_frame = move |kind, id, payload: &[u8]| reader.dispatch(kind, id, payload);
        let ender = self.clone();
        let finish = move || {
            // Run here (blocking this thread) only if no thread can be had: every waiting
            // call must still get its answer.
            let end = Arc::new(Mutex::new(Some((ender, on_end))));
            let ending = end.clone();
            let spawned = std::thread::Builder::new()
                .name("fastmcp-isolated-end".into())
                .spawn(move || {
                    if let Some((conn, on_end)) = lock(&ending).take() {
                        conn.end(on_end);
                    }
                });
            if spawned.is_err()
                && let Some((conn, on_end)) = lock(&end).take()
            {
                conn.end(on_end);
            }
        };
        inbox::spawn(runtime, input.into_inner(), &read, on_frame, finish)
            .map_err(|e| format!("cannot read the child's socket on the runtime: {e}"))?;
        let conn = Arc::downgrade(self);
        let failed = move || {
            if let Some(conn) = conn.upgrade()
                && !conn.dead.load(Ordering::SeqCst)
            {
                conn.kill();
            }
        };
        self.out.start_writer(runtime, failed);
        Ok(())
    }

    /// Waits for the child's manifest (and takes the plugin's name from it), or says why it
    /// did not come, with the child's last stderr lines.
    fn handshake(&self, input: &mut BufReader<UnixStream>) -> Result<Vec<u8>, String> {
        let _ = input.get_ref().set_read_timeout(Some(LOAD_TIMEOUT));
        let manifest = match wire::read(input) {
            Ok(Some(f)) if f.kind == wire::READY => f.payload,
            first => {
                let why = match first {
                    Ok(Some(f)) if f.kind == wire::LOAD_FAILED => {
                        String::from_utf8_lossy(&f.payload).into_owned()
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        format!("no manifest after {LOAD_TIMEOUT:?}")
                    }
                    _ => "the child ended before it sent a manifest".into(),
                };
                let status = self.reap(Duration::from_millis(500));
                let report = self.stderr_report();
                return Err(format!("{why} ({}){report}", cause(status, &[])));
            }
        };
        let _ = input.get_ref().set_read_timeout(None);
        #[derive(serde::Deserialize)]
        struct Named {
            name: String,
        }
        if let Ok(named) = serde_json::from_slice::<Named>(&manifest) {
            *lock(&self.plugin) = named.name;
        }
        Ok(manifest)
    }

    /// Runs one request in the child and awaits its reply. Dropping the future (a timeout, a
    /// client that went away) cancels the call in the child; so does `cancel`, noticed within
    /// [`CANCEL_WATCH`].
    pub(crate) async fn call(
        self: &Arc<Self>,
        request: PluginRequest,
        sink: Arc<dyn CallSink>,
        cancel: Arc<AtomicBool>,
    ) -> CallOutcome {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        let waiting = Waiting {
            tx,
            sink,
            cancel: cancel.clone(),
        };
        let alone = {
            let mut calls = lock(&self.calls);
            calls.insert(id, waiting);
            calls.len() == 1
        };
        // The reader marks the connection dead before it fails what is waiting: either it
        // found this call, or this sees the mark.
        if self.dead.load(Ordering::SeqCst) && lock(&self.calls).remove(&id).is_some() {
            return self.crashed("it stopped before the call was sent");
        }
        // A call alone (one client calling in turn) has no other call to wait for: it goes at
        // once, without a turn of the writer task.
        if self
            .out
            .send_call(id, &wire::call_payload(&request), alone)
            .is_err()
            && !self.dead.load(Ordering::SeqCst)
        {
            self.kill();
        }
        drop(request);
        let mut guard = CancelInChild {
            conn: self,
            id,
            armed: true,
        };
        let mut told = false;
        let reply = loop {
            tokio::select! {
                reply = &mut rx => break reply,
                () = tokio::time::sleep(CANCEL_WATCH), if !told => {
                    if cancel.load(Ordering::Relaxed) {
                        self.send(wire::CANCEL, id, &[]);
                        told = true;
                    }
                }
            }
        };
        guard.armed = false;
        reply.unwrap_or_else(|_| self.crashed("the connection to its child closed"))
    }

    /// The outcome of a call the child's death took: a protocol error (-32603) naming the
    /// plugin and the cause (`docs/architecture.md`, "Isolated plugins").
    pub(crate) fn crashed(&self, cause: &str) -> CallOutcome {
        crashed(&lock(&self.plugin), cause)
    }

    /// The plugin's name as its manifest gives it.
    pub(crate) fn plugin_name(&self) -> Option<String> {
        Some(lock(&self.plugin).clone())
    }

    /// Sends one frame now ([`Outbox::send`]). A child that does not read for
    /// [`WRITE_TIMEOUT`] is killed: its reader then ends and fails its calls.
    fn send(&self, kind: u8, id: u64, payload: &[u8]) {
        if self.out.send(kind, id, payload).is_err() && !self.dead.load(Ordering::SeqCst) {
            self.kill();
        }
    }

    /// Asks the child to unload its plugin and exit; kills it after [`EXIT_GRACE`].
    pub(crate) fn shutdown(self: &Arc<Self>) {
        self.stopping.store(true, Ordering::SeqCst);
        self.send(wire::SHUTDOWN, 0, &[]);
        let conn = self.clone();
        let stop = move || {
            let until = Instant::now() + EXIT_GRACE;
            while !conn.exited.load(Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            if !conn.exited.load(Ordering::SeqCst) {
                tracing::warn!(plugin = %lock(&conn.plugin), pid = conn.pid, "the retired plugin's child did not exit; killing it");
                conn.kill();
            }
        };
        if std::thread::Builder::new()
            .name("fastmcp-isolated-stop".into())
            .spawn(stop)
            .is_err()
        {
            self.kill();
        }
    }

    fn kill(&self) {
        let _ = lock(&self.process).kill();
    }

    /// The child's last stderr lines, as a block to append to a message (empty without any).
    pub(crate) fn stderr_report(&self) -> String {
        let lines = lock(&self.stderr);
        if lines.is_empty() {
            return String::new();
        }
        let mut out = String::from("; its last stderr lines:");
        for line in lines.iter() {
            out.push_str("\n  ");
            out.push_str(line);
        }
        out
    }

    /// The child's last stderr lines, one per line.
    pub(crate) fn stderr_tail(&self) -> String {
        let lines = lock(&self.stderr);
        lines
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits up to `patience` for the child to exit, then kills it; returns how it ended.
    fn reap(&self, patience: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + patience;
        let status = loop {
            match lock(&self.process).try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < until => {}
                Ok(None) => {
                    let mut p = lock(&self.process);
                    let _ = p.kill();
                    break p.wait().ok();
                }
                Err(_) => break None,
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        self.exited.store(true, Ordering::SeqCst);
        // Its last words (a stack overflow's, a failed allocation's) are still in the pipe.
        let until = Instant::now() + Duration::from_millis(500);
        while !self.stderr_done.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(2));
        }
        status
    }

    /// Hands one frame of the child's to whom it is for. Never blocks: it runs on a runtime
    /// thread (or the reader thread).
    fn dispatch(self: &Arc<Self>, kind: u8, id: u64, payload: &[u8]) {
        match kind {
            wire::REPLY => {
                self.answered.store(true, Ordering::Relaxed);
                if let Some(w) = lock(&self.calls).remove(&id) {
                    let _ = w.tx.send(wire::read_outcome(payload));
                }
            }
            wire::NOTIFY => {
                let sink = lock(&self.calls).get(&id).map(|w| w.sink.clone());
                let note = serde_json::from_slice::<wire::NoteRef>(payload);
                if let (Some(sink), Ok(note)) = (sink, note) {
                    let params = note.params.unwrap_or(serde_json::value::RawValue::NULL);
                    sink.notify_raw(&note.method, params);
                }
            }
            wire::REQUEST => self.ask_client(id, payload),
            wire::LISTED => {
                if let Some(listing) = self.listing.get() {
                    listing.replace_from_json(payload);
                }
            }
            _ => {}
        }
    }

    /// After the socket ended: reaps the child and fails what still waits. Blocking.
    fn end(self: Arc<Self>, on_end: OnEnd) {
        self.dead.store(true, Ordering::SeqCst);
        self.out.close();
        let patience = if self.stopping.load(Ordering::SeqCst) {
            EXIT_GRACE
        } else {
            Duration::from_secs(2)
        };
        let status = self.reap(patience);
        #[cfg(target_os = "linux")]
        if let Some(dir) = self.cgroup.as_ref()
            && self.stopping.load(Ordering::SeqCst)
            && let Err(e) = crate::sandbox::cgroup::remove(dir)
        {
            tracing::debug!(plugin = %lock(&self.plugin), "{e}");
        }
        let cause = cause(
            status,
            &lock(&self.stderr).iter().cloned().collect::<Vec<_>>(),
        );
        let waiting: Vec<Waiting> = lock(&self.calls).drain().map(|(_, w)| w).collect();
        for w in waiting {
            let _ = w.tx.send(self.crashed(&cause));
        }
        on_end(&self, cause);
    }

    /// Relays a running tool's request to its client on a thread of its own (the sink blocks
    /// until the client answers), and sends the answer back.
    fn ask_client(self: &Arc<Self>, id: u64, payload: &[u8]) {
        let ask = serde_json::from_slice::<Outgoing>(payload);
        let call = ask.as_ref().ok().and_then(|a| {
            let calls = lock(&self.calls);
            calls
                .get(&a.call)
                .map(|w| (w.sink.clone(), w.cancel.clone()))
        });
        let (Ok(ask), Some((sink, cancel))) = (ask, call) else {
            let answer = Err(HostRequestError::Cancelled);
            self.send(wire::ANSWER, id, &wire::answer_payload(&answer));
            return;
        };
        let conn = self.clone();
        let relay = move || {
            let answer = sink.request(&ask.method, ask.params, ask.key.as_deref(), &cancel);
            conn.send(wire::ANSWER, id, &wire::answer_payload(&answer));
        };
        if std::thread::Builder::new()
            .name("fastmcp-isolated-ask".into())
            .spawn(relay)
            .is_err()
        {
            let answer = Err(HostRequestError::Unsupported("no thread to wait on".into()));
            self.send(wire::ANSWER, id, &wire::answer_payload(&answer));
        }
    }
}

/// Cancels a call in the child when the future awaiting it is dropped before the reply.
struct CancelInChild<'a> {
    conn: &'a Arc<Conn>,
    id: u64,
    armed: bool,
}

impl Drop for CancelInChild<'_> {
    fn drop(&mut self) {
        if self.armed {
            if let Some(w) = lock(&self.conn.calls).remove(&self.id) {
                w.cancel.store(true, Ordering::Relaxed);
            }
            self.conn.send(wire::CANCEL, self.id, &[]);
        }
    }
}
