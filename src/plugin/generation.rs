//! A generation: one loaded version of one plugin, with its own worker threads, its pending
//! async calls ([`Generation::call_async`]), and calls of inline tools on the caller's thread
//! ([`Generation::call_inline`]).
//!
//! Calls hold an `Arc<Generation>`, so a call that started on generation N finishes on N even
//! if N+1 has replaced it. When the last `Arc` goes, a reaper thread cancels the async calls
//! still pending, joins the generation's workers, lets the plugin shut its own runtime down
//! (`unload`), and only then closes the library, so no code of the library can run after
//! `dlclose` (`docs/architecture.md`, "Worker pools and unloading").

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fastmcp_abi::{
    STATUS_CANCELLED, STATUS_ERROR, STATUS_INPUT_REQUIRED, STATUS_OK, STATUS_PANIC,
    STATUS_UNSUPPORTED,
};
use serde::Deserialize;
use serde_json::Value;

use super::PluginError;
use super::callbacks::{CallState, Reach};
use super::library::{Library, RawReply, Staged};
use super::listing::Listing;
use super::manifest::{self, Manifest};
use super::pending::{PendingCalls, Start};
use super::pool::{Pool, PoolClosed, PoolOptions};
use super::request::{PluginRequest, ToolRequest};
use super::sink::CallSink;

mod backend;
use backend::Backend;
pub(crate) use backend::Remote;

/// What one plugin call produced.
#[derive(Debug)]
pub enum CallOutcome {
    /// The result's text (a `CallToolResult`, `ReadResourceResult`, ...), checked to be UTF-8
    /// but not yet to be JSON: the reply checks parse every result whole before it is
    /// forwarded (`super::reply`), so a separate JSON check here would read it twice.
    Ok(String),
    /// A protocol error the plugin reported.
    Error {
        /// JSON-RPC error code.
        code: i32,
        /// Message for the client.
        message: String,
        /// Optional structured data.
        data: Option<Value>,
    },
    /// The plugin panicked; the message names the panic.
    Panic(String),
    /// The call needs client input it will get on a retry (2026-07-28).
    InputRequired,
    /// The plugin stopped because the call was cancelled.
    Cancelled,
    /// The plugin broke the ABI contract (bad status, invalid JSON).
    Invalid(String),
}

/// One loaded version of a plugin.
pub struct Generation {
    /// Increases by one per successful load of the same plugin slot.
    pub id: u64,
    /// What the plugin offers.
    pub(crate) manifest: Manifest,
    /// Hash of the library bytes, to skip reloads of identical files.
    pub(crate) content_hash: u64,
    /// The file the user named.
    path: std::path::PathBuf,
    /// Where the plugin's code runs.
    backend: Backend,
    /// The worker threads of an in-process plugin (an isolated one never starts any).
    pool: Pool,
    /// The tools and prompts the plugin hides right now (`HostContext::set_listed`).
    listing: Arc<Listing>,
    /// Told when the reaper is done (`unload_and_wait`).
    reaped: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>>,
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("id", &self.id)
            .field("plugin", &self.manifest.name)
            .field("path", &self.path)
            .finish()
    }
}

/// A pointer to a generation's library handed to its own worker jobs. Valid because the
/// generation joins its workers before it releases the library.
struct LibraryPtr(*const Library);
// SAFETY: `Library` is `Sync` (function pointers and a libloading handle); the pointer is only
// dereferenced on worker threads that are joined before the library is dropped.
unsafe impl Send for LibraryPtr {}

impl Generation {
    /// Copies `path` privately, loads it on fresh worker threads (with the default
    /// [`PoolOptions`]) and checks its manifest. Blocking.
    pub fn load(path: &Path, id: u64) -> Result<Arc<Generation>, PluginError> {
        Self::load_staged(super::library::stage(path)?, id, PoolOptions::default())
    }

    /// Like [`Generation::load`] for a copy already staged (and hashed), with worker threads
    /// run as `options` say (`--max-blocking-calls`, the tool timeout, metrics).
    pub(crate) fn load_staged(
        staged: Staged,
        id: u64,
        options: PoolOptions,
    ) -> Result<Arc<Generation>, PluginError> {
        let path = staged.path.clone();
        let path = path.as_path();
        let hash = staged.hash;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("plugin");
        let stem = stem.strip_prefix("lib").unwrap_or(stem);
        let pool = Pool::new(format!("{stem:.8}-g{id}"), options);
        let loaded = pool.run_blocking(move || {
            let lib = Library::open(staged)?;
            let reply = lib.manifest();
            Ok::<_, PluginError>((lib, reply))
        });
        let closed = || PluginError::Closed {
            path: path.to_owned(),
        };
        let (library, reply) = match loaded {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                pool.shutdown();
                return Err(e);
            }
            Err(PoolClosed) => return Err(closed()),
        };
        let manifest = match reply.status {
            STATUS_OK => manifest::parse(&reply.body),
            STATUS_PANIC => Err(format!(
                "the plugin panicked: {}",
                error_message(&reply.body)
            )),
            s => Err(format!("status {s}: {}", error_message(&reply.body))),
        };
        let manifest = match manifest {
            Ok(m) => m,
            Err(reason) => {
                // Join the workers, let the plugin free its caches, then close the library.
                pool.shutdown();
                std::thread::scope(|s| {
                    let _ = s.spawn(|| library.unload()).join();
                });
                drop(library);
                return Err(PluginError::Manifest {
                    path: path.to_owned(),
                    reason,
                });
            }
        };
        let pending = PendingCalls::new(library.free_buf_fn(), manifest.name.clone());
        Ok(Arc::new(Generation {
            id,
            listing: Arc::new(Listing::new(&manifest)),
            manifest,
            content_hash: hash,
            path: path.to_owned(),
            backend: Backend::Library {
                library: Arc::new(library),
                pending: Arc::new(pending),
            },
            pool,
            reaped: std::sync::Mutex::new(None),
        }))
    }

    /// The tools and prompts the plugin hides right now.
    pub(crate) fn listing(&self) -> &Listing {
        &self.listing
    }

    /// The file this generation was loaded from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The worker threads (for their usage: `/ready`, metrics).
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs one request on this generation's workers. Resolves when the plugin returns;
    /// setting `cancel` only asks the plugin to stop.
    pub async fn call(
        self: &Arc<Self>,
        request: PluginRequest,
        sink: Arc<dyn CallSink>,
        cancel: Arc<AtomicBool>,
    ) -> Result<CallOutcome, PoolClosed> {
        let library = match &self.backend {
            Backend::Library { library, .. } => library,
            Backend::Child(supervisor) => return Ok(supervisor.call(request, sink, cancel).await),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let lib = LibraryPtr(Arc::as_ptr(library));
        let listing = self.listing.clone();
        self.pool.submit(Box::new(move || {
            // A call that timed out or was cancelled while it waited in the queue never starts:
            // nobody waits for it, and running it could only hold a worker.
            if cancel.load(Ordering::Relaxed) {
                let _ = tx.send(CallOutcome::Cancelled);
                return;
            }
            let lib = lib;
            // SAFETY: see `LibraryPtr`: this job runs on a worker of the generation that owns
            // the library, and workers are joined before the library is dropped.
            let library = unsafe { &*lib.0 };
            let outcome = run_call(library, &request, &*sink, &cancel, Some(&listing));
            if cancel.load(Ordering::Relaxed) {
                // Nobody may be waiting any more (a client that went away, a timeout): say so.
                let ended = match &outcome {
                    CallOutcome::Ok(_) => "returned",
                    CallOutcome::Cancelled => "stopped",
                    _ => "failed",
                };
                tracing::info!(plugin = %library.path().display(), ended, "cancelled call finished");
            }
            let _ = tx.send(outcome);
        }))?;
        rx.await.map_err(|_| PoolClosed)
    }

    /// Whether the tool calls marked async can be started without a thread (the plugin has
    /// `start_tool`, ABI 1.2); otherwise they run on the workers like any other.
    pub(crate) fn starts_async(&self) -> bool {
        match &self.backend {
            Backend::Library { library, .. } => library.has_start_tool(),
            // The child decides; the host awaits every call the same way.
            Backend::Child(_) => false,
        }
    }

    /// Runs an async tool's call: started here, on the calling (I/O) thread, and awaited
    /// without holding a thread until the plugin completes it. Dropping the future (a client
    /// that went away, a timeout) cancels the call: the flag is set and the plugin is asked to
    /// drop its work. With `watch_cancel`, a flag set by someone else (a client's
    /// `notifications/cancelled`) is noticed within [`CANCEL_WATCH`] and passed on the same way.
    pub(crate) async fn call_async(
        self: &Arc<Self>,
        request: &ToolRequest,
        sink: Arc<dyn CallSink>,
        cancel: Arc<AtomicBool>,
        watch_cancel: bool,
    ) -> CallOutcome {
        let (library, pending) = match &self.backend {
            Backend::Library { library, pending } => (library, pending),
            Backend::Child(supervisor) => {
                let request = PluginRequest::Tool(request.clone());
                return supervisor.call(request, sink, cancel).await;
            }
        };
        let (id, mut answer) =
            match pending.start(library, request, sink, cancel.clone(), self.listing.clone()) {
                Start::Pending(id, answer) => (id, answer),
                Start::Answered(reply) => return outcome(reply),
                Start::Unsupported => {
                    return CallOutcome::Invalid("the plugin cannot start async calls".into());
                }
            };
        let mut guard = CancelPending {
            library,
            id,
            cancel: &cancel,
            armed: true,
        };
        let reply = if watch_cancel {
            watch_cancel_flag(&mut answer, library, id, &cancel).await
        } else {
            // Nobody else can set the flag: no timer (a disabled `select!` branch would still
            // build one per call).
            (&mut answer).await
        };
        guard.armed = false;
        match reply {
            Ok(reply) => outcome(reply),
            Err(_) => CallOutcome::Invalid("the plugin was unloaded before it completed".into()),
        }
    }

    /// Runs one request synchronously (for `fastmcp call`). Blocking.
    pub fn call_blocking(
        self: &Arc<Self>,
        request: PluginRequest,
        sink: Arc<dyn CallSink>,
        cancel: Arc<AtomicBool>,
    ) -> Result<CallOutcome, PoolClosed> {
        let library = match &self.backend {
            Backend::Library { library, .. } => library,
            Backend::Child(supervisor) => {
                let supervisor = supervisor.clone();
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|_| PoolClosed)?;
                return Ok(runtime.block_on(supervisor.call(request, sink, cancel)));
            }
        };
        let lib = LibraryPtr(Arc::as_ptr(library));
        self.pool.run_blocking(move || {
            let lib = lib;
            // SAFETY: as in `call`.
            let library = unsafe { &*lib.0 };
            // One call in a process of its own: no catalog to change.
            run_call(library, &request, &*sink, &cancel, None)
        })
    }

    /// Runs one request on the calling thread, with no hand-off: for tools whose manifest
    /// says `inline` (short functions). Such a call cannot be timed out or cancelled; its
    /// notifications and client requests go to `sink`, which must never block (the calling
    /// thread is an I/O thread).
    ///
    /// The caller's borrow of `self` keeps the library loaded until this returns. The calling
    /// thread must outlive the process's serving (tokio's worker threads do: `main` never
    /// tears the runtime down), because plugin code may leave thread-exit destructors on it
    /// that must not run after a retired generation is closed (`docs/architecture.md`).
    pub(crate) fn call_inline(&self, request: &PluginRequest, sink: &dyn CallSink) -> CallOutcome {
        static NEVER_CANCELLED: AtomicBool = AtomicBool::new(false);
        match &self.backend {
            Backend::Library { library, .. } => run_call(
                library,
                request,
                sink,
                &NEVER_CANCELLED,
                Some(&self.listing),
            ),
            // `Service::with_tool` never picks inline for an isolated plugin.
            Backend::Child(_) => {
                CallOutcome::Invalid("an isolated plugin runs nothing inline".into())
            }
        }
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        let reaped = self.reaped.lock().unwrap_or_else(|e| e.into_inner()).take();
        let (library, pending) = match &self.backend {
            Backend::Library { library, pending } => (library.clone(), pending.clone()),
            Backend::Child(supervisor) => {
                // Every call is done (each held an `Arc` of this generation): stop the child.
                supervisor.close();
                drop(reaped);
                return;
            }
        };
        let pool = self.pool.clone();
        let watch = super::leaks::Watch::new(&self.manifest.name, &library);
        let reap = move || {
            // Nobody waits for an async call still running: stop it, so the plugin's runtime
            // shuts down quickly at unload.
            pending.cancel_all(&library);
            pool.shutdown();
            // On a thread of its own that ends before dlclose, so whatever thread-exit
            // destructor the plugin's code might register runs while the library is mapped.
            std::thread::scope(|s| {
                let _ = s.spawn(|| library.unload()).join();
            });
            // dlclose, then check the copy is gone (`leaks`).
            watch.close(library);
            // Only now: a completion may come in until `unload` has returned.
            drop(pending);
            if let Some(tx) = reaped {
                let _ = tx.send(());
            }
        };
        // Joining may wait for a call that ignores cancellation; never block the caller on it.
        if std::thread::Builder::new()
            .name("fastmcp-reaper".into())
            .spawn(reap)
            .is_err()
        {
            tracing::warn!("could not start a reaper thread; a retired plugin stays loaded");
        }
    }
}

/// How often an async call whose cancel flag others may set looks at it.
pub(crate) const CANCEL_WATCH: std::time::Duration = std::time::Duration::from_millis(100);

/// Awaits `answer`, looking at `cancel` every [`CANCEL_WATCH`]: once it is set, the plugin is
/// asked to drop the call `id` (once), and the answer (`STATUS_CANCELLED`, or a result that won
/// the race) is still awaited.
async fn watch_cancel_flag(
    answer: &mut tokio::sync::oneshot::Receiver<RawReply>,
    library: &Library,
    id: u64,
    cancel: &AtomicBool,
) -> Result<RawReply, tokio::sync::oneshot::error::RecvError> {
    loop {
        tokio::select! {
            reply = &mut *answer => return reply,
            () = tokio::time::sleep(CANCEL_WATCH) => {
                if cancel.load(Ordering::Relaxed) {
                    library.cancel_call(id);
                    return answer.await;
                }
            }
        }
    }
}

/// Cancels a pending async call when the future awaiting it is dropped before the answer.
struct CancelPending<'a> {
    library: &'a Library,
    id: u64,
    cancel: &'a AtomicBool,
    armed: bool,
}

impl Drop for CancelPending<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.cancel.store(true, Ordering::Relaxed);
            self.library.cancel_call(self.id);
        }
    }
}

fn run_call(
    library: &Library,
    request: &PluginRequest,
    sink: &dyn CallSink,
    cancel: &AtomicBool,
    listing: Option<&Listing>,
) -> CallOutcome {
    let state = CallState {
        sink,
        cancel,
        listing,
    };
    let ctx = state.context();
    outcome(library.request(&ctx, request))
}

/// Maps a plugin's status and reply to a call outcome.
pub(super) fn outcome(RawReply { status, body }: RawReply) -> CallOutcome {
    match status {
        // Checked once and kept as is: the reply's bytes become the result without a copy.
        STATUS_OK => match String::from_utf8(body) {
            Ok(text) => CallOutcome::Ok(text),
            Err(_) => CallOutcome::Invalid("the plugin returned a reply that is not UTF-8".into()),
        },
        STATUS_ERROR | STATUS_UNSUPPORTED => {
            #[derive(Deserialize)]
            struct E {
                code: Option<i32>,
                message: Option<String>,
                data: Option<Value>,
            }
            match serde_json::from_slice::<E>(&body) {
                Ok(e) => CallOutcome::Error {
                    code: e.code.unwrap_or(-32603),
                    message: e.message.unwrap_or_else(|| "plugin error".into()),
                    data: e.data,
                },
                Err(_) => CallOutcome::Invalid("the plugin returned an unreadable error".into()),
            }
        }
        STATUS_PANIC => CallOutcome::Panic(error_message(&body)),
        STATUS_INPUT_REQUIRED => CallOutcome::InputRequired,
        STATUS_CANCELLED => CallOutcome::Cancelled,
        other => CallOutcome::Invalid(format!("the plugin returned unknown status {other}")),
    }
}

/// The `message` of an error object, or the body as text.
fn error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct M {
        message: String,
    }
    serde_json::from_slice::<M>(body)
        .map(|m| m.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned())
}
