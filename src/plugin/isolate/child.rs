//! The child side of an isolated plugin: `fastmcp __plugin-host SPEC` loads one library with
//! the in-process machinery ([`Generation`]) and serves the host's frames over the socket the
//! host handed it, until the host asks it to exit or goes away.
//!
//! The host starts one child per generation ([`super::supervisor`]). Calls run as they would
//! in-process (worker threads, or the plugin's runtime for async tools); what a running tool
//! sends its client (notifications, requests) goes to the host as frames, and the host's
//! answers and cancellations come back the same way.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Write};
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lock;
use super::wire::{self, Outgoing};
use crate::plugin::inline::InlineGate;
use crate::plugin::pool::PoolOptions;
use crate::plugin::request::PluginRequest;
use crate::plugin::{CallOutcome, CallSink, Generation, HostRequestError, NullSink};
use crate::sandbox::{self, CpuWatch, Policy};

/// What the host tells a child at startup (the JSON argument of `__plugin-host`). Fields are
/// added, never renamed; a field the child does not know is ignored, one it misses defaults.
/// The sandbox's settings (memory, CPU time, network, paths) join here.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ChildSpec {
    /// The library to load (the host's private copy of this generation's file).
    pub(crate) library: PathBuf,
    /// The generation number, for logs.
    pub(crate) generation: u64,
    /// The host's pid: a child whose parent is another process exits at once.
    pub(crate) parent: u32,
    /// The child's end of the socket pair.
    pub(crate) fd: i32,
    /// `--max-blocking-calls`.
    pub(crate) max_blocking_calls: usize,
    /// `--tool-timeout`, in milliseconds (for the workers' stuck-call accounting).
    pub(crate) tool_timeout_ms: u64,
    /// The sandbox and limits (`--plugin-*`), applied before the library is opened. `None`
    /// only from a host that predates the sandbox.
    pub(crate) policy: Option<Policy>,
}

/// The log lines a child buffers before a logging thread waits for stderr, which the host
/// drains line by line as they come: a child logs little, and every buffered line is memory
/// touched up front.
pub const LOG_BUFFER_LINES: usize = 64;

/// How often a tool waiting for its client's answer looks at its cancel flag.
const ASK_POLL: Duration = Duration::from_millis(50);

/// Runs the child until the host says stop or goes away. `spec` is the [`ChildSpec`] JSON.
/// `start_logging` runs once the sandbox is in place: it starts a thread, and the sandbox
/// must be applied while this process has only one.
pub fn run<G>(spec: &str, start_logging: impl FnOnce() -> G) -> ExitCode {
    let spec: ChildSpec = match serde_json::from_str(spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fastmcp __plugin-host: bad startup spec: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = die_with_parent(spec.parent) {
        eprintln!("fastmcp __plugin-host: {e}");
        return ExitCode::from(2);
    }
    // SAFETY: the host passed this descriptor for the child alone; nothing else owns it.
    let stream = unsafe { UnixStream::from_raw_fd(spec.fd) };
    let out = match stream.try_clone() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fastmcp __plugin-host: {e}");
            return ExitCode::from(2);
        }
    };
    crate::memory::one_malloc_arena();
    let confined = confine(&spec);
    let _log = start_logging();
    let watch = match confined {
        Ok(watch) => watch,
        Err(e) => {
            // Never run the plugin with less protection than the host announced.
            let message = format!("cannot sandbox the plugin: {e}");
            let frame = wire::frame(wire::LOAD_FAILED, 0, message.as_bytes());
            let _ = (&out).write_all(&frame);
            return ExitCode::from(1);
        }
    };
    let child = Arc::new(Child {
        watch,
        out: Mutex::new(out),
        calls: Mutex::new(HashMap::new()),
        asks: Mutex::new(HashMap::new()),
        next_ask: AtomicU64::new(1),
    });
    let options = PoolOptions::new(
        spec.max_blocking_calls.max(1),
        Duration::from_millis(spec.tool_timeout_ms),
    );
    let loaded = crate::plugin::library::stage(&spec.library)
        .and_then(|staged| Generation::load_staged(staged, spec.generation, options));
    let generation = match loaded {
        Ok(g) => g,
        Err(e) => {
            child.send(wire::LOAD_FAILED, 0, format!("{e:#}").as_bytes());
            return ExitCode::from(1);
        }
    };
    child.send(wire::READY, 0, &generation.manifest_json());
    give_back_startup_memory();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("fastmcp-child")
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fastmcp __plugin-host: no runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let stop = serve(&child, &generation, &runtime, stream);
    // The host only asks for an exit once its calls are done: nothing is left to answer.
    runtime.shutdown_timeout(Duration::from_secs(1));
    if stop {
        generation.unload_and_wait(Duration::from_secs(10));
    }
    ExitCode::SUCCESS
}

/// Serves frames until a shutdown (`true`) or the end of the stream (`false`).
///
/// The replies of inline calls wait in `replies` while more frames are already read, and go
/// in one write before the next read that could wait: calls that came together cost one
/// write here and one wake-up of the host.
fn serve(
    child: &Arc<Child>,
    generation: &Arc<Generation>,
    runtime: &tokio::runtime::Runtime,
    stream: UnixStream,
) -> bool {
    let tools = Tools::of(generation);
    let mut input = BufReader::with_capacity(64 * 1024, stream);
    let mut replies = Vec::new();
    loop {
        if !replies.is_empty() && !wire::holds_frame(input.buffer()) {
            child.send_frames(&replies);
            replies.clear();
        }
        let frame = match wire::read(&mut input) {
            Ok(Some(f)) => f,
            Ok(None) | Err(_) => return false,
        };
        match frame.kind {
            wire::CALL => match wire::read_call(&frame.payload) {
                Some(request) => {
                    let (id, tools) = (frame.id, &tools);
                    start_call(child, generation, runtime, tools, id, request, &mut replies);
                }
                None => {
                    let bad = CallOutcome::Invalid("the host sent an unreadable request".into());
                    child.send(wire::REPLY, frame.id, &wire::outcome_payload(&bad));
                }
            },
            wire::CANCEL => {
                if let Some(flag) = lock(&child.calls).get(&frame.id) {
                    flag.store(true, Ordering::Relaxed);
                }
            }
            wire::ANSWER => {
                if let Some(tx) = lock(&child.asks).remove(&frame.id) {
                    let _ = tx.send(wire::read_answer(&frame.payload));
                }
            }
            wire::SHUTDOWN => {
                child.send_frames(&replies);
                return true;
            }
            _ => {}
        }
    }
}

/// How the child runs each of the plugin's tools.
struct Tools {
    /// Async tools, started without a thread (`start_tool`).
    is_async: HashSet<String>,
    /// Tools the plugin marks inline (short, no `Context`): they run on the reader thread, as
    /// they would on the host's I/O thread, two thread hand-offs fewer per call. Their gate
    /// moves a tool that turns out slow to the workers, so one cannot hold up frames for long.
    inline: HashMap<String, Arc<InlineGate>>,
}

impl Tools {
    fn of(generation: &Generation) -> Tools {
        let tools = &generation.manifest.tools;
        let name = |t: &&crate::plugin::manifest::ToolEntry| t.tool.name.to_string();
        let is_async = match generation.starts_async() {
            true => tools
                .iter()
                .filter(|t| t.is_async)
                .map(|t| name(&t))
                .collect(),
            false => HashSet::new(),
        };
        let inline = tools
            .iter()
            .filter(|t| !t.is_async && !t.inline_context && t.inline.is_open())
            .map(|t| (name(&t), t.inline.clone()))
            .collect();
        Tools { is_async, inline }
    }
}

/// Runs call `id`: an inline tool's at once (its reply appended to `replies`, unless it
/// changed the listing), any other as a task that replies when done.
fn start_call(
    child: &Arc<Child>,
    generation: &Arc<Generation>,
    runtime: &tokio::runtime::Runtime,
    tools: &Tools,
    id: u64,
    request: PluginRequest,
    replies: &mut Vec<u8>,
) {
    if let PluginRequest::Tool(tool) = &request
        && let Some(gate) = tools.inline.get(tool.name()).filter(|g| g.is_open())
    {
        let started = std::time::Instant::now();
        let _charged = child.watch.as_ref().map(|w| w.start_call(id));
        let outcome = generation.call_inline(&request, &NullSink);
        gate.record(started.elapsed());
        if generation.listing().is_dirty() {
            // The new listing goes before this reply, as it is when it goes.
            child.send_frames(replies);
            replies.clear();
            child.reply(generation, id, &outcome);
        } else {
            let payload = wire::outcome_payload(&outcome);
            wire::push_frame(replies, wire::REPLY, id, &payload);
        }
        return;
    }
    let cancel = Arc::new(AtomicBool::new(false));
    lock(&child.calls).insert(id, cancel.clone());
    let is_async = matches!(&request, PluginRequest::Tool(t) if tools.is_async.contains(t.name()));
    let sink = Arc::new(ChildSink {
        call: id,
        child: child.clone(),
    });
    let charged = child.watch.as_ref().map(|w| w.start_shared_call(id));
    let (child, generation) = (child.clone(), generation.clone());
    runtime.spawn(async move {
        let _charged = charged;
        let outcome = match request {
            PluginRequest::Tool(tool) if is_async => {
                generation.call_async(&tool, sink, cancel, true).await
            }
            request => generation
                .call(request, sink, cancel)
                .await
                .unwrap_or_else(|_| CallOutcome::Invalid("the plugin closed".into())),
        };
        lock(&child.calls).remove(&id);
        child.reply(&generation, id, &outcome);
    });
}

/// What the child shares between its reader and its running calls.
struct Child {
    /// `--plugin-cpu-limit`: charges each call its share of the CPU time.
    watch: Option<CpuWatch>,
    /// The socket's writing end; one frame per `write_all`, under the lock.
    out: Mutex<UnixStream>,
    /// The cancel flag of each running call.
    calls: Mutex<HashMap<u64, Arc<AtomicBool>>>,
    /// Tools waiting for their client's answer, by request id.
    asks: Mutex<HashMap<u64, mpsc::SyncSender<Result<Value, HostRequestError>>>>,
    next_ask: AtomicU64,
}

impl Child {
    /// Sends one frame. A host that is gone cannot be told; its death ends this process.
    fn send(&self, kind: u8, id: u64, payload: &[u8]) {
        self.send_frames(&wire::frame(kind, id, payload));
    }

    /// Sends whole frames in one write (none if `frames` is empty).
    fn send_frames(&self, frames: &[u8]) {
        if !frames.is_empty() {
            let _ = lock(&self.out).write_all(frames);
        }
    }

    /// Answers call `id`. A call that hid or showed tools or prompts tells the host first, so
    /// the host's catalog has changed by the time the caller gets the answer.
    fn reply(&self, generation: &Generation, id: u64, outcome: &CallOutcome) {
        if generation.listing().take_dirty() {
            self.send(wire::LISTED, 0, &generation.listing().hidden_json());
        }
        self.send(wire::REPLY, id, &wire::outcome_payload(outcome));
    }
}

/// A running call's way to its client: frames to the host.
struct ChildSink {
    call: u64,
    child: Arc<Child>,
}

impl CallSink for ChildSink {
    fn notify(&self, method: &str, params: Value) {
        let note = Outgoing {
            call: self.call,
            method: method.to_owned(),
            params,
            key: None,
        };
        let payload = serde_json::to_vec(&note).unwrap_or_default();
        self.child.send(wire::NOTIFY, self.call, &payload);
    }

    fn notify_raw(&self, method: &str, params: &serde_json::value::RawValue) {
        let note = wire::NoteRef {
            method: method.into(),
            params: Some(params),
        };
        let payload = serde_json::to_vec(&note).unwrap_or_default();
        self.child.send(wire::NOTIFY, self.call, &payload);
    }

    fn request(
        &self,
        method: &str,
        params: Value,
        key: Option<&str>,
        cancel: &AtomicBool,
    ) -> Result<Value, HostRequestError> {
        let id = self.child.next_ask.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::sync_channel(1);
        lock(&self.child.asks).insert(id, tx);
        let ask = Outgoing {
            call: self.call,
            method: method.to_owned(),
            params,
            key: key.map(str::to_owned),
        };
        let payload = serde_json::to_vec(&ask).unwrap_or_default();
        self.child.send(wire::REQUEST, id, &payload);
        loop {
            match rx.recv_timeout(ASK_POLL) {
                Ok(answer) => return answer,
                Err(mpsc::RecvTimeoutError::Timeout) if !cancel.load(Ordering::Relaxed) => {}
                Err(_) => {
                    lock(&self.child.asks).remove(&id);
                    return Err(HostRequestError::Cancelled);
                }
            }
        }
    }
}

/// Makes the kernel kill this process when the host's spawning thread (which lives as long as
/// the host: [`super::spawn`]) ends, and checks the host did not end before that was set.
#[cfg(target_os = "linux")]
fn die_with_parent(parent: u32) -> Result<(), String> {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and no pointers.
    let rc = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
    if rc != 0 {
        return Err(format!(
            "PR_SET_PDEATHSIG: {}",
            std::io::Error::last_os_error()
        ));
    }
    if std::os::unix::process::parent_id() != parent {
        return Err("the host exited before this child started".into());
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(parent: u32) -> Result<(), String> {
    if std::os::unix::process::parent_id() != parent {
        return Err("the host exited before this child started".into());
    }
    Ok(())
}

/// Applies the sandbox and limits of `spec` to this process (`crate::sandbox`), before the
/// plugin's library is opened, so that no plugin code ever runs unconfined. Returns the CPU
/// watch when there is a CPU limit. The directory the child stages its copy of the library
/// in is made first and stays writable.
fn confine(spec: &ChildSpec) -> Result<Option<CpuWatch>, String> {
    let Some(policy) = &spec.policy else {
        return Ok(None);
    };
    let copies = std::env::temp_dir().join(format!("fastmcp-{}", std::process::id()));
    std::fs::create_dir_all(&copies).map_err(|e| format!("{}: {e}", copies.display()))?;
    let policy = policy.clone().with_scratch_dir(&copies);
    let report = sandbox::apply(&policy).map_err(|e| e.to_string())?;
    eprintln!(
        "sandbox: {}",
        serde_json::to_string(&report).unwrap_or_default()
    );
    policy
        .cpu_limit
        .map(CpuWatch::kill_on_overrun)
        .transpose()
        .map_err(|e| e.to_string())
}

/// Returns to the kernel the heap that loading the library used and freed (the file copy, the
/// manifest), so an idle child keeps only what it still holds.
fn give_back_startup_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of malloc's own.
    unsafe {
        libc::malloc_trim(0);
    }
}
