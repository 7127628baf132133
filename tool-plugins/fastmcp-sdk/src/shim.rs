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
        cancel_call: cancel_call::<P>,
    }
}

/// Starts a tool call: an async tool's call is queued for the plugin's runtime
/// (`STATUS_PENDING`); any other is answered now, as `call_tool` answers it.
///
/// Runs on a host I/O thread that outlives the library, so nothing here may leave a
/// thread-exit destructor behind (`runtime` explains how): the registry exists already (the
/// host read the manifest), the call is copied into owned memory and queued under a std
/// mutex, the runtime woken by a write(2); `IN_SHIM` and the panic count are `Cell`s without
/// destructors, and the quiet hook keeps a panic here away from `std::thread::current()`.
/// `tests/async_tls.rs` counts the destructors a thread registers (it interposes glibc's
/// `__cxa_thread_atexit_impl`) and checks that this registers none.
///
/// # Safety
/// As `PluginTable::start_tool`: `ctx`, `call` and `out` as for `call_tool`; `done` null or a
/// `Completion` (at least its `size`), readable until this returns.
unsafe extern "C" fn start_tool<P: PluginSource>(
    ctx: *const HostContext,
    call: *const ToolCall,
    done: *const Completion,
    out: *mut Buf,
) -> i32 {
    #[cfg(feature = "async")]
    {
        if out.is_null() {
            return STATUS_ERROR;
        }
        // SAFETY: by the caller, `done` is null or a readable `Completion`.
        let Some(done) = (unsafe { completion(done) }) else {
            // A broken host: refuse rather than run the call here, on an I/O thread.
            let response = Response::invalid_request("start_tool needs a Completion".into());
            // SAFETY: `out` is non-null and the host passes a writable `Buf`.
            unsafe { out.write(into_buf(response.body)) };
            return response.status;
        };
        let started = quietly(|| {
            // SAFETY: the host passes a valid `ToolCall` (or null), alive until this returns.
            let Some((name, arguments, context)) = (unsafe { tool_call_parts(call) }) else {
                return Some(Response::invalid_request(
                    "the tool call is missing or not UTF-8".into(),
                ));
            };
            // SAFETY: the host keeps `ctx` valid until this returns and, for a call left
            // pending, until its completion.
            unsafe { P::registry().start_tool(ctx, name, arguments, context, done) }
        });
        let response = match started {
            Ok(None) => return fastmcp_abi::STATUS_PENDING,
            Ok(Some(response)) => response,
            Err(payload) => {
                let message = format!(
                    "plugin panicked while starting a tool call: {}",
                    panic_message(&*payload)
                );
                drop_payload(payload);
                Response::panic(message)
            }
        };
        // SAFETY: `out` is non-null and the host passes a writable `Buf` for the answer.
        unsafe { out.write(into_buf(response.body)) };
        response.status
    }
    #[cfg(not(feature = "async"))]
    {
        let _ = done;
        // SAFETY: the same contract as `call_tool` for `ctx`, `call` and `out`.
        unsafe { call_tool::<P>(ctx, call, out) }
    }
}

/// A copy of the host's `Completion`, if it is there and complete.
///
/// # Safety
/// `done` is null or points to a readable `Completion` (at least its `size`).
#[cfg(feature = "async")]
unsafe fn completion(done: *const Completion) -> Option<Completion> {
    if done.is_null() {
        return None;
    }
    // SAFETY: non-null and, by the caller, a `Completion`: its first field is the size.
    let size = unsafe { (*done).size } as usize;
    // SAFETY: the size covers every field we read.
    (size >= size_of::<Completion>()).then(|| unsafe { *done })
}

/// Asks the runtime to drop the call `call_id`; it then completes the call as cancelled. An id
/// the plugin does not run (any more) is ignored. On a host I/O thread, like `start_tool`: it
/// only queues a message.
#[cfg_attr(not(feature = "async"), allow(clippy::extra_unused_type_parameters))]
unsafe extern "C" fn cancel_call<P: PluginSource>(call_id: u64) {
    #[cfg(feature = "async")]
    {
        // The registry exists: the call was started through it.
        let cancelled = quietly(|| P::registry().cancel(call_id));
        if let Err(payload) = cancelled {
            drop_payload(payload);
        }
    }
    #[cfg(not(feature = "async"))]
    let _ = call_id;
}

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
        let registry = P::registry();
        // The host reads the manifest on one of its worker threads, which it joins before
        // unloading the library: the place to build the runtime's threads.
        #[cfg(feature = "async")]
        registry.start_runtime();
        Response::ok(registry.manifest().to_vec())
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

/// A tool call's name, arguments and context, as [`tool_call_parts`] finds them.
type CallParts<'a> = (&'a str, Option<&'a str>, Option<&'a [u8]>);

/// The name, arguments (absent when empty) and context (absent when empty) of a `ToolCall`;
/// `None` if it is null, older than the fields we read, or its name or arguments are not
/// UTF-8. The context stays bytes: most tools never read it, and its parse checks it.
///
/// # Safety
/// `call` is null or points to a `ToolCall` whose strings are readable for `'a`.
unsafe fn tool_call_parts<'a>(call: *const ToolCall) -> Option<CallParts<'a>> {
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
    // SAFETY: as for `text`.
    let context = unsafe { bytes_of(call.context) }?;
    Some((
        name,
        non_empty(arguments),
        (!context.is_empty()).then_some(context),
    ))
}

/// The text of a `Str`, checked to be UTF-8; `None` for a null pointer with a length.
///
/// # Safety
/// `s.ptr` points to `s.len` readable bytes for `'a` (or `s.len` is 0).
unsafe fn str_of<'a>(s: Str) -> Option<&'a str> {
    // SAFETY: by the caller.
    std::str::from_utf8(unsafe { bytes_of(s) }?).ok()
}

/// The bytes of a `Str`; `None` for a null pointer with a length.
///
/// # Safety
/// As [`str_of`].
unsafe fn bytes_of<'a>(s: Str) -> Option<&'a [u8]> {
    if s.len == 0 {
        return Some(&[]);
    }
    if s.ptr.is_null() {
        return None;
    }
    // SAFETY: by the caller.
    Some(unsafe { std::slice::from_raw_parts(s.ptr, s.len) })
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
    let response = quietly(body).unwrap_or_else(|payload| {
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

/// Runs `body`, catching a panic; the panic hook stays silent meanwhile (the panic is
/// reported to the host instead). Used by every shim and for every poll of an async tool.
pub(crate) fn quietly<R>(body: impl FnOnce() -> R) -> std::thread::Result<R> {
    install_quiet_hook();
    IN_SHIM.with(|depth| depth.set(depth.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(body));
    IN_SHIM.with(|depth| depth.set(depth.get() - 1));
    outcome
}

/// Hands a `Vec` to the host; `free_buf` rebuilds it.
pub(crate) fn into_buf(bytes: Vec<u8>) -> Buf {
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
