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

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fastmcp_abi::{ABI_VERSION, Buf, EntryFn, PluginTable, STATUS_OK, Str, ToolCall};
use serde_json::{Value, json};

mod callbacks;
mod pending;

use callbacks::{CallData, HostState, lock};
pub use pending::{Pending, stray_completions};

/// A fake host around one plugin table. It is `Sync`: one thread may [`cancel`](Self::cancel)
/// while another is inside a call.
#[derive(Debug)]
pub struct TestHost {
    table: &'static PluginTable,
    /// Shared with the calls it started, which may outlive it.
    state: Arc<HostState>,
    /// Whether the manifest was read (the host reads it before it starts any call).
    manifest_read: AtomicBool,
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
            state: Arc::default(),
            manifest_read: AtomicBool::new(false),
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
        self.manifest_read.store(true, Ordering::SeqCst);
        Reply {
            status,
            body: take(self.table, out),
        }
    }

    /// Calls a tool (`tools/call`) with protocol version `2025-06-18` and no session or
    /// caller, through the table's `call_tool` entry as the host does.
    pub fn call_tool(&self, name: &str, arguments: Value) -> Reply {
        let context = json!({"protocolVersion": "2025-06-18"});
        self.call_tool_with_context(name, Some(arguments), context)
    }

    /// Calls a tool through `call_tool` with the given request `context`; `None` sends no
    /// arguments at all. An async tool runs to its end on this thread, as for a host without
    /// `start_tool`.
    pub fn call_tool_with_context(
        &self,
        name: &str,
        arguments: Option<Value>,
        context: Value,
    ) -> Reply {
        with_tool_call(name, arguments, context, |call| {
            let data = CallData::new(self.state.clone());
            let host = data.context();
            let mut out = Buf::EMPTY;
            // SAFETY: `call`, its strings and `host` (whose `data` points to `data`) outlive
            // the call; `out` is a writable `Buf`.
            let status = unsafe { (self.table.call_tool)(&host, call, &mut out) };
            Reply {
                status,
                body: take(self.table, out),
            }
        })
    }

    /// Starts a tool call through `start_tool`, as the host starts the calls of tools whose
    /// manifest entry says `"async": true` (protocol version `2025-06-18`, no session or
    /// caller). Reads the manifest first if it was not read yet, as the host does when it
    /// loads a plugin (that starts the plugin's async runtime).
    ///
    /// ```
    /// use fastmcp_sdk::abi::STATUS_PENDING;
    /// use fastmcp_sdk::prelude::*;
    /// use fastmcp_sdk::testing::TestHost;
    ///
    /// /// Waits a little
    /// #[tool]
    /// async fn wait() -> &'static str {
    ///     fastmcp_sdk::tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    ///     "waited"
    /// }
    ///
    /// fastmcp_sdk::export_plugin! { name: "waiter", version: "1.0.0", tools: [wait] }
    ///
    /// # fn main() {
    /// let host = TestHost::new(fastmcp_plugin_entry);
    /// let call = host.start_tool("wait", json!({}));
    /// assert_eq!(call.started(), STATUS_PENDING);
    /// assert_eq!(call.wait().text(), "waited");
    /// # }
    /// ```
    pub fn start_tool(&self, name: &str, arguments: Value) -> Pending {
        let context = json!({"protocolVersion": "2025-06-18"});
        self.start_tool_with_context(name, Some(arguments), context)
    }

    /// Starts a tool call through `start_tool` with the given request `context`; `None` sends
    /// no arguments at all.
    pub fn start_tool_with_context(
        &self,
        name: &str,
        arguments: Option<Value>,
        context: Value,
    ) -> Pending {
        if !self.manifest_read.load(Ordering::SeqCst) {
            self.manifest_reply();
        }
        with_tool_call(name, arguments, context, |call| {
            pending::start(self.table, self.state.clone(), call)
        })
    }

    /// Calls the plugin's `cancel_call` with any id, as the host does for a call it gave up on.
    pub fn cancel_call(&self, call_id: u64) {
        // SAFETY: `cancel_call` takes any id.
        unsafe { (self.table.cancel_call)(call_id) };
    }

    /// Calls the plugin's `unload`, as the host does right before `dlclose`: the plugin frees
    /// its registry and stops its async runtime, joining its threads (calls still running are
    /// completed as cancelled). The plugin starts afresh on the next call; the manifest is
    /// read again before the next [`TestHost::start_tool`].
    pub fn unload(&self) {
        // SAFETY: the test is responsible for calling nothing else of this plugin meanwhile.
        unsafe { (self.table.unload)() };
        self.manifest_read.store(false, Ordering::SeqCst);
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
        let data = CallData::new(self.state.clone());
        let host = data.context();
        let ctx = if with_host {
            &raw const host
        } else {
            std::ptr::null()
        };
        let mut out = Buf::EMPTY;
        // SAFETY: `request` and `host` (whose `data` points to `data`) outlive the call; `out`
        // is a writable `Buf`.
        let status = unsafe { (self.table.call)(ctx, request.as_ptr(), request.len(), &mut out) };
        Reply {
            status,
            body: take(self.table, out),
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

    /// The requests to the client (`{"method", "params"}`, and `key` when the tool named one)
    /// received so far, oldest first.
    pub fn take_requests(&self) -> Vec<Value> {
        std::mem::take(&mut *lock(&self.state.requests))
    }
}

/// Builds the `ToolCall` of `name` with `arguments` (`None`: none) and `context`, and runs
/// `f` with it.
fn with_tool_call<R>(
    name: &str,
    arguments: Option<Value>,
    context: Value,
    f: impl FnOnce(&ToolCall) -> R,
) -> R {
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
    f(&call)
}

/// Parses and frees a buffer the plugin returned.
///
/// # Panics
/// If it is not JSON.
fn take(table: &PluginTable, out: Buf) -> Value {
    let body = if out.ptr.is_null() || out.len == 0 {
        Value::Null
    } else {
        // SAFETY: the plugin wrote `len` initialised bytes at `ptr`; we free them below.
        let bytes = unsafe { std::slice::from_raw_parts(out.ptr, out.len) };
        serde_json::from_slice(bytes).expect("the plugin returned invalid JSON")
    };
    // SAFETY: `out` came from this plugin and is freed once.
    unsafe { (table.free_buf)(out) };
    body
}
