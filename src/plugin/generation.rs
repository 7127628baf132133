//! A generation: one loaded version of one plugin, with its own worker threads (and calls of
//! inline tools on the caller's thread, [`Generation::call_inline`]).
//!
//! Calls hold an `Arc<Generation>`, so a call that started on generation N finishes on N even
//! if N+1 has replaced it. When the last `Arc` goes, a reaper thread joins the generation's
//! workers and only then closes the library, so no code of the library can run after
//! `dlclose` (`shared/reference/plugin-loading.md`).

use std::ffi::c_void;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fastmcp_abi::{
    Buf, STATUS_CANCELLED, STATUS_ERROR, STATUS_INPUT_REQUIRED, STATUS_OK, STATUS_PANIC,
    STATUS_UNSUPPORTED,
};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::PluginError;
use super::library::{Library, RawReply, Staged, host_context};
use super::manifest::{self, Manifest};
use super::pool::{Pool, PoolClosed};
use super::request::PluginRequest;

/// How many calls of one generation may run at once; more wait in its queue.
pub const MAX_WORKERS: usize = 64;

/// Where a running call sends what the tool asks of the client. Implemented by the MCP layer.
pub trait CallSink: Send + Sync {
    /// A notification related to the call (`notifications/progress`, `notifications/message`,
    /// ...). The implementation adds the progress token, applies the log level, or drops it.
    fn notify(&self, method: &str, params: Value);
    /// A request to the client (`sampling/createMessage`, `elicitation/create`, `roots/list`).
    /// Blocks the worker thread until the client answers or `cancel` is set.
    fn request(
        &self,
        method: &str,
        params: Value,
        cancel: &AtomicBool,
    ) -> Result<Value, HostRequestError>;
}

/// Why a request from a tool to the client did not produce an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum HostRequestError {
    /// There is no way to reach the client here (stateless mode, `fastmcp call`).
    Unsupported(String),
    /// The call was cancelled while waiting.
    Cancelled,
    /// Protocol 2026-07-28: the answer must come with the client's retry.
    InputRequired,
    /// The client answered with a JSON-RPC error (`{"code","message","data"?}`).
    Client(Value),
}

/// A sink that reaches nobody: notifications are dropped and requests unsupported.
#[derive(Debug, Default)]
pub struct NullSink;

impl CallSink for NullSink {
    fn notify(&self, _: &str, _: Value) {}
    fn request(&self, method: &str, _: Value, _: &AtomicBool) -> Result<Value, HostRequestError> {
        Err(HostRequestError::Unsupported(format!(
            "{method} is not available here: there is no client connection to send it on"
        )))
    }
}

/// What one plugin call produced.
#[derive(Debug)]
pub enum CallOutcome {
    /// The result JSON (a `CallToolResult`, `ReadResourceResult`, ...).
    Ok(Box<RawValue>),
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
    pub manifest: Manifest,
    /// Hash of the library bytes, to skip reloads of identical files.
    pub content_hash: u64,
    /// Kept in an `Arc` so jobs can point at it; only [`Drop`] releases it.
    library: Arc<Library>,
    pool: Pool,
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("id", &self.id)
            .field("plugin", &self.manifest.name)
            .field("path", &self.library.path())
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
    /// Copies `path` privately, loads it on fresh worker threads and checks its manifest.
    /// Blocking.
    pub fn load(path: &Path, id: u64) -> Result<Arc<Generation>, PluginError> {
        Self::load_staged(super::library::stage(path)?, id)
    }

    /// Like [`Generation::load`] for a copy already staged (and hashed).
    pub fn load_staged(staged: Staged, id: u64) -> Result<Arc<Generation>, PluginError> {
        let path = staged.path.clone();
        let path = path.as_path();
        let hash = staged.hash;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("plugin");
        let stem = stem.strip_prefix("lib").unwrap_or(stem);
        let pool = Pool::new(format!("{stem:.8}-g{id}"), MAX_WORKERS);
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
        Ok(Arc::new(Generation {
            id,
            manifest,
            content_hash: hash,
            library: Arc::new(library),
            pool,
        }))
    }

    /// The file this generation was loaded from.
    pub fn path(&self) -> &Path {
        self.library.path()
    }

    /// Number of worker threads alive right now.
    pub fn worker_threads(&self) -> usize {
        self.pool.threads()
    }

    /// Runs one request on this generation's workers. Resolves when the plugin returns;
    /// setting `cancel` only asks the plugin to stop.
    pub async fn call(
        self: &Arc<Self>,
        request: PluginRequest,
        sink: Arc<dyn CallSink>,
        cancel: Arc<AtomicBool>,
    ) -> Result<CallOutcome, PoolClosed> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let lib = LibraryPtr(Arc::as_ptr(&self.library));
        self.pool.submit(Box::new(move || {
            let lib = lib;
            // SAFETY: see `LibraryPtr`: this job runs on a worker of the generation that owns
            // the library, and workers are joined before the library is dropped.
            let library = unsafe { &*lib.0 };
            let outcome = run_call(library, &request, &*sink, &cancel);
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

    /// Runs one request synchronously (for `fastmcp call`). Blocking.
    pub fn call_blocking(
        self: &Arc<Self>,
        request: PluginRequest,
        sink: Arc<dyn CallSink>,
        cancel: Arc<AtomicBool>,
    ) -> Result<CallOutcome, PoolClosed> {
        let lib = LibraryPtr(Arc::as_ptr(&self.library));
        self.pool.run_blocking(move || {
            let lib = lib;
            // SAFETY: as in `call`.
            let library = unsafe { &*lib.0 };
            run_call(library, &request, &*sink, &cancel)
        })
    }

    /// Runs one request on the calling thread, with no hand-off: for tools whose manifest
    /// says `inline` (short, pure functions without a context). Such a call cannot be timed
    /// out or cancelled, and its notifications and client requests go nowhere.
    ///
    /// The caller's borrow of `self` keeps the library loaded until this returns. The calling
    /// thread must outlive the process's serving (tokio's worker threads do: `main` never
    /// tears the runtime down), because plugin code may leave thread-exit destructors on it
    /// that must not run after a retired generation is closed (`docs/architecture.md`).
    pub fn call_inline(&self, request: &PluginRequest) -> CallOutcome {
        static NEVER_CANCELLED: AtomicBool = AtomicBool::new(false);
        run_call(&self.library, request, &NullSink, &NEVER_CANCELLED)
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        let pool = self.pool.clone();
        let library = self.library.clone();
        let reap = move || {
            pool.shutdown();
            // On a thread of its own that ends before dlclose, so whatever thread-exit
            // destructor the plugin's code might register runs while the library is mapped.
            std::thread::scope(|s| {
                let _ = s.spawn(|| library.unload()).join();
            });
            drop(library);
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

/// The per-call state the host callbacks see through `HostContext::data`.
struct CallState<'a> {
    sink: &'a dyn CallSink,
    cancel: &'a AtomicBool,
}

fn run_call(
    library: &Library,
    request: &PluginRequest,
    sink: &dyn CallSink,
    cancel: &AtomicBool,
) -> CallOutcome {
    let state = CallState { sink, cancel };
    let ctx = host_context(
        (&state as *const CallState<'_>).cast::<c_void>(),
        host_notify,
        host_is_cancelled,
        host_request,
        host_free_buf,
    );
    let RawReply { status, body } = library.request(&ctx, request);
    match status {
        // Checked once and kept as is: the reply's bytes become the result without a copy.
        STATUS_OK => match String::from_utf8(body).map(RawValue::from_string) {
            Ok(Ok(raw)) => CallOutcome::Ok(raw),
            Ok(Err(e)) => CallOutcome::Invalid(format!("the plugin returned invalid JSON: {e}")),
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

#[derive(Deserialize)]
struct Outgoing {
    method: String,
    #[serde(default)]
    params: Value,
}

/// Recovers the call state from the callback's data pointer.
///
/// # Safety
/// `data` must be the pointer `run_call` put in the context, during that call.
unsafe fn state<'a>(data: *const c_void) -> &'a CallState<'a> {
    // SAFETY: guaranteed by the caller: `run_call` keeps the state alive for the whole call.
    unsafe { &*data.cast::<CallState<'a>>() }
}

/// Reads a `(ptr, len)` pair the plugin lends us.
///
/// # Safety
/// `ptr` must point at `len` readable bytes for the duration of the callback.
unsafe fn borrowed<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

unsafe extern "C" fn host_notify(data: *const c_void, ptr: *const u8, len: usize) -> i32 {
    std::panic::catch_unwind(|| {
        // SAFETY: the plugin passes back the context's data pointer during the call, and a
        // buffer it owns for the duration of this callback.
        let (st, bytes) = unsafe { (state(data), borrowed(ptr, len)) };
        match serde_json::from_slice::<Outgoing>(bytes) {
            Ok(n) => {
                st.sink.notify(&n.method, n.params);
                STATUS_OK
            }
            Err(_) => STATUS_ERROR,
        }
    })
    .unwrap_or(STATUS_ERROR)
}

unsafe extern "C" fn host_is_cancelled(data: *const c_void) -> u8 {
    // SAFETY: as in `host_notify`.
    u8::from(unsafe { state(data) }.cancel.load(Ordering::Relaxed))
}

unsafe extern "C" fn host_request(
    data: *const c_void,
    ptr: *const u8,
    len: usize,
    out: *mut Buf,
) -> i32 {
    let (status, body) = std::panic::catch_unwind(|| {
        // SAFETY: as in `host_notify`.
        let (st, bytes) = unsafe { (state(data), borrowed(ptr, len)) };
        let req = match serde_json::from_slice::<Outgoing>(bytes) {
            Ok(r) => r,
            Err(e) => {
                let err = serde_json::json!({"code": -32600, "message": format!("malformed request: {e}")});
                return (STATUS_ERROR, Some(err));
            }
        };
        match st.sink.request(&req.method, req.params, st.cancel) {
            Ok(v) => (STATUS_OK, Some(v)),
            Err(HostRequestError::Client(e)) => (STATUS_ERROR, Some(e)),
            Err(HostRequestError::Unsupported(msg)) => (
                STATUS_UNSUPPORTED,
                Some(serde_json::json!({"code": -32601, "message": msg})),
            ),
            Err(HostRequestError::Cancelled) => (STATUS_CANCELLED, None),
            Err(HostRequestError::InputRequired) => (STATUS_INPUT_REQUIRED, None),
        }
    })
    .unwrap_or_else(|_| {
        (
            STATUS_ERROR,
            Some(serde_json::json!({"code": -32603, "message": "host error"})),
        )
    });
    if !out.is_null() {
        let buf = match body {
            Some(v) => into_buf(serde_json::to_vec(&v).unwrap_or_default()),
            None => Buf::EMPTY,
        };
        // SAFETY: `out` is non-null and the plugin passed it for us to fill.
        unsafe { out.write(buf) };
    }
    status
}

/// Hands a host `Vec` to the plugin; [`host_free_buf`] takes it back.
fn into_buf(v: Vec<u8>) -> Buf {
    let mut v = std::mem::ManuallyDrop::new(v);
    Buf {
        ptr: v.as_mut_ptr(),
        len: v.len(),
        cap: v.capacity(),
    }
}

unsafe extern "C" fn host_free_buf(buf: Buf) {
    if !buf.ptr.is_null() {
        // SAFETY: only buffers made by `into_buf` are handed out with this free function, and
        // the plugin frees each once.
        drop(unsafe { Vec::from_raw_parts(buf.ptr, buf.len, buf.cap) });
    }
}
