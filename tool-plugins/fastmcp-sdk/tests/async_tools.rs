//! `#[tool] async fn` end to end, through the real ABI functions: `call_tool` (a host without
//! `start_tool`, run to the end on the calling thread), `start_tool` with a completion that
//! comes from the plugin's runtime, and `cancel_call`.
#![cfg(feature = "async")]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fastmcp_sdk::abi::{
    STATUS_CANCELLED, STATUS_ERROR, STATUS_INPUT_REQUIRED, STATUS_OK, STATUS_PANIC, STATUS_PENDING,
};
use fastmcp_sdk::prelude::*;
use fastmcp_sdk::testing::{Reply, TestHost};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Deserialize, JsonSchema)]
struct WaitArgs {
    /// Milliseconds
    ms: u64,
}

/// Waits
#[tool]
async fn wait_ms(args: WaitArgs) -> String {
    tokio::time::sleep(Duration::from_millis(args.ms)).await;
    format!("waited {} ms", args.ms)
}

/// Uses every part of the context that needs no answer from the client
#[tool]
async fn chatty(ctx: &Context) -> String {
    ctx.progress(1.0, Some(2.0), None);
    tokio::time::sleep(Duration::from_millis(1)).await;
    ctx.info("after an await");
    ctx.resource_updated("test://x");
    let caller = ctx
        .caller()
        .map_or("anonymous", |caller| caller.id.as_str());
    format!(
        "{caller} {} {:?} cancelled={}",
        ctx.protocol_version(),
        ctx.session_id(),
        ctx.is_cancelled()
    )
}

/// Fails
#[tool]
async fn fails() -> Result<String, ToolError> {
    tokio::task::yield_now().await;
    Err(ToolError::new("it went wrong"))
}

/// Panics after an await
#[tool]
async fn boom(args: WaitArgs) -> String {
    tokio::time::sleep(Duration::from_millis(args.ms)).await;
    panic!("boom after {} ms", args.ms)
}

/// Sets a flag when its future is dropped.
struct DropFlag(&'static AtomicBool);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Whether `forever` started, and was dropped, for each test that calls it (tests run at once).
static STARTED: [AtomicBool; 3] = [const { AtomicBool::new(false) }; 3];
static DROPPED: [AtomicBool; 3] = [const { AtomicBool::new(false) }; 3];

#[derive(Deserialize, JsonSchema)]
struct FlagArgs {
    /// Which flags to set (0 to 2), or a text to echo
    flag: String,
}

/// Never ends by itself; sets its flags when it starts and when it is dropped
#[tool]
async fn forever(args: FlagArgs) -> String {
    let flag: usize = args.flag.parse().unwrap_or(2).min(2);
    let _flag = DropFlag(&DROPPED[flag]);
    STARTED[flag].store(true, Ordering::SeqCst);
    std::future::pending::<()>().await;
    unreachable!()
}

/// Waits until the call is cancelled, then says so
#[tool]
async fn until_cancelled(ctx: &Context) -> &'static str {
    ctx.cancelled().await;
    "noticed the cancellation"
}

/// Asks the user through the host, which blocks
#[tool]
async fn ask(ctx: &Context) -> Result<String, ToolError> {
    tokio::task::yield_now().await;
    let answer = ctx.elicit(json!({"message": "Name?", "requestedSchema": {"type": "object"}}))?;
    Ok(format!("name={}", answer["content"]["name"]))
}

/// Echoes a line through a TCP connection to itself on 127.0.0.1
#[tool]
async fn tcp_echo(args: FlagArgs) -> Result<String, ToolError> {
    let error = |e: std::io::Error| ToolError::new(e.to_string());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(error)?;
    let address = listener.local_addr().map_err(error)?;
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await?;
        let mut line = vec![0; 64];
        let n = socket.read(&mut line).await?;
        socket.write_all(&line[..n]).await?;
        Ok::<_, std::io::Error>(())
    });
    let mut client = tokio::net::TcpStream::connect(address)
        .await
        .map_err(error)?;
    client
        .write_all(args.flag.as_bytes())
        .await
        .map_err(error)?;
    let mut back = String::new();
    client.read_to_string(&mut back).await.map_err(error)?;
    server
        .await
        .map_err(|e| ToolError::new(e.to_string()))?
        .map_err(error)?;
    Ok(format!("echoed {back}"))
}

static MET: AtomicUsize = AtomicUsize::new(0);

#[derive(Deserialize, JsonSchema)]
struct MeetArgs {
    /// How many calls must be waiting at once
    count: usize,
}

/// Returns once `count` calls are waiting here at the same time (or after 20 s)
#[tool]
async fn meet(args: MeetArgs) -> String {
    MET.fetch_add(1, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(20);
    while MET.load(Ordering::SeqCst) < args.count && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    format!("met {}", MET.load(Ordering::SeqCst).min(args.count))
}

/// A plain tool
#[tool]
fn plain() -> &'static str {
    "plain"
}

/// A text read after an await
#[resource(uri = "test://later", mime_type = "text/plain")]
async fn later(ctx: &Context) -> String {
    tokio::time::sleep(Duration::from_millis(1)).await;
    ctx.debug("read later");
    "later".into()
}

#[derive(Deserialize)]
struct ItemParams {
    id: u32,
}

/// An item, or none; item 13 panics
#[resource_template(uri_template = "test://items/{id}")]
async fn item(uri: &str, params: ItemParams) -> Option<String> {
    tokio::task::yield_now().await;
    assert_ne!(params.id, 13, "unlucky item");
    (params.id < 10).then(|| format!("{uri} is item {}", params.id))
}

#[derive(Deserialize, JsonSchema)]
struct TopicArgs {
    /// What to write about
    topic: String,
}

/// Writes about a topic
#[prompt]
async fn essay(args: TopicArgs) -> Vec<PromptMessage> {
    tokio::task::yield_now().await;
    vec![PromptMessage::user(format!("Write about {}.", args.topic))]
}

/// Topics
#[completion(prompt = "essay", argument = "topic")]
async fn topics(request: CompletionRequest) -> Vec<String> {
    tokio::task::yield_now().await;
    request.filter(["rust", "ruby", "go"])
}

fastmcp_sdk::export_plugin! {
    name: "sdk-async",
    version: "1.0.0",
    tools: [wait_ms, chatty, fails, boom, forever, until_cancelled, ask, tcp_echo, meet, plain],
    resources: [later],
    resource_templates: [item],
    prompts: [essay],
    completions: [topics],
}

/// The runtime's threads: `<plugin>-rt`.
const RUNTIME_THREAD: &str = "sdk-async-rt";

fn host() -> TestHost {
    TestHost::new(fastmcp_plugin_entry)
}

/// Starts a call and checks that it is left pending.
fn start(host: &TestHost, name: &str, arguments: Value) -> fastmcp_sdk::testing::Pending {
    let call = host.start_tool(name, arguments);
    assert_eq!(call.started(), STATUS_PENDING, "{name}: {:?}", call.wait());
    call
}

/// Waits (bounded) until `condition` holds.
fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn the_manifest_marks_async_tools_and_never_inline() {
    let manifest = host().manifest();
    for tool in manifest["tools"].as_array().unwrap() {
        let is_async = tool["name"] != "plain";
        assert_eq!(tool.get("async") == Some(&json!(true)), is_async, "{tool}");
        assert_eq!(
            tool.get("inline") == Some(&json!(true)),
            !is_async,
            "{tool}"
        );
    }
    let wait = &manifest["tools"][0];
    assert_eq!(wait["description"], "Waits");
    assert_eq!(wait["inputSchema"]["properties"]["ms"]["type"], "integer");
}

#[test]
fn call_tool_runs_an_async_tool_to_its_end() {
    let host = host();
    let reply = host.call_tool("wait_ms", json!({"ms": 5}));
    assert_eq!(
        (reply.status, reply.text()),
        (STATUS_OK, "waited 5 ms".into())
    );
    let context = json!({"protocolVersion": "2025-11-25", "sessionId": "s1",
        "caller": {"id": "u1", "scopes": []}});
    let reply = host.call_tool_with_context("chatty", None, context);
    assert_eq!(reply.text(), "u1 2025-11-25 Some(\"s1\") cancelled=false");
    let methods: Vec<Value> = host
        .take_notifications()
        .into_iter()
        .map(|n| n["method"].clone())
        .collect();
    assert_eq!(
        methods,
        [
            "notifications/progress",
            "notifications/message",
            "notifications/resources/updated"
        ]
    );
}

#[test]
fn start_tool_leaves_the_call_pending_and_completes_it_from_the_runtime() {
    let host = host();
    let call = start(&host, "wait_ms", json!({"ms": 20}));
    let reply = call.wait();
    assert_eq!(
        (reply.status, reply.text()),
        (STATUS_OK, "waited 20 ms".into())
    );
    assert_eq!(call.completed_on().as_deref(), Some(RUNTIME_THREAD));
    assert_eq!(call.completions(), 1);

    let call = start(&host, "chatty", json!({}));
    assert_eq!(
        call.wait().text(),
        "anonymous 2025-06-18 None cancelled=false"
    );
    assert_eq!(host.take_notifications().len(), 3);
}

#[test]
fn both_paths_answer_alike() {
    let host = host();
    let cases = [
        ("wait_ms", json!({"ms": 1})),
        ("wait_ms", json!({"ms": "soon"})),
        ("wait_ms", json!([1])),
        ("fails", json!({})),
        ("boom", json!({"ms": 1})),
        ("tcp_echo", json!({"flag": "ping"})),
    ];
    for (name, arguments) in cases {
        let blocking = host.call_tool(name, arguments.clone());
        let started = start(&host, name, arguments).wait();
        assert_eq!(blocking, started, "{name}");
    }
    let invalid = host.start_tool("wait_ms", json!({"ms": "soon"})).wait();
    assert_eq!(invalid.status, STATUS_OK);
    assert!(invalid.is_error());
    assert!(
        invalid
            .text()
            .starts_with("Invalid arguments for tool \"wait_ms\": ms: invalid type"),
        "{invalid:?}"
    );
    let failed = host.start_tool("fails", json!({})).wait();
    assert!(
        failed.is_error() && failed.text() == "it went wrong",
        "{failed:?}"
    );
    let echoed = host.start_tool("tcp_echo", json!({"flag": "ping"})).wait();
    assert_eq!(echoed.text(), "echoed ping");
}

#[test]
fn a_panic_is_the_reply_and_the_runtime_keeps_serving() {
    let host = host();
    for _ in 0..3 {
        let reply = start(&host, "boom", json!({"ms": 1})).wait();
        assert_eq!(
            reply,
            Reply {
                status: STATUS_PANIC,
                body: json!({"message": "tool \"boom\" panicked: boom after 1 ms"})
            }
        );
    }
    assert_eq!(
        start(&host, "wait_ms", json!({"ms": 1})).wait().text(),
        "waited 1 ms"
    );
}

#[test]
fn cancel_call_drops_the_future_and_completes_once_as_cancelled() {
    let host = host();
    let call = start(&host, "forever", json!({"flag": "0"}));
    eventually("the call runs", || STARTED[0].load(Ordering::SeqCst));
    assert!(!DROPPED[0].load(Ordering::SeqCst));
    call.cancel();
    let reply = call.wait();
    assert_eq!((reply.status, reply.body), (STATUS_CANCELLED, Value::Null));
    assert!(DROPPED[0].load(Ordering::SeqCst));
    // Cancelling again, or a call that ended, or an id never used: ignored.
    call.cancel();
    let done = start(&host, "wait_ms", json!({"ms": 1}));
    assert_eq!(done.wait().text(), "waited 1 ms");
    done.cancel();
    host.cancel_call(u64::MAX);
    // Something the runtime handles after those cancels.
    assert_eq!(
        start(&host, "wait_ms", json!({"ms": 1})).wait().text(),
        "waited 1 ms"
    );
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!((call.completions(), done.completions()), (1, 1));
}

#[test]
fn a_host_cancel_stops_a_call_on_the_blocking_path() {
    let host = host();
    host.cancel();
    let reply = host.call_tool("forever", json!({"flag": "1"}));
    assert_eq!((reply.status, reply.body), (STATUS_CANCELLED, Value::Null));
    assert!(STARTED[1].load(Ordering::SeqCst) && DROPPED[1].load(Ordering::SeqCst));
    // `Context::cancelled` resolves on both paths.
    let host = self::host();
    let call = start(&host, "until_cancelled", json!({}));
    host.cancel();
    assert_eq!(call.wait().text(), "noticed the cancellation");
}

#[test]
fn start_tool_answers_a_plain_or_unknown_tool_at_once() {
    let host = host();
    let call = host.start_tool("plain", json!({}));
    assert_eq!(
        (call.started(), call.wait().text()),
        (STATUS_OK, "plain".into())
    );
    assert_eq!(call.completions(), 0);
    let call = host.start_tool("missing", json!({}));
    assert_eq!(call.started(), STATUS_ERROR);
    assert_eq!(call.wait().body["code"], -32602);
}

#[test]
fn requests_to_the_client_work_from_an_async_tool() {
    let host = host();
    host.answer_next_request(
        STATUS_OK,
        json!({"action": "accept", "content": {"name": "Bo"}}),
    );
    assert_eq!(start(&host, "ask", json!({})).wait().text(), "name=\"Bo\"");
    assert_eq!(host.take_requests()[0]["method"], "elicitation/create");
    host.answer_next_request(
        STATUS_OK,
        json!({"action": "accept", "content": {"name": "Al"}}),
    );
    assert_eq!(host.call_tool("ask", json!({})).text(), "name=\"Al\"");
    host.answer_next_request(STATUS_INPUT_REQUIRED, Value::Null);
    let reply = start(&host, "ask", json!({})).wait();
    assert_eq!(
        (reply.status, reply.body),
        (STATUS_INPUT_REQUIRED, Value::Null)
    );
}

#[test]
fn many_calls_wait_at_once_on_a_few_threads() {
    let host = host();
    let count = 64;
    let calls: Vec<_> = (0..count)
        .map(|_| start(&host, "meet", json!({"count": count})))
        .collect();
    for call in calls {
        assert_eq!(call.wait().text(), format!("met {count}"));
    }
}

#[test]
fn a_call_started_on_a_thread_that_then_exits_completes() {
    // `start_tool` must leave nothing behind on the calling thread (a thread-exit destructor
    // would run after an unload); the host's I/O threads call it, and here short-lived threads
    // do, then exit before the call ends.
    let host = host();
    for round in 0..4u64 {
        let call = std::thread::scope(|s| {
            s.spawn(|| start(&host, "wait_ms", json!({"ms": 10 + round})))
                .join()
                .unwrap()
        });
        assert_eq!(call.wait().text(), format!("waited {} ms", 10 + round));
        let cancelled = std::thread::scope(|s| {
            s.spawn(|| {
                let call = start(&host, "forever", json!({"flag": "2"}));
                call.cancel();
                call
            })
            .join()
            .unwrap()
        });
        assert_eq!(cancelled.wait().status, STATUS_CANCELLED);
    }
}

#[test]
fn async_resources_prompts_and_completions_run_to_their_end() {
    let host = host();
    let read = host.read_resource("test://later");
    assert_eq!(read.body["contents"][0]["text"], "later", "{read:?}");
    assert_eq!(host.take_notifications()[0]["params"]["data"], "read later");
    let read = host.read_resource("test://items/4");
    assert_eq!(read.body["contents"][0]["text"], "test://items/4 is item 4");
    assert_eq!(host.read_resource("test://items/12").body["code"], -32002);
    let panicked = host.read_resource("test://items/13");
    assert_eq!(panicked.status, STATUS_PANIC);
    assert!(
        panicked.body["message"]
            .as_str()
            .unwrap()
            .contains("unlucky item"),
        "{panicked:?}"
    );
    let prompt = host.get_prompt("essay", json!({"topic": "tea"}));
    assert_eq!(
        prompt.body["messages"][0]["content"]["text"],
        "Write about tea."
    );
    let done = host.complete(json!({"type": "ref/prompt", "name": "essay"}), "topic", "r");
    assert_eq!(done.body["completion"]["values"], json!(["rust", "ruby"]));
}

#[test]
fn a_start_without_a_usable_completion_is_refused() {
    use fastmcp_sdk::abi::{Buf, Completion, Str, ToolCall};
    unsafe extern "C" fn never(_: *const std::ffi::c_void, _: u64, _: i32, _: Buf) {
        panic!("a refused call must never be completed");
    }
    // SAFETY: the entry point returns a pointer to a static table.
    let table = unsafe { &*fastmcp_plugin_entry() };
    let call = ToolCall {
        size: size_of::<ToolCall>() as u32,
        name: Str::new("wait_ms"),
        arguments: Str::new(r#"{"ms":1}"#),
        params: Str::new(r#"{"name":"wait_ms","arguments":{"ms":1}}"#),
        context: Str::EMPTY,
    };
    let short = Completion {
        size: 8,
        call_id: 1,
        data: std::ptr::null(),
        complete: never,
    };
    for done in [std::ptr::null(), &raw const short] {
        let mut out = Buf::EMPTY;
        // SAFETY: `call`, `short` and `out` outlive the call; a null host context is allowed.
        let status = unsafe { (table.start_tool)(std::ptr::null(), &call, done, &mut out) };
        // SAFETY: the plugin wrote `len` bytes at `ptr`, freed right after.
        let body: Value =
            serde_json::from_slice(unsafe { std::slice::from_raw_parts(out.ptr, out.len) })
                .unwrap();
        // SAFETY: `out` came from this plugin and is freed once.
        unsafe { (table.free_buf)(out) };
        assert_eq!(
            (status, &body["code"]),
            (STATUS_ERROR, &json!(-32600)),
            "{body}"
        );
    }
}
