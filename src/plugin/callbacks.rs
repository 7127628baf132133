//! The host's side of [`HostContext`]: the callbacks through which a running plugin call
//! reaches its client (`notify`, `is_cancelled`, `request`, `free_buf`), and through which it
//! shows or hides its own tools and prompts (`set_listed`).
//!
//! The callbacks find the call's sink and cancel flag through `HostContext::data`, which points
//! to a [`Reach`]: a [`CallState`] borrowed for the length of one call on a host thread, or an
//! [`OwnedState`] that the pending-call table keeps until the plugin completes an async call
//! (`super::pending`). Every callback is thread-safe, as ABI 1.2 promises: the sink is
//! `Send + Sync` and the flag atomic.

use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fastmcp_abi::{
    Buf, HostContext, STATUS_CANCELLED, STATUS_ERROR, STATUS_INPUT_REQUIRED, STATUS_OK,
    STATUS_UNSUPPORTED,
};
use serde::Deserialize;
use serde_json::Value;

use super::library::host_context;
use super::listing::{Listed, Listing};
use super::sink::{CallSink, HostRequestError};

/// What the callbacks need of a call: where its messages go and whether it was cancelled.
pub(super) trait Reach {
    fn sink(&self) -> &dyn CallSink;
    fn cancel(&self) -> &AtomicBool;
    /// The calling generation's hidden names; `None` where lists cannot change.
    fn listing(&self) -> Option<&Listing>;

    /// The context to hand the plugin, pointing back at `self`. Valid while `self` is alive
    /// and not moved.
    fn context(&self) -> HostContext
    where
        Self: Sized,
    {
        host_context(
            (self as *const Self).cast::<c_void>(),
            host_notify::<Self>,
            host_is_cancelled::<Self>,
            host_request::<Self>,
            host_free_buf,
            host_set_listed::<Self>,
        )
    }
}

/// The state of a call that runs on a host thread and returns before its state goes.
pub(super) struct CallState<'a> {
    pub(super) sink: &'a dyn CallSink,
    pub(super) cancel: &'a AtomicBool,
    pub(super) listing: Option<&'a Listing>,
}

impl Reach for CallState<'_> {
    fn sink(&self) -> &dyn CallSink {
        self.sink
    }
    fn cancel(&self) -> &AtomicBool {
        self.cancel
    }
    fn listing(&self) -> Option<&Listing> {
        self.listing
    }
}

/// The state of an async call, owned by its entry in the pending-call table.
pub(super) struct OwnedState {
    pub(super) sink: Arc<dyn CallSink>,
    pub(super) cancel: Arc<AtomicBool>,
    pub(super) listing: Arc<Listing>,
}

impl Reach for OwnedState {
    fn sink(&self) -> &dyn CallSink {
        &*self.sink
    }
    fn cancel(&self) -> &AtomicBool {
        &self.cancel
    }
    fn listing(&self) -> Option<&Listing> {
        Some(&self.listing)
    }
}

#[derive(Deserialize)]
struct Outgoing {
    method: String,
    #[serde(default)]
    params: Value,
    /// The name the plugin gave a request (SDK `Context::request_keyed`).
    #[serde(default)]
    key: Option<String>,
}

/// Recovers the call state from the callback's data pointer.
///
/// # Safety
/// `data` must be the pointer a [`Reach::context`] of type `R` put in the context, while that
/// state is alive.
unsafe fn state<'a, R: Reach>(data: *const c_void) -> &'a R {
    // SAFETY: guaranteed by the caller: the state outlives the call (or, for async calls,
    // lives until the plugin completes it, after which it may not call back).
    unsafe { &*data.cast::<R>() }
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

unsafe extern "C" fn host_notify<R: Reach>(data: *const c_void, ptr: *const u8, len: usize) -> i32 {
    std::panic::catch_unwind(|| {
        // SAFETY: the plugin passes back the context's data pointer during the call, and a
        // buffer it owns for the duration of this callback.
        let (st, bytes) = unsafe { (state::<R>(data), borrowed(ptr, len)) };
        match serde_json::from_slice::<super::sink::NoteRef>(bytes) {
            Ok(n) => {
                let params = n.params.unwrap_or(serde_json::value::RawValue::NULL);
                st.sink().notify_raw(&n.method, params);
                STATUS_OK
            }
            Err(_) => STATUS_ERROR,
        }
    })
    .unwrap_or(STATUS_ERROR)
}

unsafe extern "C" fn host_set_listed<R: Reach>(
    data: *const c_void,
    kind: u32,
    ptr: *const u8,
    len: usize,
    listed: u8,
) -> i32 {
    std::panic::catch_unwind(|| {
        // SAFETY: as in `host_notify`: the context's data pointer during the call, and a name
        // the plugin owns for the duration of this callback.
        let (st, bytes) = unsafe { (state::<R>(data), borrowed(ptr, len)) };
        let Some(listing) = st.listing() else {
            return STATUS_UNSUPPORTED;
        };
        let (Some(kind), Ok(name)) = (Listed::from_abi(kind), std::str::from_utf8(bytes)) else {
            return STATUS_ERROR;
        };
        match listing.set(kind, name, listed != 0) {
            Some(_) => STATUS_OK,
            None => STATUS_ERROR,
        }
    })
    .unwrap_or(STATUS_ERROR)
}

unsafe extern "C" fn host_is_cancelled<R: Reach>(data: *const c_void) -> u8 {
    // SAFETY: as in `host_notify`.
    u8::from(unsafe { state::<R>(data) }.cancel().load(Ordering::Relaxed))
}

unsafe extern "C" fn host_request<R: Reach>(
    data: *const c_void,
    ptr: *const u8,
    len: usize,
    out: *mut Buf,
) -> i32 {
    let (status, body) = std::panic::catch_unwind(|| {
        // SAFETY: as in `host_notify`.
        let (st, bytes) = unsafe { (state::<R>(data), borrowed(ptr, len)) };
        ask_client(st.sink(), st.cancel(), bytes)
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

/// Sends a tool's request to the client and maps the answer to a status and body.
fn ask_client(sink: &dyn CallSink, cancel: &AtomicBool, bytes: &[u8]) -> (i32, Option<Value>) {
    let req = match serde_json::from_slice::<Outgoing>(bytes) {
        Ok(r) => r,
        Err(e) => {
            let err =
                serde_json::json!({"code": -32600, "message": format!("malformed request: {e}")});
            return (STATUS_ERROR, Some(err));
        }
    };
    match sink.request(&req.method, req.params, req.key.as_deref(), cancel) {
        Ok(v) => (STATUS_OK, Some(v)),
        Err(HostRequestError::Client(e)) => (STATUS_ERROR, Some(e)),
        Err(HostRequestError::Unsupported(msg)) => (
            STATUS_UNSUPPORTED,
            Some(serde_json::json!({"code": -32601, "message": msg})),
        ),
        Err(HostRequestError::Cancelled) => (STATUS_CANCELLED, None),
        Err(HostRequestError::InputRequired) => (STATUS_INPUT_REQUIRED, None),
    }
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
