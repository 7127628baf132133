//! The host's writing end of a child's socket: frames written whole, under a lock, and on the
//! server's runtime the calls of one turn of it gathered into one write.
//!
//! Each write to the socket wakes the child, which on a shared core then runs instead of the
//! host: one write per call means one switch to the child and back per call. The calls that
//! one batch of requests starts wait here instead, and a writer task sends them together once
//! the runtime has run every task it had ready (`tokio::task::yield_now`), which costs them
//! at most one turn of the runtime. A call alone goes at once: there is nothing to gather.

use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::lock;
use super::wire;

/// Where the host's frames to one child go.
pub(crate) struct Outbox {
    /// The socket, blocking, with a write timeout (a child that stops reading).
    out: Mutex<UnixStream>,
    /// Calls' frames waiting for the writer task.
    queued: Mutex<Vec<u8>>,
    /// Woken when `queued` gets its first frame; unset without a writer task (frames go at
    /// once).
    writer: OnceLock<Arc<tokio::sync::Notify>>,
    /// The connection ended: the writer task stops.
    closed: AtomicBool,
}

impl Outbox {
    pub(crate) fn new(out: UnixStream) -> Outbox {
        Outbox {
            out: Mutex::new(out),
            queued: Mutex::new(Vec::new()),
            writer: OnceLock::new(),
            closed: AtomicBool::new(false),
        }
    }

    /// Sends one frame now, after the calls' frames that wait (a call's cancel never
    /// overtakes it).
    pub(crate) fn send(&self, kind: u8, id: u64, payload: &[u8]) -> io::Result<()> {
        let mut out = lock(&self.out);
        let mut frames = std::mem::take(&mut *lock(&self.queued));
        wire::push_frame(&mut frames, kind, id, payload);
        out.write_all(&frames)
    }

    /// Sends a call's frame: at once when `now` or without a writer task, else with the other
    /// calls of this turn of the runtime.
    pub(crate) fn send_call(&self, id: u64, payload: &[u8], now: bool) -> io::Result<()> {
        let Some(writer) = self.writer.get().filter(|_| !now) else {
            return self.send(wire::CALL, id, payload);
        };
        let mut queued = lock(&self.queued);
        let first = queued.is_empty();
        wire::push_frame(&mut queued, wire::CALL, id, payload);
        drop(queued);
        if first {
            writer.notify_one();
        }
        Ok(())
    }

    /// Sends the calls' frames that wait.
    fn flush(&self) -> io::Result<()> {
        let mut out = lock(&self.out);
        let frames = std::mem::take(&mut *lock(&self.queued));
        match frames.is_empty() {
            true => Ok(()),
            false => out.write_all(&frames),
        }
    }

    /// From now on, calls' frames wait for a writer task on `runtime`, which calls `failed`
    /// when a write fails, and ends with the outbox or once it is closed.
    pub(crate) fn start_writer(
        self: &Arc<Self>,
        runtime: &tokio::runtime::Handle,
        failed: impl Fn() + Send + 'static,
    ) {
        let writer = Arc::new(tokio::sync::Notify::new());
        if self.writer.set(writer.clone()).is_ok() {
            runtime.spawn(write_calls(Arc::downgrade(self), writer, failed));
        }
    }

    /// The connection ended: the writer task stops (what still waits is not sent).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Some(writer) = self.writer.get() {
            writer.notify_one();
        }
    }
}

/// The writer task: sends what waits once the tasks the runtime had ready ran (`yield_now`
/// waits for that), so the calls they started go in one write.
async fn write_calls(outbox: Weak<Outbox>, writer: Arc<tokio::sync::Notify>, failed: impl Fn()) {
    loop {
        writer.notified().await;
        tokio::task::yield_now().await;
        match outbox.upgrade() {
            Some(o) if !o.closed.load(Ordering::SeqCst) => {
                if o.flush().is_err() {
                    failed();
                }
            }
            _ => return,
        }
    }
}
