//! The test host's side of the `HostContext`: what it records ([`HostState`]), the state of
//! one call ([`CallData`]) and the `extern "C"` callbacks the plugin calls.

use std::collections::VecDeque;
use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use fastmcp_abi::{ABI_VERSION, Buf, HostContext, STATUS_OK, STATUS_UNSUPPORTED};
use serde_json::{Value, json};

/// What one `TestHost` records and answers, shared by its calls.
#[derive(Debug, Default)]
pub(super) struct HostState {
    pub notifications: Mutex<Vec<Value>>,
    pub requests: Mutex<Vec<Value>>,
    pub answers: Mutex<VecDeque<(i32, Value)>>,
    /// `TestHost::cancel`: every call counts as cancelled.
    pub cancelled: AtomicBool,
}

/// One call's host state: what `HostContext::data` points to.
#[derive(Debug)]
pub(super) struct CallData {
    pub host: Arc<HostState>,
    /// This call was cancelled (`Pending::cancel`).
    pub cancelled: AtomicBool,
}

impl CallData {
    pub fn new(host: Arc<HostState>) -> Self {
        CallData {
            host,
            cancelled: AtomicBool::new(false),
        }
    }

    /// The callbacks, with `data` pointing at `self`: valid while `self` does not move.
    pub fn context(&self) -> HostContext {
        HostContext {
            abi_version: ABI_VERSION,
            size: size_of::<HostContext>() as u32,
            data: std::ptr::from_ref::<CallData>(self).cast(),
            notify,
            is_cancelled,
            request: host_request,
            free_buf: host_free_buf,
            set_listed: host_set_listed,
        }
    }
}

/// The test host serves no catalog: lists cannot change here.
unsafe extern "C" fn host_set_listed(
    _: *const c_void,
    _: u32,
    _: *const u8,
    _: usize,
    _: u8,
) -> i32 {
    fastmcp_abi::STATUS_UNSUPPORTED
}

/// Locks, ignoring poison: the callbacks must not panic (they are `extern "C"`).
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// # Safety
/// `data` is a live `CallData`; `ptr` holds `len` bytes.
unsafe fn message<'a>(data: *const c_void, ptr: *const u8, len: usize) -> (&'a CallData, Value) {
    // SAFETY: guaranteed by the caller; the plugin passes back the `data` we gave it.
    let (call, bytes) = unsafe {
        (
            &*data.cast::<CallData>(),
            std::slice::from_raw_parts(ptr, len),
        )
    };
    (call, serde_json::from_slice(bytes).unwrap_or(Value::Null))
}

unsafe extern "C" fn notify(data: *const c_void, ptr: *const u8, len: usize) -> i32 {
    // SAFETY: the plugin calls back with our `data` and a valid message.
    let (call, message) = unsafe { message(data, ptr, len) };
    lock(&call.host.notifications).push(message);
    STATUS_OK
}

unsafe extern "C" fn is_cancelled(data: *const c_void) -> u8 {
    // SAFETY: the plugin calls back with our `data`.
    let call = unsafe { &*data.cast::<CallData>() };
    let cancelled =
        call.cancelled.load(Ordering::SeqCst) || call.host.cancelled.load(Ordering::SeqCst);
    u8::from(cancelled)
}

unsafe extern "C" fn host_request(
    data: *const c_void,
    ptr: *const u8,
    len: usize,
    out: *mut Buf,
) -> i32 {
    // SAFETY: the plugin calls back with our `data` and a valid message.
    let (call, message) = unsafe { message(data, ptr, len) };
    let method = message["method"].as_str().unwrap_or_default().to_owned();
    lock(&call.host.requests).push(message);
    let (status, body) = lock(&call.host.answers).pop_front().unwrap_or_else(|| {
        let message = format!("the test host has no answer for {method}");
        (
            STATUS_UNSUPPORTED,
            json!({"code": -32601, "message": message}),
        )
    });
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let mut bytes = ManuallyDrop::new(bytes);
    let buf = Buf {
        ptr: bytes.as_mut_ptr(),
        len: bytes.len(),
        cap: bytes.capacity(),
    };
    // SAFETY: the plugin passes a writable `Buf`.
    unsafe { out.write(buf) };
    status
}

unsafe extern "C" fn host_free_buf(buf: Buf) {
    if buf.cap != 0 {
        // SAFETY: built in `host_request` from a leaked `Vec<u8>` with these parts.
        drop(unsafe { Vec::from_raw_parts(buf.ptr, buf.len, buf.cap) });
    }
}
