//! The `extern "C"` functions the host calls, and the table that holds them.
//!
//! Every shim body runs inside `catch_unwind`: a panic must never unwind into the host (that
//! aborts the process). A quiet panic hook keeps caught panics off the plugin's stdout/stderr
//! (stdout may be the MCP stdio transport) and away from `std::thread::current()`, which would
//! leave a thread-exit destructor pointing into the library after it is unloaded.

use std::any::Any;
use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicPtr, Ordering};

use fastmcp_abi::{
    ABI_VERSION, Buf, Completion, HostContext, PluginTable, STATUS_ERROR, Str, ToolCall,
};

use crate::dispatch::{Registry, Response};

/// Gives the shims the plugin's registry; `export_plugin!` implements it on a local type whose
/// `registry()` fills a [`RegistryCell`] on first use and whose `release()` empties it.
#[doc(hidden)]
pub trait PluginSource {
    fn registry() -> &'static Registry;
    fn release();
}

/// The plugin's registry, built on first use and freed by `unload`, so an unloaded library
/// leaves nothing allocated behind (a `OnceLock` could never give its value back).
#[doc(hidden)]
#[derive(Debug)]
pub struct RegistryCell(AtomicPtr<Registry>);

impl RegistryCell {
    /// An empty cell.
    pub const fn new() -> Self {
        RegistryCell(AtomicPtr::new(std::ptr::null_mut()))
    }

    /// The registry, built by `init` the first time.
    pub fn get_or_init(&'static self, init: impl FnOnce() -> Registry) -> &'static Registry {
        let current = self.0.load(Ordering::Acquire);
        if !current.is_null() {
            // SAFETY: a non-null pointer came from `Box::into_raw` below and is only freed by
            // `release`, which the host calls after the last call (the ABI's `unload` contract).
            return unsafe { &*current };
        }
        let fresh = Box::into_raw(Box::new(init()));
        match self.0.compare_exchange(
            std::ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: as above; `fresh` is now the cell's value.
            Ok(_) => unsafe { &*fresh },
            Err(existing) => {
                // Another thread won the race: drop ours, use theirs.
                // SAFETY: `fresh` came from `Box::into_raw` and was never shared.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: as above.
                unsafe { &*existing }
            }
        }
    }

    /// Frees the registry (the ABI's `unload`: nothing runs after it).
    pub fn release(&self) {
        let current = self.0.swap(std::ptr::null_mut(), Ordering::AcqRel);
        if !current.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` and is taken out of the cell once.
            drop(unsafe { Box::from_raw(current) });
        }
    }
}

impl Default for RegistryCell {
    fn default() -> Self {
        Self::new()
    }
}

/// The table `fastmcp_plugin_entry` returns, with the shims instantiated for `P`.
#[doc(hidden)]
pub const fn table<P: PluginSource>() -> PluginTable {
    PluginTable {
        abi_version: ABI_VERSION,
        size: size_of::<PluginTable>() as u32,
        manifest: manifest::<P>,
        call: call::<P>,
        free_buf,
        unload: unload::<P>,
        call_tool: call_tool::<P>,
        start_tool: start_tool::<P>,
        cancel_call,
    }
}

/// # Safety
/// As `PluginTable::start_tool`. No tool runs asynchronously yet: every call is answered now,
/// as `call_tool` answers it, and `done` is never called.
unsafe extern "C" fn start_tool<P: PluginSource>(
    ctx: *const HostContext,
    call: *const ToolCall,
    _done: *const Completion,
    out: *mut Buf,
) -> i32 {
    // SAFETY: the same contract as `call_tool` for `ctx`, `call` and `out`.
    unsafe { call_tool::<P>(ctx, call, out) }
}

/// Nothing is ever pending, so there is nothing to cancel.
unsafe extern "C" fn cancel_call(_call_id: u64) {}

/// Frees the registry and the panic hook; called once by the host right before `dlclose`.
unsafe extern "C" fn unload<P: PluginSource>() {
    let released = catch_unwind(|| {
        P::release();
        // Puts std's default hook back and drops ours (and the one it wrapped).
        drop(std::panic::take_hook());
    });
    if let Err(payload) = released {
        drop_payload(payload);
    }
}

/// # Safety
/// `out` must be null or point to a writable `Buf`.
unsafe extern "C" fn manifest<P: PluginSource>(out: *mut Buf) -> i32 {
    guarded(out, "building the manifest", || {
        Response::ok(P::registry().manifest().to_vec())
    })
}

/// # Safety
/// As `PluginTable::call`: `req_ptr` holds `req_len` bytes, `ctx` is null or valid, `out` is
/// null or writable, all until this returns.
unsafe extern "C" fn call<P: PluginSource>(
    ctx: *const HostContext,
    req_ptr: *const u8,
    req_len: usize,
    out: *mut Buf,
) -> i32 {
    guarded(out, "handling a request", || {
        let request = if req_ptr.is_null() {
            &[][..]
        } else {
            // SAFETY: the host passes `req_len` readable bytes at `req_ptr`, valid until this
            // function returns.
            unsafe { std::slice::from_raw_parts(req_ptr, req_len) }
        };
        // SAFETY: the host keeps `ctx` (when non-null) valid until this function returns.
        unsafe { P::registry().handle(ctx, request) }
    })
}

/// # Safety
/// As `PluginTable::call_tool`: `call` is null or points to a `ToolCall` (at least its `size`)
/// whose strings are readable, `ctx` is null or valid, `out` is null or writable, all until
/// this returns.
unsafe extern "C" fn call_tool<P: PluginSource>(
    ctx: *const HostContext,
    call: *const ToolCall,
    out: *mut Buf,
) -> i32 {
    guarded(out, "handling a request", || {
        // SAFETY: the host passes a valid `ToolCall` (or null), alive until this returns.
        let Some((name, arguments, context)) = (unsafe { tool_call_parts(call) }) else {
            return Response::invalid_request("the tool call is missing or not UTF-8".into());
        };
        // SAFETY: the host keeps `ctx` (when non-null) valid until this function returns.
        unsafe { P::registry().handle_tool(ctx, name, arguments, context) }
    })
}

/// The name, arguments (absent when empty) and context (absent when empty) of a `ToolCall`;
/// `None` if it is null, older than the fields we read, or holds text that is not UTF-8.
///
/// # Safety
/// `call` is null or points to a `ToolCall` whose strings are readable for `'a`.
unsafe fn tool_call_parts<'a>(
    call: *const ToolCall,
) -> Option<(&'a str, Option<&'a str>, Option<&'a str>)> {
    if call.is_null() {
        return None;
    }
    // SAFETY: non-null and, by the caller, a `ToolCall`: its first field is the size.
    let size = unsafe { (*call).size } as usize;
    if size < size_of::<ToolCall>() {
        return None;
    }
    // SAFETY: the size covers every field we know.
    let call = unsafe { &*call };
    // SAFETY: the host passes `len` readable bytes at each `ptr`, valid until we return.
    let text = |s: Str| unsafe { str_of(s) };
    let non_empty = |s: &'a str| (!s.is_empty()).then_some(s);
    let name = text(call.name)?;
    let arguments = text(call.arguments)?;
    let context = text(call.context)?;
    Some((name, non_empty(arguments), non_empty(context)))
}

/// The text of a `Str`, checked to be UTF-8; `None` for a null pointer with a length.
///
/// # Safety
/// `s.ptr` points to `s.len` readable bytes for `'a` (or `s.len` is 0).
unsafe fn str_of<'a>(s: Str) -> Option<&'a str> {
    if s.len == 0 {
        return Some("");
    }
    if s.ptr.is_null() {
        return None;
    }
    // SAFETY: by the caller.
    std::str::from_utf8(unsafe { std::slice::from_raw_parts(s.ptr, s.len) }).ok()
}

/// # Safety
/// `buf` must be one this plugin returned, freed once.
unsafe extern "C" fn free_buf(buf: Buf) {
    if buf.ptr.is_null() || buf.cap == 0 {
        return;
    }
    let free = AssertUnwindSafe(|| {
        // SAFETY: buffers we hand out come from `into_buf`: a leaked `Vec<u8>` with exactly
        // this pointer, length and capacity, returned to us once.
        drop(unsafe { Vec::from_raw_parts(buf.ptr, buf.len, buf.cap) });
    });
    // Freeing bytes cannot panic; the guard is there because nothing may unwind from here.
    if let Err(payload) = catch_unwind(free) {
        drop_payload(payload);
    }
}

/// Runs a shim body: catches panics, writes the body into `out`, returns the status.
fn guarded(out: *mut Buf, doing: &str, body: impl FnOnce() -> Response) -> i32 {
    if out.is_null() {
        return STATUS_ERROR;
    }
    install_quiet_hook();
    IN_SHIM.with(|depth| depth.set(depth.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(body));
    IN_SHIM.with(|depth| depth.set(depth.get() - 1));
    let response = outcome.unwrap_or_else(|payload| {
        let message = format!(
            "plugin panicked while {doing}: {}",
            panic_message(&*payload)
        );
        drop_payload(payload);
        Response::panic(message)
    });
    // SAFETY: `out` is non-null and the host passes a writable `Buf` for the result.
    unsafe { out.write(into_buf(response.body)) };
    response.status
}

/// Hands a `Vec` to the host; `free_buf` rebuilds it.
fn into_buf(bytes: Vec<u8>) -> Buf {
    if bytes.capacity() == 0 {
        return Buf::EMPTY;
    }
    let mut bytes = ManuallyDrop::new(bytes);
    Buf {
        ptr: bytes.as_mut_ptr(),
        len: bytes.len(),
        cap: bytes.capacity(),
    }
}

thread_local! {
    /// How many shim calls are running on this thread. A `Cell<u32>` needs no destructor, so
    /// this registers nothing that would outlive the library.
    static IN_SHIM: Cell<u32> = const { Cell::new(0) };
}

/// Replaces the panic hook (of this library's copy of std) with one that stays silent for
/// panics inside a shim call, which are caught and reported to the host instead, and defers to
/// the previous hook for panics elsewhere (threads the plugin spawned).
fn install_quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_SHIM.with(Cell::get) == 0 {
                previous(info);
            }
        }));
    });
}

/// The message of a panic payload (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "(a non-string panic payload)"
    }
}

/// Drops a panic payload, whose destructor could itself panic; such a payload is leaked.
pub(crate) fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}
