//! Messages a running tool sends before its result: progress (only with a `progressToken`),
//! log lines (filtered by the session's level), cancellation by the client, and sampling
//! requests answered by the client with a separate POST.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{self, SseStream, plugins, rpc, text_of, tool_call};

const WAIT: Duration = Duration::from_secs(20);

fn call_with_meta(id: i64, name: &str, arguments: Value, meta: Value) -> Value {
    rpc(
        id,
        "tools/call",
        json!({"name": name, "arguments": arguments, "_meta": meta}),
    )
}

fn methods(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["method"].as_str().unwrap_or("(response)"))
        .collect()
}

#[test]
fn progress_carries_the_token_and_increases_then_the_result_arrives() {
    let server = util::serve(&plugins().test_plugin, &["--stateless"]);
    let r = server.post(
        &call_with_meta(
            5,
            "sleep",
            json!({"ms": 200, "steps": 4}),
            json!({"progressToken": "tok-1"}),
        ),
        None,
    );
    assert!(util::content_type(&r).starts_with("text/event-stream"));
    let messages = SseStream::new(r).rest(WAIT);
    let progress = util::with_method(&messages, "notifications/progress");
    assert_eq!(progress.len(), 4, "{:?}", methods(&messages));
    let mut last = 0.0;
    for p in &progress {
        assert_eq!(p["params"]["progressToken"], "tok-1", "{p}");
        let value = p["params"]["progress"].as_f64().unwrap();
        assert!(value > last, "progress must increase: {progress:?}");
        last = value;
        assert_eq!(p["params"]["total"], 4.0);
    }
    let result = messages.last().unwrap();
    assert_eq!(result["id"], 5);
    assert_eq!(text_of(result), "slept 200 ms");
}

#[test]
fn without_a_token_no_progress_is_sent() {
    let server = util::serve(&plugins().test_plugin, &["--stateless"]);
    let r = server.post(
        &util::tool_call(1, "sleep", json!({"ms": 100, "steps": 3})),
        None,
    );
    let ctype = util::content_type(&r);
    let body = r.text().unwrap();
    let messages = if ctype.starts_with("text/event-stream") {
        util::sse_messages(&body)
    } else {
        vec![serde_json::from_str(&body).unwrap()]
    };
    assert!(
        messages
            .iter()
            .all(|m| m["method"] != "notifications/progress"),
        "{:?}",
        methods(&messages)
    );
    assert_eq!(text_of(messages.last().unwrap()), "slept 100 ms");
}

#[test]
fn log_messages_follow_the_session_level() {
    let server = util::serve(&plugins().test_plugin, &[]);
    let session = server.initialize();
    // Levels cycle debug, info, warning: info and above by default.
    assert_eq!(
        util::log_levels(&server, 1, 6, Some(&session)),
        ["info", "warning", "info", "warning"]
    );
    let r = server.call(
        &rpc(2, "logging/setLevel", json!({"level": "debug"})),
        Some(&session),
    );
    assert_eq!(r["result"], json!({}), "{r}");
    assert_eq!(
        util::log_levels(&server, 3, 6, Some(&session)),
        ["debug", "info", "warning", "debug", "info", "warning"]
    );
    let r = server.call(
        &rpc(4, "logging/setLevel", json!({"level": "error"})),
        Some(&session),
    );
    assert_eq!(r["result"], json!({}), "{r}");
    // Nothing passes: a plain JSON answer.
    let r = server.post(
        &util::tool_call(5, "log", json!({"count": 6})),
        Some(&session),
    );
    assert_eq!(util::content_type(&r), "application/json");
    // Another session still has the default level.
    let other = server.initialize();
    assert_eq!(util::log_levels(&server, 6, 6, Some(&other)).len(), 4);
}

#[test]
fn a_cancelled_call_ends_early() {
    let server = util::serve(&plugins().test_plugin, &[]);
    let session = server.initialize();
    let started = Instant::now();
    let r = server.post(
        &util::tool_call(42, "sleep", json!({"ms": 5000, "steps": 25})),
        Some(&session),
    );
    let stream = SseStream::new(r);
    // The first log line proves the call is running.
    let first = stream.next(WAIT).expect("a log line from the running tool");
    assert_eq!(first["method"], "notifications/message", "{first}");
    let cancel = json!({
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"requestId": 42, "reason": "the user changed their mind"}
    });
    assert_eq!(server.post(&cancel, Some(&session)).status(), 202);
    let rest = stream.rest(WAIT);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "cancelled call took {took:?}"
    );
    if let Some(last) = rest.iter().rev().find(|m| m.get("id").is_some()) {
        assert_ne!(text_of(last), "slept 5000 ms", "{last}");
    }
    // The session is still usable.
    let r = server.call(
        &util::tool_call(43, "echo", json!({"text": "ok"})),
        Some(&session),
    );
    assert_eq!(text_of(&r), "ok");
}

#[test]
fn sampling_needs_a_session() {
    let server = util::serve(&plugins().test_plugin, &["--stateless"]);
    let r = server.call(&util::tool_call(1, "sample", json!({"prompt": "hi"})), None);
    let text = if r["result"]["isError"] == true {
        text_of(&r)
    } else {
        r["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(text.contains("session"), "{r}");
}

#[test]
fn sampling_asks_the_client_on_the_call_stream_and_returns_its_answer() {
    let server = util::serve(&plugins().test_plugin, &[]);
    let session = server.initialize();
    let r = server.post(
        &util::tool_call(9, "sample", json!({"prompt": "What is 6 x 7?"})),
        Some(&session),
    );
    assert!(util::content_type(&r).starts_with("text/event-stream"));
    let stream = SseStream::new(r);
    let ask = stream.next(WAIT).expect("a sampling request");
    assert_eq!(ask["method"], "sampling/createMessage", "{ask}");
    assert_eq!(
        ask["params"]["messages"][0]["content"]["text"],
        "What is 6 x 7?"
    );
    let id = ask["id"].clone();
    assert!(id.is_i64() || id.is_string(), "{ask}");
    let answer = json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {
            "role": "assistant",
            "content": {"type": "text", "text": "forty-two"},
            "model": "test-model",
            "stopReason": "endTurn"
        }
    });
    assert_eq!(server.post(&answer, Some(&session)).status(), 202);
    let rest = stream.rest(WAIT);
    let result = rest.last().expect("the call's result");
    assert_eq!(result["id"], 9, "{rest:?}");
    assert_eq!(text_of(result), "forty-two");
}

/// A plugin's `notifications/resources/updated` reaches every session subscribed to the URI
/// (on its GET stream), not only the client whose call caused it.
#[test]
fn resource_updates_reach_subscribed_sessions() {
    let s = util::start(&[util::plugins().test_plugin.to_str().unwrap()], &[]);
    let watcher = s.initialize();
    let sub = rpc(
        1,
        "resources/subscribe",
        serde_json::json!({"uri": "test://watched"}),
    );
    assert_eq!(
        s.call(&sub, Some(&watcher))["result"],
        serde_json::json!({})
    );
    let rx = util::lines(s.get_stream(Some(&watcher), &[]));
    // Another client touches the resource.
    let other = s.initialize();
    let touch = rpc(
        2,
        "tools/call",
        serde_json::json!({"name": "touch_resource", "arguments": {"uri": "test://watched"}}),
    );
    assert_eq!(
        s.call(&touch, Some(&other))["result"]["content"][0]["text"],
        "touched test://watched"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut heard = false;
    while let Ok(line) =
        rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
    {
        if line.contains("notifications/resources/updated") && line.contains("test://watched") {
            heard = true;
            break;
        }
    }
    assert!(heard, "the subscribed session did not hear the update");
}

/// SSE answers go out in several writes; with Nagle's algorithm on, each answer after the first
/// on a kept-alive connection waits ~40 ms for the client's delayed ACK. 20 calls on one
/// connection would take at least 800 ms; with TCP_NODELAY they take a few ms each.
#[test]
fn streamed_answers_on_a_kept_alive_connection_are_not_held_back() {
    let server = util::serve(&plugins().test_plugin, &["--stateless", "true"]);
    let client = util::client();
    let mut body = tool_call(1, "sleep", json!({"ms": 0, "steps": 1}));
    body["params"]["_meta"] = json!({"progressToken": 1});
    let call = || {
        let r = client
            .post(server.mcp())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string())
            .send()
            .unwrap();
        assert_eq!(util::content_type(&r), "text/event-stream");
        r.text().unwrap()
    };
    call();
    let started = std::time::Instant::now();
    for _ in 0..20 {
        assert!(call().contains("slept 0 ms"));
    }
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_millis(600),
        "20 streamed answers on one connection took {took:?}: Nagle's algorithm is on"
    );
}
