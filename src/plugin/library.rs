//! One loaded copy of a plugin library: `dlopen`, the ABI handshake, and raw calls.
//!
//! Every load works on a private copy of the file with a unique path, never on the file the
//! user named: `dlopen` of a path that is already open returns the old handle (stale code), and
//! overwriting a mapped library in place crashes the process with SIGBUS. The copy is unlinked
//! as soon as it is mapped, so nothing is left behind even after a crash.
//!
//! Functions that run plugin code (`open`, `manifest`, `call`) are called on the owning
//! generation's worker threads (see [`super::pool`]), or, for inline tools, on an I/O thread
//! (`docs/architecture.md`, "Inline tools"). `start_tool` and `cancel_call` run only the
//! plugin's queueing code and are called on I/O threads (`super::pending`).

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use fastmcp_abi::{
    ABI_VERSION, Buf, Completion, ENTRY_SYMBOL, EntryFn, HostContext, PLUGIN_TABLE_V1_SIZE,
    PluginTable, STATUS_PENDING, TableField, ToolCall,
};

use super::PluginError;
use super::request::PluginRequest;

mod copies;
pub use copies::CopiesDir;

/// The function pointers of a checked plugin table, copied out of the library.
#[derive(Clone, Copy)]
struct Table {
    manifest: unsafe extern "C" fn(*mut Buf) -> i32,
    call: unsafe extern "C" fn(*const HostContext, *const u8, usize, *mut Buf) -> i32,
    free_buf: unsafe extern "C" fn(Buf),
    unload: unsafe extern "C" fn(),
    /// ABI 1.1; `None` for an older table.
    call_tool: Option<unsafe extern "C" fn(*const HostContext, *const ToolCall, *mut Buf) -> i32>,
    /// ABI 1.2 (`start_tool`, `cancel_call`); `None` for an older table.
    start: Option<StartFns>,
}

/// The async entries of an ABI 1.2 table, which come together.
#[derive(Clone, Copy)]
struct StartFns {
    start_tool: StartToolFn,
    cancel_call: unsafe extern "C" fn(u64),
}

type StartToolFn =
    unsafe extern "C" fn(*const HostContext, *const ToolCall, *const Completion, *mut Buf) -> i32;

/// What `start_tool` did with a call.
#[derive(Debug)]
pub(crate) enum Started {
    /// The call runs on; its [`Completion`] will report it.
    Pending,
    /// The plugin answered at once; the completion will never be called.
    Answered(RawReply),
}

/// A mapped plugin library whose ABI header has been checked.
pub struct Library {
    /// The path the user gave, for messages.
    path: PathBuf,
    table: Table,
    /// Keeps the code mapped; `None` only while dropping.
    handle: Option<libloading::Library>,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").field("path", &self.path).finish()
    }
}

/// What a call returned: the status and the bytes the plugin wrote.
#[derive(Debug)]
pub struct RawReply {
    /// One of the `fastmcp_abi::STATUS_*` codes.
    pub status: i32,
    /// The JSON the plugin wrote (may be empty).
    pub body: Vec<u8>,
}

/// The private directory holding this process's library copies ([`CopiesDir`] removes it at
/// exit, and those of processes that are gone at startup).
fn copies_dir() -> PathBuf {
    std::env::temp_dir().join(format!("fastmcp-{}", std::process::id()))
}

static COPY_SEQ: AtomicU64 = AtomicU64::new(0);

/// A private copy of a plugin file, ready to load, and the hash of its content.
#[derive(Debug)]
pub struct Staged {
    /// The file the user named.
    pub(crate) path: PathBuf,
    /// The private copy (removed when loaded, or when this is dropped unloaded).
    copy: PathBuf,
    /// Hash of the content, to skip reloads of identical files.
    pub(crate) hash: u64,
}

impl Staged {
    /// The private copy's path.
    pub(crate) fn copy_path(&self) -> &Path {
        &self.copy
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.copy);
    }
}

/// Copies `path` to a unique private path, hashing it on the way, in small chunks (a whole-file
/// buffer per reload would fragment the heap). What is checked and loaded is this copy, so a
/// file replaced meanwhile cannot slip in between the check and the load.
pub fn stage(path: &Path) -> Result<Staged, PluginError> {
    use std::hash::Hasher;
    use std::io::{Read, Write};
    let read_err = |source| PluginError::Read {
        path: path.to_owned(),
        source,
    };
    let mut src = std::fs::File::open(path).map_err(read_err)?;
    let dir = copies_dir();
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("plugin");
    let copy = dir.join(format!(
        "{stem}.{}.so",
        COPY_SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let copy_err = |source| PluginError::Copy {
        path: path.to_owned(),
        copy: copy.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(copy_err)?;
    let mut dst = std::fs::File::create(&copy).map_err(copy_err)?;
    let mut staged = Staged {
        path: path.to_owned(),
        copy: copy.clone(),
        hash: 0,
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    // On the heap: a stack buffer would stay resident on the staging thread (an isolated
    // child's main thread) for good; freed heap goes back (`malloc_trim`).
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = src.read(&mut buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        hasher.write(&buf[..n]);
        dst.write_all(&buf[..n]).map_err(copy_err)?;
    }
    dst.flush().map_err(copy_err)?;
    staged.hash = hasher.finish();
    Ok(staged)
}

impl Library {
    /// Checks a staged copy, maps it and performs the ABI handshake. Runs the library's
    /// initialisers: call it on a generation worker thread.
    pub fn open(staged: Staged) -> Result<Library, PluginError> {
        let path = staged.path.clone();
        super::elf::check_file(&staged.copy).map_err(|reason| PluginError::Open {
            path: path.clone(),
            reason,
        })?;
        let flags = libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_LOCAL;
        // SAFETY: loading a library runs its initialisers. The file passed the ELF checks above
        // and is a private copy nobody else writes; running the initialisers of the plugin the
        // user asked us to serve is the point of this program.
        let opened = unsafe { libloading::os::unix::Library::open(Some(&staged.copy), flags) };
        // The mapping keeps the code alive; the name goes with `staged`.
        drop(staged);
        let handle: libloading::Library = opened
            .map_err(|e| PluginError::Open {
                path: path.clone(),
                reason: dl_reason(&e),
            })?
            .into();
        let table = Self::handshake(&path, &handle)?;
        Ok(Library {
            path,
            table,
            handle: Some(handle),
        })
    }

    /// Finds the entry point and checks the table's version and size before copying anything
    /// else out of it.
    fn handshake(path: &Path, handle: &libloading::Library) -> Result<Table, PluginError> {
        // SAFETY: the symbol's type is fixed by the ABI crate; a library exporting this name
        // with another type is not a fastmcp plugin and is outside what we can defend against.
        let entry: EntryFn = unsafe {
            *handle
                .get::<EntryFn>(ENTRY_SYMBOL)
                .map_err(|_| PluginError::MissingEntry {
                    path: path.to_owned(),
                })?
        };
        // SAFETY: calling the entry point is the documented handshake; it takes no arguments.
        let table_ptr = unsafe { entry() };
        if table_ptr.is_null() || !table_ptr.is_aligned() {
            return Err(PluginError::BadTable {
                path: path.to_owned(),
                reason: "the entry point returned a null or misaligned table".into(),
            });
        }
        let header = table_ptr.cast::<u32>();
        // SAFETY: every ABI version starts the table with two u32s (version, size); the pointer
        // is non-null and aligned for the table, so at least these 8 bytes are readable.
        let (version, size) = unsafe { (header.read(), header.add(1).read()) };
        if version != ABI_VERSION {
            return Err(PluginError::AbiMismatch {
                path: path.to_owned(),
                found: version,
                expected: ABI_VERSION,
            });
        }
        if (size as usize) < PLUGIN_TABLE_V1_SIZE {
            return Err(PluginError::BadTable {
                path: path.to_owned(),
                reason: format!(
                    "table is {size} bytes, ABI version {ABI_VERSION} needs at least \
                     {PLUGIN_TABLE_V1_SIZE}"
                ),
            });
        }
        // Field by field through the raw pointer: an older plugin's table ends before the
        // fields appended since, so no reference to a whole `PluginTable` may be made.
        // SAFETY: version and size say the table has at least every v1 field, and
        // `call_tool` is read only when the size covers it.
        unsafe {
            Ok(Table {
                manifest: (&raw const (*table_ptr).manifest).read(),
                call: (&raw const (*table_ptr).call).read(),
                free_buf: (&raw const (*table_ptr).free_buf).read(),
                unload: (&raw const (*table_ptr).unload).read(),
                call_tool: PluginTable::has(size, TableField::CallTool)
                    .then(|| (&raw const (*table_ptr).call_tool).read()),
                start: PluginTable::has(size, TableField::StartTool).then(|| StartFns {
                    start_tool: (&raw const (*table_ptr).start_tool).read(),
                    cancel_call: (&raw const (*table_ptr).cancel_call).read(),
                }),
            })
        }
    }

    /// Whether the plugin takes tool calls through `call_tool` (ABI 1.1).
    pub fn has_call_tool(&self) -> bool {
        self.table.call_tool.is_some()
    }

    /// Whether the plugin can start tool calls without blocking (`start_tool`, ABI 1.2).
    pub(crate) fn has_start_tool(&self) -> bool {
        self.table.start.is_some()
    }

    /// Starts a tool call through `start_tool`. Runs only queueing code of the plugin: fine on
    /// an I/O thread (`docs/abi.md`, "Async tool calls"). `None` when the plugin lacks the
    /// entry.
    ///
    /// # Safety
    /// `ctx` must point to a valid context that stays valid until the plugin calls
    /// `done.complete` (when this returns [`Started::Pending`]), and `done.data` must stay
    /// valid until the plugin is unloaded.
    pub(crate) unsafe fn start_tool(
        &self,
        ctx: *const HostContext,
        call: &ToolCall,
        done: &Completion,
    ) -> Option<Started> {
        let start = self.table.start?;
        let mut out = Buf::EMPTY;
        // SAFETY: `start_tool` comes from a table whose size covers it; `call` and `done` are
        // valid during the call (the plugin copies them), `ctx` and `done.data` as long as the
        // caller promises, and `out` is a valid Buf to fill.
        let status = unsafe { (start.start_tool)(ctx, call, done, &mut out) };
        Some(if status == STATUS_PENDING {
            Started::Pending
        } else {
            Started::Answered(self.take(status, out))
        })
    }

    /// Asks the plugin to stop the pending call `call_id`; a no-op without `start_tool`.
    pub(crate) fn cancel_call(&self, call_id: u64) {
        if let Some(start) = self.table.start {
            // SAFETY: `cancel_call` comes from a table whose size covers it; it takes any id.
            unsafe { (start.cancel_call)(call_id) }
        }
    }

    /// The plugin's `free_buf`, for replies that arrive without a `&Library` at hand (a
    /// completion): see [`take_buf`].
    pub(crate) fn free_buf_fn(&self) -> unsafe extern "C" fn(Buf) {
        self.table.free_buf
    }

    /// The path the user named.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Asks the plugin for its manifest JSON.
    pub(crate) fn manifest(&self) -> RawReply {
        let mut out = Buf::EMPTY;
        // SAFETY: `manifest` comes from a checked v1 table and takes a pointer to a Buf it fills.
        let status = unsafe { (self.table.manifest)(&mut out) };
        self.take(status, out)
    }

    /// Sends one request (`{"method","params","context"}` JSON) with the given host context.
    pub fn call(&self, ctx: &HostContext, request: &[u8]) -> RawReply {
        let mut out = Buf::EMPTY;
        // SAFETY: `call` comes from a checked v1 table; `ctx` and `request` outlive the call,
        // and `out` is a valid Buf for the plugin to fill.
        let status = unsafe { (self.table.call)(ctx, request.as_ptr(), request.len(), &mut out) };
        self.take(status, out)
    }

    /// Sends one request: a tool call through `call_tool` when the plugin has it, else (and
    /// for every other request) as JSON through `call`.
    pub fn request(&self, ctx: &HostContext, request: &PluginRequest) -> RawReply {
        let tool = match request {
            PluginRequest::Json(json) => return self.call(ctx, json),
            PluginRequest::Tool(tool) => tool,
        };
        let Some(call_tool) = self.table.call_tool else {
            return self.call(ctx, &tool.envelope());
        };
        let call = tool.abi();
        let mut out = Buf::EMPTY;
        // SAFETY: `call_tool` comes from a table whose size covers it; `ctx`, `call` and the
        // buffer `call` points into outlive the call, and `out` is a valid Buf to fill.
        let status = unsafe { call_tool(ctx, &call, &mut out) };
        self.take(status, out)
    }

    /// Lets the plugin free what it cached. Call once, after the last call, with no plugin
    /// code running, right before the library is dropped.
    pub(crate) fn unload(&self) {
        // SAFETY: `unload` comes from a checked v1 table; the caller guarantees no call is
        // running or will run (the generation's workers are joined).
        unsafe { (self.table.unload)() }
    }

    /// Copies a plugin-owned buffer into host memory and gives it back to the plugin.
    fn take(&self, status: i32, out: Buf) -> RawReply {
        // SAFETY: `out` came from this plugin (its reply), and `free_buf` is its own.
        unsafe { take_buf(self.table.free_buf, status, out) }
    }
}

/// Copies a plugin-owned reply buffer into host memory and frees it with the plugin's
/// `free_buf`.
///
/// # Safety
/// `out` must be a buffer that plugin returned (or empty), not yet freed, and the plugin must
/// still be loaded.
pub(crate) unsafe fn take_buf(
    free_buf: unsafe extern "C" fn(Buf),
    status: i32,
    out: Buf,
) -> RawReply {
    let body = if out.ptr.is_null() || out.len == 0 {
        Vec::new()
    } else {
        // SAFETY: the plugin promises `ptr` points at `len` initialised bytes it owns until
        // we call `free_buf`.
        unsafe { std::slice::from_raw_parts(out.ptr, out.len) }.to_vec()
    };
    if !out.ptr.is_null() {
        // SAFETY: by the caller, the buffer came from this plugin and is freed exactly once.
        unsafe { free_buf(out) };
    }
    RawReply { status, body }
}

impl Drop for Library {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            // A failing dlclose leaves the library mapped: a leak, not a crash.
            let _ = handle.close();
        }
    }
}

/// The loader's message without libloading's wrapper text.
fn dl_reason(e: &libloading::Error) -> String {
    let s = e.to_string();
    match s.split_once(": ") {
        Some((_, rest)) if rest.contains(".so") || rest.contains("ELF") => rest.to_string(),
        _ => s,
    }
}

/// Builds the [`HostContext`] header for a host state pointer and its callbacks.
pub fn host_context(
    data: *const c_void,
    notify: unsafe extern "C" fn(*const c_void, *const u8, usize) -> i32,
    is_cancelled: unsafe extern "C" fn(*const c_void) -> u8,
    request: unsafe extern "C" fn(*const c_void, *const u8, usize, *mut Buf) -> i32,
    free_buf: unsafe extern "C" fn(Buf),
    set_listed: unsafe extern "C" fn(*const c_void, u32, *const u8, usize, u8) -> i32,
) -> HostContext {
    HostContext {
        abi_version: ABI_VERSION,
        size: size_of::<HostContext>() as u32,
        data,
        notify,
        is_cancelled,
        request,
        free_buf,
        set_listed,
    }
}
