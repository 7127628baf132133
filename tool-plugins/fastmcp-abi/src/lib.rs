//! The binary interface between the `fastmcp` host and its plugins (ABI version 1).
//!
//! Only `#[repr(C)]` data and `extern "C"` functions cross the boundary; everything with
//! structure travels as UTF-8 JSON in [`Buf`]s. Rust has no stable ABI, so nothing else may
//! cross: no trait objects, no `String`s, no panics (see `docs/abi.md` for the JSON shapes).
//!
//! # The handshake
//! A plugin is a `cdylib` exporting one symbol, [`ENTRY_SYMBOL`], of type [`EntryFn`]. It
//! returns a pointer to a static [`PluginTable`] whose first two fields are the ABI version
//! and the table's size. The host reads those two fields first and refuses the library if the
//! version differs or the table is smaller than [`PLUGIN_TABLE_V1_SIZE`] (the fields every
//! version-1 plugin has). New capabilities are added by appending fields (the size tells which
//! ones a plugin has, see [`PluginTable::has`]) or by new JSON methods, so version 1 never has
//! to break.
//!
//! Appended so far:
//! - [`PluginTable::call_tool`] (crate version 1.1), a `tools/call` whose name, arguments and
//!   context the host has already located, so the plugin parses no envelope;
//! - [`PluginTable::start_tool`] and [`PluginTable::cancel_call`] (crate version 1.2): a
//!   `tools/call` of an async tool that the host starts without waiting for it; the plugin
//!   reports the result later, from any thread, through a [`Completion`];
//! - [`HostContext::set_listed`] (crate version 1.3), through which a running call shows or
//!   hides the plugin's own tools and prompts; a plugin reads the context's `size` first
//!   ([`HostContext::has_set_listed`]) and accepts any context of at least
//!   [`HostContext::V1_SIZE`].
//!
//! # Ownership
//! A [`Buf`] is freed by the side that allocated it: buffers a plugin returns are released
//! with [`PluginTable::free_buf`], buffers the host returns with [`HostContext::free_buf`].
//! Borrowed inputs are `(ptr, len)` pairs valid only for the duration of the call.
//!
//! # Threads
//! The host calls [`PluginTable::call`] and [`PluginTable::call_tool`] from its own worker
//! threads (and, for tools the manifest marks `inline`, from its I/O threads), possibly several
//! at once. The callbacks in [`HostContext`] may be called only until that call returns.
//!
//! [`PluginTable::start_tool`] and [`PluginTable::cancel_call`] are called on the host's I/O
//! threads and must return at once: they queue work, nothing more. In particular they must not
//! run code that leaves a thread-exit destructor behind (an async runtime's thread-local
//! context, `std::thread::current()`): the host's I/O threads outlive every plugin, and such a
//! destructor would keep the library mapped after it is unloaded. For a call that
//! `start_tool` left pending, the [`HostContext`] and its callbacks stay valid, and may be called
//! from any thread, until the plugin calls the call's [`Completion`].
//!
//! # Beside the ABI
//! [`uri_template`] (crate version 1.4) parses and matches MCP resource templates. Nothing of it
//! crosses the boundary: it is here because the host routes with it and the SDK (and its
//! macros) extract variables with it, so both sides agree on which URIs a template serves. It
//! needs `alloc`, nothing else.
#![no_std]

extern crate alloc;

pub mod uri_template;

/// The README's example, compiled and run as a doctest so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use core::ffi::c_void;

/// The ABI version this crate describes.
pub const ABI_VERSION: u32 = 1;

/// The name of the exported entry point, NUL-terminated for `dlsym`.
pub const ENTRY_SYMBOL: &[u8] = b"fastmcp_plugin_entry\0";

/// The type of the entry point: returns a pointer to a table with `'static` lifetime.
pub type EntryFn = unsafe extern "C" fn() -> *const PluginTable;

/// Success: the output buffer holds the result JSON.
pub const STATUS_OK: i32 = 0;
/// A protocol error: the output buffer holds `{"code": i32, "message": string, "data"?: any}`.
pub const STATUS_ERROR: i32 = 1;
/// The plugin panicked: the output buffer holds `{"message": string}` naming the panic.
pub const STATUS_PANIC: i32 = 2;
/// The call cannot finish until the client answers a request it could not be sent now
/// (protocol 2026-07-28 multi-round calls). Returned by [`HostContext::request`]; a plugin that
/// receives it must stop the call and return it too. The host builds the response itself.
pub const STATUS_INPUT_REQUIRED: i32 = 3;
/// The host cannot do what was asked on this transport or mode (for example a server-to-client
/// request in stateless mode); the output buffer holds an error object as for [`STATUS_ERROR`].
pub const STATUS_UNSUPPORTED: i32 = 4;
/// The call was cancelled while waiting for the host.
pub const STATUS_CANCELLED: i32 = 5;
/// Returned by [`PluginTable::start_tool`]: the call is running and will be reported through
/// its [`Completion`]; `out` was not written. Never passed to [`Completion::complete`].
pub const STATUS_PENDING: i32 = 6;

/// An owned byte buffer (UTF-8 JSON unless stated otherwise).
///
/// `cap` is whatever the allocating side needs to free it (for Rust, the `Vec` capacity).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Buf {
    /// Start of the bytes; may be null when `len` is 0.
    pub ptr: *mut u8,
    /// Number of initialised bytes.
    pub len: usize,
    /// Allocation size, meaningful only to the side that allocated the buffer.
    pub cap: usize,
}

impl Buf {
    /// The empty buffer; freeing it is a no-op on both sides.
    pub const EMPTY: Buf = Buf {
        ptr: core::ptr::null_mut(),
        len: 0,
        cap: 0,
    };
}

/// What the plugin exports: version, size, and its functions.
#[repr(C)]
#[derive(Debug)]
pub struct PluginTable {
    /// Must equal [`ABI_VERSION`].
    pub abi_version: u32,
    /// `size_of::<PluginTable>()` as the plugin was compiled; fields are only ever appended.
    pub size: u32,
    /// Writes the manifest JSON (`docs/abi.md`, "Manifest") into `out`. Returns a status.
    pub manifest: unsafe extern "C" fn(out: *mut Buf) -> i32,
    /// Serves one request: `req` is JSON `{"method", "params", "context"}`; the result (or error
    /// object) is written into `out`. `ctx` stays valid until this function returns.
    pub call: unsafe extern "C" fn(
        ctx: *const HostContext,
        req_ptr: *const u8,
        req_len: usize,
        out: *mut Buf,
    ) -> i32,
    /// Frees a buffer this plugin returned.
    pub free_buf: unsafe extern "C" fn(buf: Buf),
    /// Releases everything the plugin cached (its manifest, its tool index, its panic hook).
    /// The host calls it once, after the last call has returned and the library's worker
    /// threads are joined, right before `dlclose`; no other function is called after it.
    /// Without it every unload would leak what the plugin allocated on first use.
    pub unload: unsafe extern "C" fn(),
    // ---- appended in crate version 1.1: present when `size` covers them ----
    /// Serves one `tools/call` exactly as [`PluginTable::call`] would serve
    /// `{"method": "tools/call", "params": call.params, "context": call.context}`, with the
    /// tool's name and arguments already located by the host. Same statuses, same result and
    /// error JSON in `out`, same rules for `ctx`; `call` and its strings are valid until this
    /// returns.
    pub call_tool:
        unsafe extern "C" fn(ctx: *const HostContext, call: *const ToolCall, out: *mut Buf) -> i32,
    // ---- appended in crate version 1.2: present when `size` covers them ----
    /// Starts one `tools/call` of a tool whose manifest entry says `"async": true`, without
    /// waiting for it. Called on a host I/O thread: it must return at once (see "Threads").
    ///
    /// Returns [`STATUS_PENDING`] when the call runs on: the plugin then calls
    /// `done.complete` exactly once, from any thread, with the status and reply it would have
    /// returned from `call_tool`; until then `ctx` stays valid. Any other status is the call's
    /// answer now, in `out`, as from `call_tool` (for example an unknown tool), and `done` is
    /// never called. `call` and `done` point to data valid only until this returns: copy what
    /// is needed.
    pub start_tool: unsafe extern "C" fn(
        ctx: *const HostContext,
        call: *const ToolCall,
        done: *const Completion,
        out: *mut Buf,
    ) -> i32,
    /// Asks the plugin to stop the pending call `call_id` (its [`Completion::call_id`]): the
    /// client cancelled it, went away, or it timed out. The plugin drops the call's work and
    /// still completes it once (usually with [`STATUS_CANCELLED`]); an id it does not know (a
    /// call already completed) is ignored. Called on a host I/O thread: it must return at once.
    pub cancel_call: unsafe extern "C" fn(call_id: u64),
}

/// The size of the fields every version-1 table has (up to and including `unload`): the
/// smallest table a host may accept.
pub const PLUGIN_TABLE_V1_SIZE: usize = core::mem::offset_of!(PluginTable, call_tool);

/// The appended fields of [`PluginTable`], for [`PluginTable::has`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableField {
    /// [`PluginTable::call_tool`] (1.1).
    CallTool,
    /// [`PluginTable::start_tool`] and [`PluginTable::cancel_call`] (1.2), which come together.
    StartTool,
}

impl PluginTable {
    /// Whether a table that announces `size` bytes has `field`. Read `size` from the table's
    /// header and only then the field: a smaller, older table simply ends before it.
    pub const fn has(size: u32, field: TableField) -> bool {
        let fn_size = size_of::<unsafe extern "C" fn()>();
        let end = match field {
            TableField::CallTool => core::mem::offset_of!(PluginTable, call_tool) + fn_size,
            TableField::StartTool => core::mem::offset_of!(PluginTable, cancel_call) + fn_size,
        };
        size as usize >= end
    }
}

/// Borrowed UTF-8 text: `len` bytes at `ptr` (which may be null when `len` is 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Str {
    /// Start of the bytes.
    pub ptr: *const u8,
    /// Number of bytes.
    pub len: usize,
}

impl Str {
    /// The empty text.
    pub const EMPTY: Str = Str {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// Borrows `text` (for as long as the caller keeps `text` alive).
    pub const fn new(text: &str) -> Str {
        Str {
            ptr: text.as_ptr(),
            len: text.len(),
        }
    }
}

/// One `tools/call`, as [`PluginTable::call_tool`] receives it. Every [`Str`] is valid UTF-8
/// (the host guarantees it; a plugin may still check) and stays valid until `call_tool`
/// returns.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ToolCall {
    /// `size_of::<ToolCall>()` as the host was compiled; fields are only ever appended.
    pub size: u32,
    /// The tool's name, unescaped (`params.name`).
    pub name: Str,
    /// The raw JSON of `params.arguments`, or empty when the request has none.
    pub arguments: Str,
    /// The whole raw JSON of the request's `params` (with `_meta` and any other keys).
    pub params: Str,
    /// The raw JSON of the request's `context` object, as for `call`.
    pub context: Str,
}

/// How a plugin reports the end of a call that [`PluginTable::start_tool`] left pending.
///
/// Plain data the plugin copies (it is only borrowed during `start_tool`) and may move to any
/// thread. The host keeps `data` valid until the plugin's `unload` has returned.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Completion {
    /// `size_of::<Completion>()` as the host was compiled; fields are only ever appended.
    pub size: u32,
    /// The host's id for this call, unique per loaded library; also what
    /// [`PluginTable::cancel_call`] names.
    pub call_id: u64,
    /// Opaque host state, passed back to `complete`.
    pub data: *const c_void,
    /// Reports the call's end: a status as `call_tool` returns it (never [`STATUS_PENDING`])
    /// and the reply it would have written, which the host takes over and frees with
    /// [`PluginTable::free_buf`]. Call it once per call, from any thread; the host ignores
    /// (and frees the reply of) a second call for the same id. After it, the call's
    /// [`HostContext`] must not be used.
    pub complete: unsafe extern "C" fn(data: *const c_void, call_id: u64, status: i32, reply: Buf),
}

/// What the host hands to every call: the way back from a tool to the server.
#[repr(C)]
#[derive(Debug)]
pub struct HostContext {
    /// The host's [`ABI_VERSION`].
    pub abi_version: u32,
    /// `size_of::<HostContext>()` as the host was compiled; fields are only ever appended.
    pub size: u32,
    /// Opaque host state, passed back to every callback.
    pub data: *const c_void,
    /// Sends a notification, JSON `{"method", "params"}` (progress, log message, resource
    /// updated, list changed). Returns [`STATUS_OK`], or [`STATUS_UNSUPPORTED`] when dropped.
    pub notify: unsafe extern "C" fn(data: *const c_void, ptr: *const u8, len: usize) -> i32,
    /// Returns 1 once the call has been cancelled (client cancel, disconnect, timeout), else 0.
    /// Every callback here is thread-safe on the host's side.
    pub is_cancelled: unsafe extern "C" fn(data: *const c_void) -> u8,
    /// Sends a request to the client, JSON `{"method", "params"}` (`sampling/createMessage`,
    /// `elicitation/create`, `roots/list`), and blocks until it answers. On [`STATUS_OK`] `out`
    /// holds the result JSON; on an error status it holds an error object (or is empty for
    /// [`STATUS_INPUT_REQUIRED`] and [`STATUS_CANCELLED`]). Free `out` with `free_buf`.
    pub request:
        unsafe extern "C" fn(data: *const c_void, ptr: *const u8, len: usize, out: *mut Buf) -> i32,
    /// Frees a buffer the host returned.
    pub free_buf: unsafe extern "C" fn(buf: Buf),
    // ---- appended in crate version 1.3: present when `size` covers it ----
    /// Shows (`listed` 1) or hides (0) one of the plugin's own tools ([`LISTED_TOOL`]) or
    /// prompts ([`LISTED_PROMPT`]), named by `len` UTF-8 bytes at `ptr`, in what the server
    /// lists and serves; the host tells clients the list changed (`list_changed`). Only names
    /// the plugin's manifest has can be shown again. Returns [`STATUS_OK`] (also when nothing
    /// changed), [`STATUS_ERROR`] for a name or kind the manifest does not have, or
    /// [`STATUS_UNSUPPORTED`] where lists cannot change (`fastmcp call`). Read `size` first:
    /// see [`HostContext::has_set_listed`].
    pub set_listed: unsafe extern "C" fn(
        data: *const c_void,
        kind: u32,
        ptr: *const u8,
        len: usize,
        listed: u8,
    ) -> i32,
}

/// [`HostContext::set_listed`] `kind`: a tool.
pub const LISTED_TOOL: u32 = 0;
/// [`HostContext::set_listed`] `kind`: a prompt.
pub const LISTED_PROMPT: u32 = 1;

impl HostContext {
    /// The size of the fields every version-1 host context has (up to and including
    /// `free_buf`): a plugin must accept any context at least this large.
    pub const V1_SIZE: usize = core::mem::offset_of!(HostContext, set_listed);

    /// Whether a context that announces `size` bytes has [`HostContext::set_listed`] (1.3):
    /// an older host's context ends before it.
    pub const fn has_set_listed(size: u32) -> bool {
        let end =
            core::mem::offset_of!(HostContext, set_listed) + size_of::<unsafe extern "C" fn()>();
        size as usize >= end
    }
}
