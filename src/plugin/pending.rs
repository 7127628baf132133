//! Calls of async tools (ABI 1.2 `start_tool`): started on the I/O thread that read the
//! request, completed by the plugin from any thread, awaited without holding a thread.
//!
//! Each generation has one [`PendingCalls`] table. An entry holds a call's host state (sink,
//! cancel flag, the `HostContext` the plugin was given) and the channel its answer goes to, from
//! just before `start_tool` until the plugin's completion: the context stays valid exactly as
//! long as the ABI promises, whatever became of the request meanwhile. The completion's `data`
//! is the table itself, which the generation keeps until the plugin's `unload` has returned
//! (`Generation::drop`). So a completion that comes late, during unload or twice finds the
//! table; an id it no longer holds is ignored and its reply freed. A call the plugin never
//! completes is answered by the tool timeout and its entry freed with the table.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use fastmcp_abi::{Buf, Completion, HostContext};
use rustc_hash::FxHashMap;
use tokio::sync::oneshot;

use super::callbacks::{OwnedState, Reach};
use super::library::{Library, RawReply, Started, take_buf};
use super::request::ToolRequest;
use super::sink::CallSink;

/// The async calls of one generation that the plugin has not completed yet.
pub(crate) struct PendingCalls {
    next_id: AtomicU64,
    calls: Mutex<FxHashMap<u64, Box<Entry>>>,
    /// The plugin's `free_buf`, for completion replies.
    free_buf: unsafe extern "C" fn(Buf),
    /// Whether a completion for an unknown id was already logged (once per generation).
    warned: AtomicBool,
    plugin: String,
}

impl std::fmt::Debug for PendingCalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingCalls")
            .field("plugin", &self.plugin)
            .field("pending", &self.len())
            .finish()
    }
}

/// One call between `start_tool` and its completion. Boxed (one allocation for the state and
/// the context pointing at it), so the plugin's pointer to `ctx` and the context's pointer to
/// `state` stay put while the map moves entries around.
struct Entry {
    state: OwnedState,
    ctx: HostContext,
    answer: Option<oneshot::Sender<RawReply>>,
}

// SAFETY: `ctx` only holds a pointer to `state` (in the same box) and function pointers;
// `state` is `Send + Sync` (an `Arc<dyn CallSink>`, an `Arc<AtomicBool>`, an `Arc<Listing>`).
unsafe impl Send for Entry {}

/// What starting a call gave.
pub(crate) enum Start {
    /// The plugin answered at once.
    Answered(RawReply),
    /// The call runs on: await the receiver; `id` names it for `cancel_call`.
    Pending(u64, oneshot::Receiver<RawReply>),
    /// The plugin has no `start_tool`.
    Unsupported,
}

impl PendingCalls {
    /// An empty table for a library whose replies `free_buf` frees.
    pub(crate) fn new(free_buf: unsafe extern "C" fn(Buf), plugin: String) -> Self {
        PendingCalls {
            next_id: AtomicU64::new(1),
            calls: Mutex::new(FxHashMap::default()),
            free_buf,
            warned: AtomicBool::new(false),
            plugin,
        }
    }

    fn lock(&self) -> MutexGuard<'_, FxHashMap<u64, Box<Entry>>> {
        // The map is consistent between statements: a panic elsewhere cannot break it.
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many calls the plugin has not completed.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Starts `request` on `library` through `start_tool`. `self` must be the table that
    /// library's generation keeps until after `unload` (the completion points to it).
    pub(crate) fn start(
        &self,
        library: &Library,
        request: &ToolRequest,
        sink: Arc<dyn CallSink>,
        cancel: Arc<AtomicBool>,
        listing: Arc<super::listing::Listing>,
    ) -> Start {
        if !library.has_start_tool() {
            return Start::Unsupported;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let state = OwnedState {
            sink,
            cancel,
            listing,
        };
        let mut entry = Box::new(Entry {
            // Replaced below, once the state has its place in the box.
            ctx: state.context(),
            state,
            answer: Some(tx),
        });
        entry.ctx = entry.state.context();
        let ctx: *const HostContext = &entry.ctx;
        // In the table before the plugin sees it: the completion may come before
        // `start_tool` returns, on another thread.
        self.lock().insert(id, entry);
        let done = Completion {
            size: size_of::<Completion>() as u32,
            call_id: id,
            data: (self as *const PendingCalls).cast::<c_void>(),
            complete,
        };
        // SAFETY: `ctx` lives in the boxed entry, which stays in the table until the plugin
        // completes the call (or until the table is dropped, after `unload`), and `done.data`
        // is this table, which the generation keeps until after `unload`.
        let started = unsafe { library.start_tool(ctx, &request.abi(), &done) };
        match started {
            Some(Started::Pending) => Start::Pending(id, rx),
            Some(Started::Answered(reply)) => {
                self.lock().remove(&id);
                Start::Answered(reply)
            }
            None => {
                self.lock().remove(&id);
                Start::Unsupported
            }
        }
    }

    /// Marks every call still pending as cancelled and asks the plugin to stop each one: the
    /// generation is being retired and nobody waits for them any more.
    pub(crate) fn cancel_all(&self, library: &Library) {
        let ids: Vec<u64> = {
            let calls = self.lock();
            for entry in calls.values() {
                entry.state.cancel.store(true, Ordering::Relaxed);
            }
            calls.keys().copied().collect()
        };
        for id in ids {
            library.cancel_call(id);
        }
    }

    /// A completion arrived: hand the reply to whoever waits (nobody, if the request is gone).
    fn complete(&self, call_id: u64, reply: RawReply) {
        let entry = self.lock().remove(&call_id);
        match entry {
            Some(mut entry) => {
                if let Some(answer) = entry.answer.take() {
                    let _ = answer.send(reply);
                }
            }
            None => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        plugin = %self.plugin,
                        call_id,
                        "the plugin completed a call that is not pending (twice, or never \
                         started); ignored"
                    );
                }
            }
        }
    }
}

/// `Completion::complete`: called by the plugin once per pending call, from any thread.
unsafe extern "C" fn complete(data: *const c_void, call_id: u64, status: i32, reply: Buf) {
    let done = std::panic::catch_unwind(|| {
        // SAFETY: `data` is the table `PendingCalls::start` put in the completion, which the
        // generation keeps alive until after the plugin's `unload` has returned.
        let table = unsafe { &*data.cast::<PendingCalls>() };
        // SAFETY: the reply is the plugin's, handed over once, and the plugin is loaded while
        // it runs code that calls us.
        let reply = unsafe { take_buf(table.free_buf, status, reply) };
        table.complete(call_id, reply);
    });
    if done.is_err() {
        tracing::error!(
            call_id,
            "a completion panicked in the host; the call's reply is lost"
        );
    }
}
