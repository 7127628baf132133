//! Tool calls run as tasks, through the real binary and the real test plugin: protocol
//! 2025-11-25 (`task` param, `tasks/get|result|list|cancel`, status and progress on the
//! session stream) and the 2026-07-28 tasks extension (`tasks/get|update|cancel`,
//! `input_required`), cancellation while working and TTL expiry. Owners: `tasks_owners`;
//! stdio: `tasks_stdio`; Redis: `tasks_redis`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, Server, SseStream, plugins, rpc, rpc_response, text_of};

pub(crate) const HANDSHAKE: &str = "2025-11-25";
const EXTENSION: &str = "2026-07-28";
pub(crate) const TASKS_EXT: &str = "io.modelcontextprotocol/tasks";

/// A 2025-11-25 request (stateless, or in `session`) with extra headers.
pub(crate) fn handshake(
    server: &Server,
    id: i64,
    method: &str,
    params: Value,
    session: Option<&str>,
    headers: &[(&str, &str)],
) -> Value {
    let mut all = vec![("mcp-protocol-version", HANDSHAKE)];
    all.extend_from_slice(headers);
    rpc_response(server.post_with(&rpc(id, method, params), &all, session))
}

/// Initializes a 2025-11-25 session; returns its id and the `initialize` result.
fn init_session(server: &Server) -> (String, Value) {
    init_session_with(server, json!({}))
}

/// [`init_session`] for a client with these capabilities.
pub(crate) fn init_session_with(server: &Server, capabilities: Value) -> (String, Value) {
    let mut params = util::initialize_params(HANDSHAKE);
    params["capabilities"] = capabilities;
    let r = server.post(&rpc(0, "initialize", params), None);
    let id = r.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let result = rpc_response(r);
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(
        server
            .post_with(&note, &[("mcp-protocol-version", HANDSHAKE)], Some(&id))
            .status(),
        202
    );
    (id, result)
}

pub(crate) fn task_call(name: &str, arguments: Value, task: Value) -> Value {
    json!({"name": name, "arguments": arguments, "task": task})
}

/// A 2026-07-28 request; `extension` declares the tasks extension in the client capabilities.
pub(crate) fn modern(
    server: &Server,
    id: i64,
    method: &str,
    mut params: Value,
    extension: bool,
    headers: &[(&str, &str)],
) -> Value {
    let mut caps = json!({"elicitation": {}});
    if extension {
        caps["extensions"] = json!({TASKS_EXT: {}});
    }
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": EXTENSION,
        "io.modelcontextprotocol/clientCapabilities": caps,
    });
    let name = params
        .get("name")
        .or_else(|| params.get("taskId"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut all = vec![("mcp-protocol-version", EXTENSION), ("mcp-method", method)];
    if let Some(name) = name.as_deref() {
        all.push(("mcp-name", name));
    }
    all.extend_from_slice(headers);
    rpc_response(server.post_with(&rpc(id, method, params), &all, None))
}

/// The id of the task a 2025-11-25 `tools/call` created (`result.task.taskId`).
pub(crate) fn task_id(created: &Value) -> String {
    created["result"]["task"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("no task: {created}"))
        .to_string()
}

/// Starts tool `name` as a 2025-11-25 task (stateless, or in `session`) with extra headers;
/// returns the task's id.
pub(crate) fn start_task(
    server: &Server,
    id: i64,
    (name, arguments): (&str, Value),
    session: Option<&str>,
    headers: &[(&str, &str)],
) -> String {
    let call = task_call(name, arguments, json!({}));
    task_id(&handshake(server, id, "tools/call", call, session, headers))
}

pub(crate) fn error_code(reply: &Value) -> i64 {
    reply["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error: {reply}"))
}

/// Polls `get` until the task's status is `status` (bounded: 20 s).
pub(crate) fn wait_status(get: impl Fn() -> Value, status: &str) -> Value {
    let mut last = Value::Null;
    let reached = util::eventually(Duration::from_secs(20), || {
        last = get();
        last["result"]["status"] == status
    });
    assert!(reached, "never {status}: {last}");
    last
}

#[test]
fn handshake_tasks_run_are_listed_fetched_and_cancelled() {
    let server = util::serve(&plugins().test_plugin, &[]);
    let (session, init) = init_session(&server);
    let s = Some(session.as_str());
    assert_eq!(
        init["result"]["capabilities"]["tasks"]["requests"]["tools"]["call"],
        json!({}),
        "{init}"
    );
    let tools = handshake(&server, 1, "tools/list", json!({}), s, &[]);
    let support = |name: &str| {
        let tool = tools["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone();
        tool["execution"]["taskSupport"].clone()
    };
    assert_eq!(support("long_job"), "optional");
    assert_eq!(support("must_task"), "required");
    assert_eq!(support("echo"), Value::Null);

    // The progress and status of a task go out on the session's GET stream.
    let version = [("mcp-protocol-version", HANDSHAKE)];
    let stream = SseStream::new(server.get_stream(Some(&session), &version));
    let mut params = task_call("long_job", json!({"ms": 50}), json!({"ttl": 60_000}));
    params["_meta"] = json!({"progressToken": "p1"});
    let created = handshake(&server, 2, "tools/call", params, s, &[]);
    let task = &created["result"]["task"];
    let id = task_id(&created);
    assert_eq!(task["status"], "working", "{created}");
    assert_eq!(task["ttl"], 60_000);
    let result = handshake(&server, 3, "tasks/result", json!({"taskId": id}), s, &[]);
    assert_eq!(text_of(&result), "finished after 50 ms", "{result}");
    assert_eq!(
        result["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        id.as_str()
    );
    let got = handshake(&server, 4, "tasks/get", json!({"taskId": id}), s, &[]);
    assert_eq!(got["result"]["status"], "completed", "{got}");
    let seen = stream.rest(Duration::from_secs(2));
    let progress = util::with_method(&seen, "notifications/progress");
    assert_eq!(progress.len(), 2, "{seen:?}");
    assert_eq!(progress[1]["params"]["progressToken"], "p1");
    assert!(
        seen.iter()
            .any(|m| m["method"] == "notifications/tasks/status"
                && m["params"]["taskId"] == id.as_str()
                && m["params"]["status"] == "completed"),
        "{seen:?}"
    );

    // Cancelled while working: the status says so at once, and the result is an error.
    let slow = start_task(&server, 5, ("must_task", json!({"ms": 60_000})), s, &[]);
    let cancelled = handshake(&server, 6, "tasks/cancel", json!({"taskId": slow}), s, &[]);
    assert_eq!(cancelled["result"]["status"], "cancelled", "{cancelled}");
    let got = handshake(&server, 7, "tasks/get", json!({"taskId": slow}), s, &[]);
    assert_eq!(got["result"]["status"], "cancelled", "{got}");
    let result = handshake(&server, 8, "tasks/result", json!({"taskId": slow}), s, &[]);
    assert!(
        result["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{result}"
    );
    let again = handshake(&server, 9, "tasks/cancel", json!({"taskId": slow}), s, &[]);
    assert_eq!(
        error_code(&again),
        -32602,
        "a terminal task cannot be cancelled: {again}"
    );

    // Newest first.
    let list = handshake(&server, 10, "tasks/list", json!({}), s, &[]);
    let ids: Vec<&str> = list["result"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["taskId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [slow.as_str(), id.as_str()], "{list}");
}

#[test]
fn handshake_tasks_refuse_bad_requests_and_expire() {
    let server = util::serve(&plugins().test_plugin, &[]);
    let (session, _) = init_session(&server);
    let s = Some(session.as_str());
    let call = |id, name: &str, task: Option<Value>| {
        let mut params = json!({"name": name, "arguments": {"ms": 1, "text": "x"}});
        if let Some(task) = task {
            params["task"] = task;
        }
        handshake(&server, id, "tools/call", params, s, &[])
    };
    let plain = call(1, "must_task", None);
    assert_eq!(
        error_code(&plain),
        -32601,
        "a task-required tool needs a task: {plain}"
    );
    assert!(
        plain["error"]["message"]
            .as_str()
            .unwrap()
            .contains("must be called as a task")
    );
    let forbidden = call(2, "echo", Some(json!({})));
    assert_eq!(error_code(&forbidden), -32601, "{forbidden}");
    for (i, ttl) in [json!("soon"), json!(-5), json!(1.5)]
        .into_iter()
        .enumerate()
    {
        let bad = call(3 + i as i64, "long_job", Some(json!({"ttl": ttl})));
        assert_eq!(error_code(&bad), -32602, "{bad}");
        assert!(
            bad["error"]["message"].as_str().unwrap().contains("ttl"),
            "{bad}"
        );
    }
    let unknown = handshake(&server, 9, "tasks/get", json!({"taskId": "nope"}), s, &[]);
    assert_eq!(error_code(&unknown), -32602, "{unknown}");
    assert_eq!(unknown["error"]["message"], "Unknown task: nope");
    let missing = handshake(&server, 10, "tasks/result", json!({}), s, &[]);
    assert_eq!(error_code(&missing), -32602, "{missing}");
    // An optional tool without a task runs as a plain call.
    let plain = call(11, "long_job", None);
    assert_eq!(text_of(&plain), "finished after 1 ms", "{plain}");

    // A finished task is kept for its TTL, then forgotten.
    let created = call(12, "long_job", Some(json!({"ttl": 500})));
    let id = created["result"]["task"]["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    let done = handshake(&server, 13, "tasks/result", json!({"taskId": id}), s, &[]);
    assert_eq!(text_of(&done), "finished after 1 ms", "{done}");
    // Without authentication a 2025 task belongs to its session: another one cannot see it.
    let (other, _) = init_session(&server);
    let theirs = handshake(
        &server,
        15,
        "tasks/get",
        json!({"taskId": id}),
        Some(&other),
        &[],
    );
    assert_eq!(
        theirs["error"]["message"],
        format!("Unknown task: {id}"),
        "{theirs}"
    );
    let gone = util::eventually(Duration::from_secs(10), || {
        let got = handshake(&server, 14, "tasks/get", json!({"taskId": id}), s, &[]);
        got["error"]["code"] == -32602
    });
    assert!(gone, "the task outlived its TTL");
}

#[test]
fn extension_tasks_run_ask_for_input_and_cancel() {
    let server = util::serve(&plugins().test_plugin, &["--stateless", "true"]);
    let discover = modern(&server, 1, "server/discover", json!({}), true, &[]);
    assert_eq!(
        discover["result"]["capabilities"]["extensions"][TASKS_EXT],
        json!({}),
        "{discover}"
    );

    let created = modern(
        &server,
        2,
        "tools/call",
        json!({"name": "long_job", "arguments": {"ms": 50}}),
        true,
        &[],
    );
    let r = &created["result"];
    assert_eq!(r["resultType"], "task", "{created}");
    assert!(
        r["ttlMs"].is_u64() && r["pollIntervalMs"].is_u64(),
        "{created}"
    );
    assert!(
        r.get("ttl").is_none() && r.get("task").is_none(),
        "{created}"
    );
    let id = r["taskId"].as_str().unwrap().to_string();
    let get = || modern(&server, 3, "tasks/get", json!({"taskId": id}), true, &[]);
    let done = wait_status(get, "completed");
    assert_eq!(
        done["result"]["result"]["content"][0]["text"], "finished after 50 ms",
        "{done}"
    );
    assert_eq!(done["result"]["resultType"], "complete");

    // Input: the task parks in input_required until tasks/update answers.
    let created = modern(
        &server,
        4,
        "tools/call",
        json!({"name": "task_ask", "arguments": {}}),
        true,
        &[],
    );
    let ask = created["result"]["taskId"].as_str().unwrap().to_string();
    let get = || modern(&server, 5, "tasks/get", json!({"taskId": ask}), true, &[]);
    let waiting = wait_status(get, "input_required");
    let requests = waiting["result"]["inputRequests"]
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(requests.len(), 1, "{waiting}");
    let (key, request) = requests.iter().next().unwrap();
    assert_eq!(request["method"], "elicitation/create", "{waiting}");
    let answer = json!({"taskId": ask, "inputResponses": {key.as_str(): {"action": "accept", "content": {"name": "Ada"}}}});
    let ack = modern(&server, 6, "tasks/update", answer, true, &[]);
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert!(ack["result"].get("status").is_none(), "{ack}");
    let done = wait_status(get, "completed");
    assert_eq!(
        done["result"]["result"]["content"][0]["text"], "hello Ada",
        "{done}"
    );

    // No stream carries a 2026-07-28 task's progress: its last one is the status message.
    let created = modern(
        &server,
        14,
        "tools/call",
        json!({"name": "long_job", "arguments": {"ms": 20_000}}),
        true,
        &[],
    );
    let long = created["result"]["taskId"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    let noted = util::eventually(Duration::from_secs(15), || {
        last = modern(&server, 15, "tasks/get", json!({"taskId": long}), true, &[]);
        last["result"]["statusMessage"] == "0/1: started"
    });
    assert!(noted, "{last}");
    assert_eq!(last["result"]["status"], "working", "{last}");
    modern(
        &server,
        16,
        "tasks/cancel",
        json!({"taskId": long}),
        true,
        &[],
    );

    // Cancelled while working.
    let created = modern(
        &server,
        7,
        "tools/call",
        json!({"name": "must_task", "arguments": {"ms": 60_000}}),
        true,
        &[],
    );
    let slow = created["result"]["taskId"].as_str().unwrap().to_string();
    let ack = modern(
        &server,
        8,
        "tasks/cancel",
        json!({"taskId": slow}),
        true,
        &[],
    );
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    let got = modern(&server, 9, "tasks/get", json!({"taskId": slow}), true, &[]);
    assert_eq!(got["result"]["status"], "cancelled", "{got}");

    // Without the extension: task-required tools and the task methods are refused.
    let refused = modern(
        &server,
        10,
        "tools/call",
        json!({"name": "must_task", "arguments": {"ms": 1}}),
        false,
        &[],
    );
    assert_eq!(error_code(&refused), -32021, "{refused}");
    assert_eq!(
        refused["error"]["data"]["requiredCapabilities"]["extensions"][TASKS_EXT],
        json!({})
    );
    let refused = modern(
        &server,
        11,
        "tasks/get",
        json!({"taskId": slow}),
        false,
        &[],
    );
    assert_eq!(error_code(&refused), -32021, "{refused}");
    let plain = modern(
        &server,
        12,
        "tools/call",
        json!({"name": "long_job", "arguments": {"ms": 1}}),
        false,
        &[],
    );
    assert_eq!(
        plain["result"]["content"][0]["text"], "finished after 1 ms",
        "{plain}"
    );
    let unknown = modern(
        &server,
        13,
        "tasks/get",
        json!({"taskId": "nope"}),
        true,
        &[],
    );
    assert_eq!(error_code(&unknown), -32602, "{unknown}");
}

#[test]
fn a_tool_that_asks_first_gets_its_answers_before_its_task_starts() {
    // The conformance plugin's `test_tool_with_task`: task-required, `input_before_task`.
    let server = util::serve(&plugins().conformance, &[]);
    let call = json!({"name": "test_tool_with_task", "arguments": {}});
    let first = modern(&server, 1, "tools/call", call.clone(), true, &[]);
    let r = &first["result"];
    assert_eq!(r["resultType"], "input_required", "{first}");
    assert!(
        r.get("taskId").is_none(),
        "no task before the answers: {first}"
    );
    let key = r["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let mut retry = call;
    retry["requestState"] = r["requestState"].clone();
    retry["inputResponses"] = json!({key: {"action": "accept", "content": {"name": "Alice"}}});
    let created = modern(&server, 2, "tools/call", retry, true, &[]);
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    assert!(created["result"].get("requestState").is_none(), "{created}");
    let id = created["result"]["taskId"].as_str().unwrap().to_string();
    let get = || modern(&server, 3, "tasks/get", json!({"taskId": id}), true, &[]);
    let done = wait_status(get, "completed");
    assert_eq!(
        done["result"]["result"]["content"][0]["text"], "Hello, Alice!",
        "{done}"
    );
}
