//! An in-process host for testing plugins: takes the plugin's entry function (no `dlopen`),
//! calls the ABI table the way the real host does, and records what the plugin sends back.
//!
//! ```
//! use fastmcp_sdk::prelude::*;
//! use fastmcp_sdk::testing::TestHost;
//!
//! /// Says hello
//! #[tool]
//! fn hello(ctx: &Context) -> String {
//!     ctx.info("saying hello");
//!     "Hello!".into()
//! }
//!
//! fastmcp_sdk::export_plugin! { name: "hello", version: "1.0.0", tools: [hello] }
//!
//! # fn main() {
//! let host = TestHost::new(fastmcp_plugin_entry);
//! assert_eq!(host.manifest()["tools"][0]["description"], "Says hello");
//! let reply = host.call_tool("hello", json!({}));
//! assert_eq!(reply.text(), "Hello!");
//! assert_eq!(host.take_notifications()[0]["params"]["data"], "saying hello");
//! # }
//! ```

use std::collections::VecDeque;
use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use fastmcp_abi::{
    ABI_VERSION, Buf, EntryFn, HostContext, PluginTable, STATUS_OK, STATUS_UNSUPPORTED, Str,
    ToolCall,
};
use serde_json::{Value, json};

/// A fake host around one plugin table. It is `Sync`: one thread may [`cancel`](Self::cancel)
/// while another is inside a call.
#[derive(Debug)]
pub struct TestHost {
    table: &'static PluginTable,
    /// Boxed so the pointer handed to the plugin as `HostContext::data` stays put.
    state: Box<HostState>,
}

#[derive(Debug, Default)]
struct HostState {
    notifications: Mutex<Vec<Value>>,
    requests: Mutex<Vec<Value>>,
    answers: Mutex<VecDeque<(i32, Value)>>,
    cancelled: AtomicBool,
}

/// What one `call` returned: the status (`fastmcp_abi::STATUS_*`) and the JSON body
/// (`Value::Null` when the buffer was empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The status code.
    pub status: i32,
    /// The result or error object.
    pub body: Value,
}

impl Reply {
    /// The text blocks of a `tools/call` result, joined by newlines.
    pub fn text(&self) -> String {
        let blocks = self.body["content"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let texts: Vec<&str> = blocks
            .iter()
            .filter_map(|block| block["text"].as_str())
            .collect();
        texts.join("\n")
    }

    /// Whether a `tools/call` result has `isError: true`.
    pub fn is_error(&self) -> bool {
        self.body["isError"] == true
    }
}

impl TestHost {
    /// Takes the table from the plugin's entry point (`fastmcp_plugin_entry`, which
    /// `export_plugin!` defines) and checks its version and size like the host does.
    ///
    /// # Panics
    /// If the table is missing, of another ABI version, or too small.
    pub fn new(entry: EntryFn) -> Self {
        // SAFETY: `entry` is a plugin entry point: it takes nothing and returns a pointer to a
        // static table (or null).
        let table = unsafe { entry() };
        assert!(!table.is_null(), "the entry point returned a null table");
        // SAFETY: non-null and static; the two header fields come first in every version.
        let (version, size) = unsafe { ((*table).abi_version, (*table).size) };
        assert_eq!(
            version, ABI_VERSION,
            "the plugin speaks another ABI version"
        );
        assert!(
            size as usize >= size_of::<PluginTable>(),
            "the plugin's table is too small"
        );
        // SAFETY: checked above: a complete table that lives as long as the program.
        let table = unsafe { &*table };
        Self {
            table,
            state: Box::default(),
        }
    }

    /// The manifest.
    ///
    /// # Panics
    /// If the plugin does not return `STATUS_OK`.
    pub fn manifest(&self) -> Value {
        let reply = self.manifest_reply();
        assert_eq!(reply.status, STATUS_OK, "manifest failed: {}", reply.body);
        reply.body
    }

    /// The manifest call's status and body, whatever the status.
    pub fn manifest_reply(&self) -> Reply {
        let mut out = Buf::EMPTY;
        // SAFETY: `out` is a writable `Buf`.
        let status = unsafe { (self.table.manifest)(&mut out) };
        Reply {
            status,
            body: self.take(out),
        }
    }

    /// Calls a tool (`tools/call`) with protocol version `2025-06-18` and no session or
    /// caller, through the table's `call_tool` entry as the host does.
    pub fn call_tool(&self, name: &str, arguments: Value) -> Reply {
        let context = json!({"protocolVersion": "2025-06-18"});
        self.call_tool_with_context(name, Some(arguments), context)
    }

    /// Calls a tool through `call_tool` with the given request `context`; `None` sends no
    /// arguments at all.
    pub fn call_tool_with_context(
        &self,
        name: &str,
        arguments: Option<Value>,
        context: Value,
    ) -> Reply {
        let arguments = arguments.map(|a| a.to_string()).unwrap_or_default();
        let params = match arguments.as_str() {
            "" => json!({ "name": name }).to_string(),
            args => format!(r#"{{"name":{},"arguments":{args}}}"#, json!(name)),
        };
        let context = context.to_string();
        let call = ToolCall {
            size: size_of::<ToolCall>() as u32,
            name: Str::new(name),
            arguments: Str::new(&arguments),
            params: Str::new(&params),
            context: Str::new(&context),
        };
        let host = self.host_context();
        let mut out = Buf::EMPTY;
        // SAFETY: `call`, its strings and `host` (whose `data` points to our boxed state)
        // outlive the call; `out` is a writable `Buf`.
        let status = unsafe { (self.table.call_tool)(&host, &call, &mut out) };
        Reply {
            status,
            body: self.take(out),
        }
    }

    /// Reads a resource (`resources/read`).
    pub fn read_resource(&self, uri: &str) -> Reply {
        self.request("resources/read", json!({ "uri": uri }))
    }

    /// Gets a prompt (`prompts/get`) with these arguments (an object of strings).
    pub fn get_prompt(&self, name: &str, arguments: Value) -> Reply {
        self.request("prompts/get", json!({"name": name, "arguments": arguments}))
    }

    /// Asks for completions (`completion/complete`): `reference` is the MCP `ref` object
    /// (`{"type": "ref/prompt", "name": ...}` or `{"type": "ref/resource", "uri": ...}`).
    pub fn complete(&self, reference: Value, argument: &str, value: &str) -> Reply {
        let params = json!({"ref": reference, "argument": {"name": argument, "value": value}});
        self.request("completion/complete", params)
    }

    /// Sends any method, with protocol version `2025-06-18` and no session or caller.
    pub fn request(&self, method: &str, params: Value) -> Reply {
        self.request_with_context(method, params, json!({"protocolVersion": "2025-06-18"}))
    }

    /// Sends any method with the given request `context` (`protocolVersion`, `sessionId`,
    /// `caller`).
    pub fn request_with_context(&self, method: &str, params: Value, context: Value) -> Reply {
        let request = json!({"method": method, "params": params, "context": context});
        self.send(request.to_string().as_bytes(), true)
    }

    /// Sends raw request bytes; `with_host: false` passes a null `HostContext`.
    pub fn send(&self, request: &[u8], with_host: bool) -> Reply {
        let host = self.host_context();
        let ctx = if with_host {
            &raw const host
        } else {
            std::ptr::null()
        };
        let mut out = Buf::EMPTY;
        // SAFETY: `request` and `host` (whose `data` points to our boxed state) outlive the
        // call; `out` is a writable `Buf`.
        let status = unsafe { (self.table.call)(ctx, request.as_ptr(), request.len(), &mut out) };
        Reply {
            status,
            body: self.take(out),
        }
    }

    /// The callbacks, with `data` pointing at our boxed state.
    fn host_context(&self) -> HostContext {
        HostContext {
            abi_version: ABI_VERSION,
            size: size_of::<HostContext>() as u32,
            data: std::ptr::from_ref::<HostState>(&self.state).cast(),
            notify,
            is_cancelled,
            request: host_request,
            free_buf: host_free_buf,
        }
    }

    /// Makes `is_cancelled` return true from now on.
    pub fn cancel(&self) {
        self.state.cancelled.store(true, Ordering::SeqCst);
    }

    /// Queues the answer to the plugin's next request to the client: a status and a body
    /// (`Value::Null` sends an empty buffer). Without one, requests get `STATUS_UNSUPPORTED`.
    pub fn answer_next_request(&self, status: i32, body: Value) {
        lock(&self.state.answers).push_back((status, body));
    }

    /// The notifications (`{"method", "params"}`) received so far, oldest first.
    pub fn take_notifications(&self) -> Vec<Value> {
        std::mem::take(&mut *lock(&self.state.notifications))
    }

    /// The requests to the client (`{"method", "params"}`) received so far, oldest first.
    pub fn take_requests(&self) -> Vec<Value> {
        std::mem::take(&mut *lock(&self.state.requests))
    }

    /// Parses and frees a buffer the plugin returned.
    fn take(&self, out: Buf) -> Value {
        let body = if out.ptr.is_null() || out.len == 0 {
            Value::Null
        } else {
            // SAFETY: the plugin wrote `len` initialised bytes at `ptr`; we free them below.
            let bytes = unsafe { std::slice::from_raw_parts(out.ptr, out.len) };
            serde_json::from_slice(bytes).expect("the plugin returned invalid JSON")
        };
        // SAFETY: `out` came from this plugin and is freed once.
        unsafe { (self.table.free_buf)(out) };
        body
    }
}

/// Locks, ignoring poison: the callbacks must not panic (they are `extern "C"`).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// # Safety
/// `data` is the `HostState` of a live `TestHost`; `ptr` holds `len` bytes.
unsafe fn message<'a>(data: *const c_void, ptr: *const u8, len: usize) -> (&'a HostState, Value) {
    // SAFETY: guaranteed by the caller; the plugin passes back the `data` we gave it.
    let (state, bytes) = unsafe {
        (
            &*data.cast::<HostState>(),
            std::slice::from_raw_parts(ptr, len),
        )
    };
    (state, serde_json::from_slice(bytes).unwrap_or(Value::Null))
}

unsafe extern "C" fn notify(data: *const c_void, ptr: *const u8, len: usize) -> i32 {
    // SAFETY: the plugin calls back with our `data` and a valid message.
    let (state, message) = unsafe { message(data, ptr, len) };
    lock(&state.notifications).push(message);
    STATUS_OK
}

unsafe extern "C" fn is_cancelled(data: *const c_void) -> u8 {
    // SAFETY: the plugin calls back with our `data`.
    let state = unsafe { &*data.cast::<HostState>() };
    u8::from(state.cancelled.load(Ordering::SeqCst))
}

unsafe extern "C" fn host_request(
    data: *const c_void,
    ptr: *const u8,
    len: usize,
    out: *mut Buf,
) -> i32 {
    // SAFETY: the plugin calls back with our `data` and a valid message.
    let (state, message) = unsafe { message(data, ptr, len) };
    let method = message["method"].as_str().unwrap_or_default().to_owned();
    lock(&state.requests).push(message);
    let (status, body) = lock(&state.answers).pop_front().unwrap_or_else(|| {
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
