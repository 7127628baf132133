//! A plugin's replies are checked against the protocol's result types before they reach a
//! client: a malformed `tools/call`, `resources/read`, `prompts/get` or `completion/complete`
//! result, or structured content that does not match the tool's `outputSchema`, becomes the
//! JSON-RPC error -32603 "The plugin returned an invalid reply", with an ERROR log naming the
//! plugin, the method and the problem. Driven by a hand-written plugin that returns exactly the
//! replies under test, on the inline and the worker path, in both modes.

use serde_json::{Value, json};

use crate::plugins_load::compile;
use crate::util::{self, Server, rpc, text_of, tool_call};

/// An ABI 1.1 plugin whose every answer is canned: tools by name, other methods by method.
const REPLIES_PLUGIN: &str = r###"
#[repr(C)] #[derive(Clone, Copy)] pub struct Buf { ptr: *mut u8, len: usize, cap: usize }
#[repr(C)] #[derive(Clone, Copy)] pub struct Str { ptr: *const u8, len: usize }
#[repr(C)] pub struct ToolCall { size: u32, name: Str, arguments: Str, params: Str, context: Str }
#[repr(C)] pub struct Table {
    abi_version: u32, size: u32,
    manifest: unsafe extern "C" fn(*mut Buf) -> i32,
    call: unsafe extern "C" fn(*const u8, *const u8, usize, *mut Buf) -> i32,
    free_buf: unsafe extern "C" fn(Buf),
    unload: unsafe extern "C" fn(),
    call_tool: unsafe extern "C" fn(*const u8, *const ToolCall, *mut Buf) -> i32,
}
unsafe impl Sync for Table {}
static TABLE: Table = Table {
    abi_version: 1, size: std::mem::size_of::<Table>() as u32,
    manifest, call, free_buf, unload, call_tool,
};
#[no_mangle]
pub extern "C" fn fastmcp_plugin_entry() -> *const Table { &TABLE }

const SCHEMA: &str = r#"{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}"#;

fn manifest_json() -> String {
    let tool = |name: &str, extra: &str| format!(
        r#"{{"name":"{name}","inputSchema":{{"type":"object"}}{extra}}}"#);
    let tools = [
        tool("good", r#","inline":true"#),
        tool("string", r#","inline":true"#),
        tool("wrong_types", ""),
        tool("untyped_block", r#","inline":true"#),
        tool("not_json", ""),
        tool("good_structured", &format!(r#","outputSchema":{SCHEMA}"#)),
        tool("bad_structured", &format!(r#","outputSchema":{SCHEMA},"inline":true"#)),
        tool("missing_structured", &format!(r#","outputSchema":{SCHEMA}"#)),
    ];
    format!(r#"{{"name":"replies","tools":[{}],
        "resources":[{{"uri":"test://bad","name":"bad"}}],
        "prompts":[{{"name":"bad"}}],
        "capabilities":{{"completions":true}}}}"#, tools.join(","))
}

fn reply_for_tool(name: &str) -> &'static str {
    match name {
        "good" => r#"{"content":[{"type":"text","text":"fine"}]}"#,
        "string" => r#""just a string""#,
        "wrong_types" => r#"{"content":"not an array","isError":"yes"}"#,
        "untyped_block" => r#"{"content":[{"text":"x"}]}"#,
        "not_json" => r#"{"content":["#,
        "good_structured" => r#"{"content":[{"type":"text","text":"{\"n\":3}"}],"structuredContent":{"n":3}}"#,
        "bad_structured" => r#"{"content":[],"structuredContent":{"n":"3"}}"#,
        _ => r#"{"content":[{"type":"text","text":"no structure"}]}"#,
    }
}

fn buf(text: String) -> Buf {
    let mut v = std::mem::ManuallyDrop::new(text.into_bytes());
    Buf { ptr: v.as_mut_ptr(), len: v.len(), cap: v.capacity() }
}
unsafe extern "C" fn manifest(out: *mut Buf) -> i32 { *out = buf(manifest_json()); 0 }
unsafe extern "C" fn call(_: *const u8, req: *const u8, len: usize, out: *mut Buf) -> i32 {
    let request = std::str::from_utf8(std::slice::from_raw_parts(req, len)).unwrap_or("");
    let reply = if request.contains("\"resources/read\"") {
        r#"{"contents":"nope"}"#
    } else if request.contains("\"prompts/get\"") {
        r#"{"messages":[{"role":"robot"}]}"#
    } else if request.contains("\"completion/complete\"") {
        r#"{"completion":{}}"#
    } else {
        r#"{}"#
    };
    *out = buf(reply.to_string());
    0
}
unsafe extern "C" fn call_tool(_: *const u8, c: *const ToolCall, out: *mut Buf) -> i32 {
    let name = std::str::from_utf8(std::slice::from_raw_parts((*c).name.ptr, (*c).name.len))
        .unwrap_or("");
    *out = buf(reply_for_tool(name).to_string());
    0
}
unsafe extern "C" fn unload() {}
unsafe extern "C" fn free_buf(b: Buf) {
    if !b.ptr.is_null() { drop(Vec::from_raw_parts(b.ptr, b.len, b.cap)); }
}
"###;

const INVALID: &str = "The plugin returned an invalid reply";

fn assert_invalid(server: &Server, reply: &Value, method: &str, problem: &str) {
    assert_eq!(reply["error"]["code"], -32603, "{method}: {reply}");
    assert_eq!(reply["error"]["message"], INVALID, "{method}: {reply}");
    // Log lines reach us through a background writer and a pipe: wait for this one.
    let named = util::eventually(std::time::Duration::from_secs(5), || {
        let logged = server.log_events("the plugin returned an invalid reply");
        logged.iter().any(|e| {
            e["level"] == "ERROR"
                && e["plugin"] == "replies"
                && e["method"] == method
                && e["problem"].as_str().is_some_and(|p| p.contains(problem))
        })
    });
    assert!(
        named,
        "no ERROR naming {method} and {problem:?}:\n{}",
        server.log_text()
    );
}

fn check_all(server: &Server, session: Option<&str>) {
    let call = |name: &str| server.call(&tool_call(1, name, json!({})), session);
    assert_eq!(text_of(&call("good")), "fine");
    let structured = call("good_structured");
    assert_eq!(structured["result"]["structuredContent"], json!({"n": 3}));
    let bad_tools = [
        ("string", "not a CallToolResult"),
        ("wrong_types", "content blocks"),
        ("untyped_block", "missing field `type`"),
        ("not_json", "EOF while parsing"),
        ("bad_structured", "/n: expected integer"),
        ("missing_structured", "no structuredContent"),
    ];
    for (tool, problem) in bad_tools {
        let reply = call(tool);
        assert_invalid(server, &reply, "tools/call", problem);
    }
    let read = server.call(
        &rpc(2, "resources/read", json!({"uri": "test://bad"})),
        session,
    );
    assert_invalid(server, &read, "resources/read", "ReadResourceResult");
    let prompt = server.call(&rpc(3, "prompts/get", json!({"name": "bad"})), session);
    assert_invalid(server, &prompt, "prompts/get", "GetPromptResult");
    let complete = rpc(
        4,
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "bad"}, "argument": {"name": "a", "value": ""}}),
    );
    let complete = server.call(&complete, session);
    assert_invalid(server, &complete, "completion/complete", "CompleteResult");
}

#[test]
fn malformed_plugin_replies_become_invalid_reply_errors_in_both_modes() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = compile(dir.path(), "replies", REPLIES_PLUGIN);
    let stateless = util::serve(&plugin, &["--stateless", "true"]);
    check_all(&stateless, None);
    let stateful = util::serve(&plugin, &[]);
    let session = stateful.initialize();
    check_all(&stateful, Some(&session));
}
