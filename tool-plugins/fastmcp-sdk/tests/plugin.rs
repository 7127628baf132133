//! The SDK end to end, in-process: tools defined with `#[tool]`, exported with
//! `export_plugin!`, called through the ABI table with a fake host (`testing::TestHost`).

use std::sync::atomic::{AtomicUsize, Ordering};

use fastmcp_sdk::abi::{
    Buf, PluginTable, STATUS_CANCELLED, STATUS_ERROR, STATUS_INPUT_REQUIRED, STATUS_OK,
    STATUS_PANIC, Str, TableField, ToolCall,
};
use fastmcp_sdk::prelude::*;
use fastmcp_sdk::testing::TestHost;

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Operation {
    Add,
    Multiply,
}

#[derive(Deserialize, JsonSchema)]
struct CalculateArgs {
    /// The operation to perform
    operation: Operation,
    /// The first operand
    a: f64,
    /// The second operand
    b: f64,
}

/// Perform a calculation
///
/// on two numbers.
#[tool(read_only, idempotent, open_world = false)]
fn calculate(args: CalculateArgs) -> String {
    match args.operation {
        Operation::Add => format!("{}", args.a + args.b),
        Operation::Multiply => format!("{}", args.a * args.b),
    }
}

/// Tools in a module, exported by path.
mod nested {
    use fastmcp_sdk::prelude::*;

    #[derive(Deserialize, JsonSchema)]
    pub struct NameArgs {
        /// Who to greet
        pub name: Option<String>,
    }

    /// Greets
    #[tool(name = "greet", title = "Greeter", description = "Says hello")]
    pub fn greet_tool(args: NameArgs) -> String {
        format!("hello {}", args.name.as_deref().unwrap_or("world"))
    }
}

#[derive(Deserialize, JsonSchema)]
struct MessageArgs {
    message: String,
}

/// Panics
#[tool(destructive)]
fn explode(args: MessageArgs) -> String {
    panic!("{}", args.message)
}

/// Reports progress and logs
#[tool]
fn chatty(ctx: &Context) -> Vec<Content> {
    ctx.progress(1.0, Some(2.0), Some("half"));
    ctx.debug("a debug line");
    ctx.log(LogLevel::Critical, json!({"structured": true}));
    assert!(ctx.notify(
        "notifications/resources/updated",
        json!({"uri": "test://x"})
    ));
    vec![Content::text("done"), Content::image("AAAA", "image/png")]
}

static STEPS: AtomicUsize = AtomicUsize::new(0);

/// Counts steps until cancelled
#[tool]
fn until_cancelled(ctx: &Context) -> Result<&'static str, ToolError> {
    for _ in 0..1000 {
        if ctx.is_cancelled() {
            return Err("cancelled".into());
        }
        STEPS.fetch_add(1, Ordering::SeqCst);
    }
    Ok("never cancelled")
}

/// Asks the user
#[tool(requires_auth, scopes = ["ask", "user"])]
fn ask(ctx: &Context) -> Result<String, ToolError> {
    let answer = ctx.elicit(json!({"message": "Name?", "requestedSchema": {"type": "object"}}))?;
    Ok(format!("name={}", answer["content"]["name"]))
}

/// Swallows the host's error, yet the call must still end with INPUT_REQUIRED
#[tool]
fn stubborn(ctx: &Context) -> String {
    match ctx.sample(json!({})) {
        Ok(_) => "answered".into(),
        Err(error) => format!("ignored: {error}"),
    }
}

#[derive(Serialize, JsonSchema)]
struct Point {
    /// Horizontal
    x: i32,
    y: i32,
}

/// Structured output
#[tool]
fn point() -> Json<Point> {
    Json(Point { x: 1, y: 2 })
}

fn handwritten_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {"address": {"type": "object", "properties": {"street": {"type": "string"}}}},
        "properties": {"address": {"$ref": "#/$defs/address"}},
        "additionalProperties": false
    })
}

/// Takes a hand-written schema
#[tool(input_schema = handwritten_schema)]
fn handwritten(args: Value) -> Value {
    args
}

/// Returns what the host sent
#[tool]
fn whoami(ctx: &Context) -> String {
    let caller = ctx
        .caller()
        .map_or("anonymous", |caller| caller.id.as_str());
    format!("{caller} {} {:?}", ctx.protocol_version(), ctx.session_id())
}

fastmcp_sdk::export_plugin! {
    name: "sdk-test",
    version: "1.2.3",
    tools: [
        calculate, nested::greet_tool, explode, chatty, until_cancelled, ask, stubborn, point,
        handwritten, whoami,
    ],
}

fn host() -> TestHost {
    TestHost::new(fastmcp_plugin_entry)
}

fn tool<'a>(manifest: &'a Value, name: &str) -> &'a Value {
    let tools = manifest["tools"].as_array().unwrap();
    tools.iter().find(|tool| tool["name"] == name).unwrap()
}

#[test]
fn the_table_has_the_abi_header() {
    // SAFETY: the entry point returns a pointer to a static table.
    let table = unsafe { &*fastmcp_plugin_entry() };
    assert_eq!(table.abi_version, 1);
    assert_eq!(table.size as usize, size_of::<PluginTable>());
    assert!(PluginTable::has(table.size, TableField::CallTool));
}

#[test]
fn call_tool_serves_tools_exactly_as_call_does() {
    let host = host();
    let plain = json!({"protocolVersion": "2025-06-18"});
    let full = json!({"protocolVersion": "2026-07-28", "sessionId": "s1",
        "caller": {"id": "u1", "scopes": []}, "requestId": 7});
    let cases = [
        (
            "calculate",
            Some(json!({"operation": "add", "a": 2, "b": 3})),
            &plain,
        ),
        (
            "calculate",
            Some(json!({"operation": "modulo", "a": 1, "b": 2})),
            &plain,
        ),
        ("calculate", Some(json!([1, 2])), &plain),
        ("greet", None, &plain),
        ("missing", Some(json!({})), &plain),
        ("explode", Some(json!({"message": "kaboom"})), &plain),
        ("point", None, &plain),
        ("whoami", None, &full),
    ];
    for (name, arguments, context) in cases {
        let direct = host.call_tool_with_context(name, arguments.clone(), context.clone());
        let mut params = json!({ "name": name });
        if let Some(arguments) = arguments {
            params["arguments"] = arguments;
        }
        let enveloped = host.request_with_context("tools/call", params, context.clone());
        assert_eq!(direct, enveloped, "{name}");
    }
    assert_eq!(
        host.call_tool_with_context("whoami", None, full).text(),
        "u1 2026-07-28 Some(\"s1\")"
    );
}

#[test]
fn a_broken_tool_call_is_refused_not_crashed_on() {
    // SAFETY: the entry point returns a pointer to a static table.
    let table = unsafe { &*fastmcp_plugin_entry() };
    let call = |call: *const ToolCall| {
        let mut out = Buf::EMPTY;
        // SAFETY: `call` is null or a valid `ToolCall` whose strings outlive this; `out` is
        // writable; a null host context is allowed.
        let status = unsafe { (table.call_tool)(std::ptr::null(), call, &mut out) };
        // SAFETY: the plugin wrote `len` bytes at `ptr`, freed right after.
        let body = unsafe { std::slice::from_raw_parts(out.ptr, out.len) };
        let body: Value = serde_json::from_slice(body).unwrap();
        // SAFETY: `out` came from this plugin and is freed once.
        unsafe { (table.free_buf)(out) };
        (status, body)
    };
    let well_formed = ToolCall {
        size: size_of::<ToolCall>() as u32,
        name: Str::new("greet"),
        arguments: Str::new(r#"{"name":"Bo"}"#),
        params: Str::new(r#"{"name":"greet","arguments":{"name":"Bo"}}"#),
        context: Str::EMPTY,
    };
    let (status, body) = call(&well_formed);
    assert_eq!(
        (status, &body["content"][0]["text"]),
        (STATUS_OK, &json!("hello Bo"))
    );

    let invalid_request = |(status, body): (i32, Value)| {
        assert_eq!(
            (status, &body["code"]),
            (STATUS_ERROR, &json!(-32600)),
            "{body}"
        );
    };
    invalid_request(call(std::ptr::null()));
    invalid_request(call(&ToolCall {
        size: 8,
        ..well_formed
    }));
    let latin1 = [0xe9u8];
    let not_utf8 = Str {
        ptr: latin1.as_ptr(),
        len: 1,
    };
    invalid_request(call(&ToolCall {
        name: not_utf8,
        ..well_formed
    }));
    // The context is read only when the tool asks for it (`greet` does not).
    let (status, body) = call(&ToolCall {
        context: not_utf8,
        ..well_formed
    });
    assert_eq!(
        (status, &body["content"][0]["text"]),
        (STATUS_OK, &json!("hello Bo"))
    );
    let null_with_a_length = Str {
        ptr: std::ptr::null(),
        len: 4,
    };
    invalid_request(call(&ToolCall {
        name: null_with_a_length,
        ..well_formed
    }));
    // Arguments that are not JSON are the tool's invalid arguments, as any that do not fit.
    let (status, body) = call(&ToolCall {
        arguments: Str::new("{\"name\":"),
        ..well_formed
    });
    assert_eq!(
        (status, &body["isError"]),
        (STATUS_OK, &json!(true)),
        "{body}"
    );
    let text = body["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Invalid arguments for tool \"greet\": "),
        "{body}"
    );
}

#[test]
fn manifest_describes_the_tools() {
    let manifest = host().manifest();
    assert_eq!(manifest["name"], "sdk-test");
    assert_eq!(manifest["version"], "1.2.3");
    assert_eq!(
        manifest["sdk"],
        concat!("fastmcp-sdk ", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(manifest["prompts"], json!([]));

    let calculate = tool(&manifest, "calculate");
    assert_eq!(
        calculate["description"],
        "Perform a calculation\n\non two numbers."
    );
    assert_eq!(
        calculate["annotations"],
        json!({"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false})
    );
    assert_eq!(
        calculate["access"],
        json!({"authenticated": false, "scopes": []})
    );
    assert!(calculate.get("outputSchema").is_none() && calculate.get("title").is_none());
    let schema = &calculate["inputSchema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(
        schema["properties"]["operation"]["description"],
        "The operation to perform"
    );
    assert_eq!(
        schema["properties"]["b"]["description"],
        "The second operand"
    );
    // Enums are inlined (many clients do not resolve `$ref`), and the root has no `title`.
    assert_eq!(
        schema["properties"]["operation"]["enum"],
        json!(["add", "multiply"])
    );
    assert!(schema.get("$defs").is_none() && schema.get("title").is_none());

    let greet = tool(&manifest, "greet");
    assert_eq!(
        (&greet["title"], &greet["description"]),
        (&json!("Greeter"), &json!("Says hello"))
    );
    assert!(greet.get("annotations").is_none());
    assert_eq!(greet["inputSchema"]["required"], json!(null));

    assert_eq!(
        tool(&manifest, "explode")["annotations"],
        json!({"destructiveHint": true})
    );
    assert_eq!(
        tool(&manifest, "chatty")["inputSchema"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(
        tool(&manifest, "ask")["access"],
        json!({"authenticated": true, "scopes": ["ask", "user"]})
    );
    assert_eq!(
        tool(&manifest, "handwritten")["inputSchema"],
        handwritten_schema()
    );

    let output = &tool(&manifest, "point")["outputSchema"];
    assert_eq!(output["type"], "object");
    assert_eq!(output["properties"]["x"]["description"], "Horizontal");
}

#[test]
fn calls_a_tool() {
    let host = host();
    let reply = host.call_tool(
        "calculate",
        json!({"operation": "multiply", "a": 6, "b": 7}),
    );
    assert_eq!(reply.status, STATUS_OK);
    assert_eq!(
        reply.body,
        json!({"content": [{"type": "text", "text": "42"}]})
    );
    assert_eq!(
        host.call_tool("greet", json!({"name": "Ann"})).text(),
        "hello Ann"
    );
    // Missing arguments count as `{}`.
    let reply = host.request("tools/call", json!({"name": "greet"}));
    assert_eq!(reply.text(), "hello world");
}

#[test]
fn invalid_arguments_are_a_tool_error_naming_the_argument() {
    let host = host();
    let reply = host.call_tool("calculate", json!({"operation": "modulo", "a": 1, "b": 2}));
    assert_eq!(reply.status, STATUS_OK);
    assert!(reply.is_error());
    assert_eq!(
        reply.text(),
        "Invalid arguments for tool \"calculate\": operation: unknown variant `modulo`, \
         expected `add` or `multiply`"
    );
    let reply = host.call_tool("calculate", json!({"operation": "add", "a": 1}));
    assert_eq!(
        reply.text(),
        "Invalid arguments for tool \"calculate\": missing field `b`"
    );
}

#[test]
fn protocol_errors() {
    let host = host();
    let reply = host.call_tool("missing", json!({}));
    assert_eq!(
        (reply.status, &reply.body),
        (
            STATUS_ERROR,
            &json!({"code": -32602, "message": "Unknown tool: missing"})
        )
    );
    let reply = host.request("prompts/get", json!({"name": "p"}));
    let unknown = json!({"code": -32602, "message": "Unknown prompt: p"});
    assert_eq!((reply.status, reply.body), (STATUS_ERROR, unknown));
    let reply = host.request("tools/call", json!({"arguments": {}}));
    assert_eq!(
        (reply.status, &reply.body["code"]),
        (STATUS_ERROR, &json!(-32602))
    );
    for malformed in [&b"not json"[..], b"{}", b"", b"{\"method\": 3}"] {
        let reply = host.send(malformed, true);
        assert_eq!(
            (reply.status, &reply.body["code"]),
            (STATUS_ERROR, &json!(-32600)),
            "{malformed:?}"
        );
    }
}

#[test]
fn a_panic_is_reported_and_the_plugin_keeps_serving() {
    let host = host();
    let reply = host.call_tool("explode", json!({"message": "kaboom"}));
    assert_eq!(reply.status, STATUS_PANIC);
    assert_eq!(
        reply.body,
        json!({"message": "tool \"explode\" panicked: kaboom"})
    );
    let reply = host.call_tool("explode", json!({"message": "again"}));
    assert_eq!(reply.body["message"], "tool \"explode\" panicked: again");
    assert_eq!(host.call_tool("greet", json!({})).text(), "hello world");
}

#[test]
fn notifications_reach_the_host() {
    let host = host();
    let reply = host.call_tool("chatty", json!({}));
    assert_eq!(
        reply.body["content"][1],
        json!({"type": "image", "data": "AAAA", "mimeType": "image/png"})
    );
    assert_eq!(
        host.take_notifications(),
        [
            json!({"method": "notifications/progress",
                "params": {"progress": 1.0, "total": 2.0, "message": "half"}}),
            json!({"method": "notifications/message",
                "params": {"level": "debug", "logger": "sdk-test", "data": "a debug line"}}),
            json!({"method": "notifications/message",
                "params": {"level": "critical", "logger": "sdk-test", "data": {"structured": true}}}),
            json!({"method": "notifications/resources/updated", "params": {"uri": "test://x"}}),
        ]
    );
}

#[test]
fn without_a_host_notifications_are_dropped_and_requests_unsupported() {
    let host = host();
    let request = json!({"method": "tools/call", "params": {"name": "until_cancelled"}});
    let reply = host.send(request.to_string().as_bytes(), false);
    assert_eq!(reply.text(), "never cancelled");
    let request = json!({"method": "tools/call", "params": {"name": "ask"}});
    let reply = host.send(request.to_string().as_bytes(), false);
    assert_eq!(
        reply.text(),
        "not supported: elicitation/create needs a host"
    );
    assert!(reply.is_error());
    assert!(host.take_notifications().is_empty() && host.take_requests().is_empty());
}

#[test]
fn cancellation_is_seen() {
    let host = host();
    host.cancel();
    let before = STEPS.load(Ordering::SeqCst);
    let reply = host.call_tool("until_cancelled", json!({}));
    assert!(reply.is_error() && reply.text() == "cancelled", "{reply:?}");
    assert_eq!(STEPS.load(Ordering::SeqCst), before);
}

#[test]
fn client_requests_and_their_failures() {
    let host = host();
    host.answer_next_request(
        STATUS_OK,
        json!({"action": "accept", "content": {"name": "Bo"}}),
    );
    assert_eq!(host.call_tool("ask", json!({})).text(), "name=\"Bo\"");
    let requests = host.take_requests();
    assert_eq!(requests[0]["method"], "elicitation/create");
    assert_eq!(requests[0]["params"]["message"], "Name?");

    host.answer_next_request(STATUS_ERROR, json!({"code": -1, "message": "user refused"}));
    let reply = host.call_tool("ask", json!({}));
    assert_eq!(
        reply.text(),
        "the client answered with error -1: user refused"
    );
    host.answer_next_request(STATUS_CANCELLED, Value::Null);
    assert_eq!(
        host.call_tool("ask", json!({})).text(),
        "the call was cancelled"
    );
}

#[test]
fn input_required_ends_the_call_with_that_status() {
    let host = host();
    host.answer_next_request(STATUS_INPUT_REQUIRED, Value::Null);
    let reply = host.call_tool("ask", json!({}));
    assert_eq!(
        (reply.status, reply.body),
        (STATUS_INPUT_REQUIRED, Value::Null)
    );
    // Even when the tool ignores the error and returns normally.
    host.answer_next_request(STATUS_INPUT_REQUIRED, Value::Null);
    let reply = host.call_tool("stubborn", json!({}));
    assert_eq!(
        (reply.status, reply.body),
        (STATUS_INPUT_REQUIRED, Value::Null)
    );
    // The flag belongs to one call only.
    host.answer_next_request(STATUS_OK, json!({}));
    assert_eq!(host.call_tool("stubborn", json!({})).text(), "answered");
}

#[test]
fn json_output_is_structured() {
    let reply = host().call_tool("point", json!({}));
    assert_eq!(
        reply.body,
        json!({"content": [{"type": "text", "text": "{\"x\":1,\"y\":2}"}],
            "structuredContent": {"x": 1, "y": 2}})
    );
}

#[test]
fn the_request_context_reaches_the_tool() {
    let host = host();
    assert_eq!(
        host.call_tool("whoami", json!({})).text(),
        "anonymous 2025-06-18 None"
    );
    let context = json!({"protocolVersion": "2026-07-28", "sessionId": "s1",
        "caller": {"id": "u1", "scopes": []}, "requestId": 7});
    let reply = host.request_with_context("tools/call", json!({"name": "whoami"}), context);
    assert_eq!(reply.text(), "u1 2026-07-28 Some(\"s1\")");
}

#[test]
fn concurrent_calls() {
    let host = host();
    std::thread::scope(|scope| {
        for i in 0..8 {
            let host = &host;
            scope.spawn(move || {
                for j in 0..50 {
                    let args = json!({"operation": "add", "a": i, "b": j});
                    let text = host.call_tool("calculate", args).text();
                    assert_eq!(text, (i + j).to_string());
                }
            });
        }
    });
}

/// A plugin whose definition is wrong, exported by hand (only one `export_plugin!` per binary).
mod broken {
    use fastmcp_sdk::__private::{PluginSource, Registry, RegistryCell, table};
    use fastmcp_sdk::abi::PluginTable;
    use fastmcp_sdk::prelude::*;
    use fastmcp_sdk::{Plugin, ToolDef};

    static REGISTRY: RegistryCell = RegistryCell::new();

    enum Broken {}
    impl PluginSource for Broken {
        fn registry() -> &'static Registry {
            REGISTRY.get_or_init(|| {
                let tool = || ToolDef::new("twice", |_, _| ToolResult::new());
                Registry::new(Plugin::new("broken", "0").tool(tool()).tool(tool()))
            })
        }
        fn release() {
            REGISTRY.release()
        }
    }

    pub extern "C" fn entry() -> *const PluginTable {
        static TABLE: PluginTable = table::<Broken>();
        &TABLE
    }
}

#[test]
fn an_invalid_definition_fails_the_manifest_with_a_message() {
    let reply = TestHost::new(broken::entry).manifest_reply();
    assert_eq!(reply.status, STATUS_PANIC);
    assert_eq!(
        reply.body["message"],
        "plugin panicked while building the manifest: tool \"twice\" is defined twice"
    );
}
