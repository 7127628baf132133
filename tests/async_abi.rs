//! The host's side of async tool calls (ABI 1.2 `start_tool`, `cancel_call`, `Completion`),
//! driven by a hand-written plugin compiled with rustc, so every corner of the contract can be
//! exercised, including the ones the SDK never produces: a completion from another thread, a
//! plugin that completes twice or never, an answer given at once, notifications from a thread
//! of the plugin's own, and cancellation by timeout or by a client that hangs up.

use std::time::Duration;

use serde_json::{Value, json};

use crate::plugins_load::compile;
use crate::util::{self, sse_messages, text_of, tool_call};

/// An ABI 1.2 plugin whose tools are all marked async except `cancelled`, which reports the ids
/// the host asked it to cancel. Threads stand in for an async runtime.
const ASYNC_PLUGIN: &str = r###"
use std::ffi::c_void;
use std::sync::Mutex;
use std::time::Duration;

#[repr(C)] #[derive(Clone, Copy)] pub struct Buf { ptr: *mut u8, len: usize, cap: usize }
#[repr(C)] #[derive(Clone, Copy)] pub struct Str { ptr: *const u8, len: usize }
#[repr(C)] pub struct ToolCall { size: u32, name: Str, arguments: Str, params: Str, context: Str }
#[repr(C)] pub struct HostContext {
    abi_version: u32, size: u32, data: *const c_void,
    notify: unsafe extern "C" fn(*const c_void, *const u8, usize) -> i32,
    is_cancelled: unsafe extern "C" fn(*const c_void) -> u8,
    request: unsafe extern "C" fn(*const c_void, *const u8, usize, *mut Buf) -> i32,
    free_buf: unsafe extern "C" fn(Buf),
}
#[repr(C)] #[derive(Clone, Copy)] pub struct Completion {
    size: u32, call_id: u64, data: *const c_void,
    complete: unsafe extern "C" fn(*const c_void, u64, i32, Buf),
}
#[repr(C)] pub struct Table {
    abi_version: u32, size: u32,
    manifest: unsafe extern "C" fn(*mut Buf) -> i32,
    call: unsafe extern "C" fn(*const HostContext, *const u8, usize, *mut Buf) -> i32,
    free_buf: unsafe extern "C" fn(Buf),
    unload: unsafe extern "C" fn(),
    call_tool: unsafe extern "C" fn(*const HostContext, *const ToolCall, *mut Buf) -> i32,
    start_tool: unsafe extern "C" fn(*const HostContext, *const ToolCall, *const Completion, *mut Buf) -> i32,
    cancel_call: unsafe extern "C" fn(u64),
}
unsafe impl Sync for Table {}

static TABLE: Table = Table {
    abi_version: 1, size: std::mem::size_of::<Table>() as u32,
    manifest, call, free_buf, unload, call_tool, start_tool, cancel_call,
};

#[no_mangle]
pub extern "C" fn fastmcp_plugin_entry() -> *const Table { &TABLE }

const MANIFEST: &str = r##"{"name":"asyncabi","tools":[
  {"name":"now","inputSchema":{"type":"object"},"async":true},
  {"name":"later","inputSchema":{"type":"object"},"async":true},
  {"name":"twice","inputSchema":{"type":"object"},"async":true},
  {"name":"never","inputSchema":{"type":"object"},"async":true},
  {"name":"progress","inputSchema":{"type":"object"},"async":true},
  {"name":"cancellable","inputSchema":{"type":"object"},"async":true},
  {"name":"cancelled","inputSchema":{"type":"object"}}]}"##;

/// Calls waiting for `cancel_call`, and the ids cancelled so far.
struct Waiting { id: u64, done: Completion }
unsafe impl Send for Waiting {}
static WAITING: Mutex<Vec<Waiting>> = Mutex::new(Vec::new());
static CANCELLED: Mutex<Vec<u64>> = Mutex::new(Vec::new());

fn buf(text: String) -> Buf {
    let mut v = std::mem::ManuallyDrop::new(text.into_bytes());
    Buf { ptr: v.as_mut_ptr(), len: v.len(), cap: v.capacity() }
}
fn result(text: &str) -> Buf {
    buf(format!("{{\"content\":[{{\"type\":\"text\",\"text\":{text:?}}}]}}"))
}
unsafe fn text<'a>(s: Str) -> &'a str {
    if s.len == 0 { return ""; }
    std::str::from_utf8(std::slice::from_raw_parts(s.ptr, s.len)).unwrap_or("?")
}
/// Moves a completion (and a context pointer) to another thread.
struct Later(Completion, usize);
unsafe impl Send for Later {}
impl Later {
    unsafe fn complete(&self, status: i32, reply: Buf) {
        (self.0.complete)(self.0.data, self.0.call_id, status, reply)
    }
}

unsafe extern "C" fn manifest(out: *mut Buf) -> i32 { *out = buf(MANIFEST.to_string()); 0 }
unsafe extern "C" fn call(_: *const HostContext, _: *const u8, _: usize, out: *mut Buf) -> i32 {
    *out = buf("{\"code\":-32601,\"message\":\"only tools here\"}".into());
    1
}
unsafe extern "C" fn call_tool(_: *const HostContext, c: *const ToolCall, out: *mut Buf) -> i32 {
    let name = text((*c).name);
    if name == "cancelled" {
        let ids = CANCELLED.lock().unwrap().clone();
        *out = result(&format!("{ids:?}"));
        return 0;
    }
    *out = result(&format!("{name} ran on a worker"));
    0
}
unsafe extern "C" fn start_tool(
    ctx: *const HostContext, c: *const ToolCall, done: *const Completion, out: *mut Buf,
) -> i32 {
    let name = text((*c).name);
    let later = Later(*done, ctx as usize);
    match name {
        "now" => { *out = result("answered at once"); 0 }
        "later" => {
            std::thread::spawn(move || { std::thread::sleep(Duration::from_millis(100));
                later.complete(0, result("completed later")) });
            6
        }
        "twice" => {
            std::thread::spawn(move || { later.complete(0, result("first"));
                later.complete(0, result("second")) });
            6
        }
        "never" => 6,
        "progress" => {
            std::thread::spawn(move || {
                let ctx = &*(later.1 as *const HostContext);
                let n = br#"{"method":"notifications/progress","params":{"progress":1,"total":2}}"#;
                (ctx.notify)(ctx.data, n.as_ptr(), n.len());
                std::thread::sleep(Duration::from_millis(20));
                later.complete(0, result("progressed"))
            });
            6
        }
        "cancellable" => {
            WAITING.lock().unwrap().push(Waiting { id: (*done).call_id, done: *done });
            6
        }
        _ => call_tool(ctx, c, out),
    }
}
unsafe extern "C" fn cancel_call(id: u64) {
    let mut waiting = WAITING.lock().unwrap();
    if let Some(i) = waiting.iter().position(|w| w.id == id) {
        let w = waiting.remove(i);
        CANCELLED.lock().unwrap().push(id);
        let later = Later(w.done, 0);
        std::thread::spawn(move || later.complete(5, Buf { ptr: std::ptr::null_mut(), len: 0, cap: 0 }));
    } else {
        CANCELLED.lock().unwrap().push(id);
    }
}
unsafe extern "C" fn unload() {}
unsafe extern "C" fn free_buf(b: Buf) {
    if !b.ptr.is_null() { drop(Vec::from_raw_parts(b.ptr, b.len, b.cap)); }
}
"###;

fn async_plugin(dir: &std::path::Path) -> std::path::PathBuf {
    compile(dir, "asyncabi", ASYNC_PLUGIN)
}

/// The ids the plugin was asked to cancel, as its `cancelled` tool reports them.
fn cancelled(server: &util::Server, session: Option<&str>) -> Vec<u64> {
    let reply = server.call(&tool_call(99, "cancelled", json!({})), session);
    serde_json::from_str(&text_of(&reply)).unwrap_or_else(|e| panic!("{e}: {reply}"))
}

#[test]
fn async_calls_complete_from_another_thread_or_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = util::serve(&async_plugin(dir.path()), &["--stateless", "true"]);
    for (tool, expected) in [("later", "completed later"), ("now", "answered at once")] {
        let reply = server.call(&tool_call(1, tool, json!({})), None);
        assert_eq!(text_of(&reply), expected, "{tool}: {reply}");
    }
    // Many at once: nothing holds a thread per call, and each gets its own answer.
    let server = &server;
    let replies: Vec<Value> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..40)
            .map(|i| s.spawn(move || server.call(&tool_call(i, "later", json!({})), None)))
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    for (i, reply) in replies.iter().enumerate() {
        assert_eq!(reply["id"], i as i64, "{reply}");
        assert_eq!(text_of(reply), "completed later", "{reply}");
    }
}

#[test]
fn a_second_completion_is_ignored_and_logged_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = util::serve(&async_plugin(dir.path()), &["--stateless", "true"]);
    for id in 1..=3 {
        let reply = server.call(&tool_call(id, "twice", json!({})), None);
        assert_eq!(text_of(&reply), "first", "{reply}");
    }
    let warned = "the plugin completed a call that is not pending (twice, or never started); \
                  ignored";
    assert!(
        server.wait_log(warned, 1, Duration::from_secs(5)),
        "{}",
        server.log_text()
    );
    assert_eq!(
        server.log_events(warned).len(),
        1,
        "logged once per generation"
    );
    let reply = server.call(&tool_call(4, "later", json!({})), None);
    assert_eq!(text_of(&reply), "completed later", "still serving: {reply}");
}

#[test]
fn a_call_never_completed_times_out_and_is_cancelled_in_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = async_plugin(dir.path());
    let server = util::serve(&plugin, &["--stateless", "true", "--tool-timeout", "1s"]);
    let reply = server.call(&tool_call(1, "never", json!({})), None);
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    assert!(text_of(&reply).contains("timed out after 1s"), "{reply}");
    assert_eq!(
        cancelled(&server, None).len(),
        1,
        "the host cancelled the call it gave up on"
    );
    let reply = server.call(&tool_call(2, "now", json!({})), None);
    assert_eq!(text_of(&reply), "answered at once", "{reply}");
}

#[test]
fn a_client_that_hangs_up_cancels_its_async_call() {
    let dir = tempfile::tempdir().unwrap();
    let server = util::serve(&async_plugin(dir.path()), &["--stateless", "true"]);
    let impatient = reqwest::blocking::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let gave_up = impatient
        .post(server.mcp())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(tool_call(1, "cancellable", json!({})).to_string())
        .send();
    assert!(gave_up.is_err(), "the call should still be running");
    assert!(
        util::eventually(Duration::from_secs(10), || cancelled(&server, None).len()
            == 1),
        "the plugin was never asked to cancel: {:?}",
        cancelled(&server, None)
    );
    let reply = server.call(&tool_call(2, "later", json!({})), None);
    assert_eq!(text_of(&reply), "completed later", "{reply}");
}

#[test]
fn a_cancel_notification_reaches_an_async_call_in_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let server = util::serve(&async_plugin(dir.path()), &[]);
    let session = server.initialize();
    let reply = std::thread::scope(|s| {
        let call = s.spawn(|| server.call(&tool_call(7, "cancellable", json!({})), Some(&session)));
        std::thread::sleep(Duration::from_millis(300));
        let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                          "params": {"requestId": 7, "reason": "test"}});
        assert_eq!(server.post(&note, Some(&session)).status(), 202);
        call.join().unwrap()
    });
    assert_eq!(reply["error"]["code"], -32800, "{reply}");
    assert_eq!(cancelled(&server, Some(&session)).len(), 1);
}

#[test]
fn an_async_call_reports_progress_from_the_plugins_own_thread() {
    let dir = tempfile::tempdir().unwrap();
    let server = util::serve(&async_plugin(dir.path()), &["--stateless", "true"]);
    let mut body = tool_call(1, "progress", json!({}));
    body["params"]["_meta"] = json!({"progressToken": "p1"});
    let response = server.post(&body, None);
    assert_eq!(util::content_type(&response), "text/event-stream");
    let messages = sse_messages(&response.text().unwrap());
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0]["method"], "notifications/progress");
    assert_eq!(messages[0]["params"]["progressToken"], "p1");
    assert_eq!(text_of(&messages[1]), "progressed", "{messages:?}");
}
