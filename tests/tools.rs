//! Tool outcomes as a client sees them: failures and panics are `isError` results and the
//! server keeps serving, a slow tool times out without holding up other calls, large results
//! arrive whole, and a tool that sends nothing is answered with plain JSON.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::util::{self, plugins, text_of, tool_call};

fn test_plugin(extra: &[&str]) -> util::Server {
    let mut args = vec!["--stateless"];
    args.extend_from_slice(extra);
    util::serve(&plugins().test_plugin, &args)
}

#[test]
fn a_panicking_tool_is_an_error_result_and_the_server_keeps_serving() {
    let server = test_plugin(&[]);
    let r = server.call(
        &tool_call(1, "panic", json!({"message": "kaboom 42"})),
        None,
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    let text = text_of(&r);
    assert!(text.contains("kaboom 42"), "{text}");
    assert!(text.contains("panic"), "{text}");
    // The same worker pool still answers.
    for i in 0..3 {
        let r = server.call(&tool_call(2 + i, "add", json!({"a": 40, "b": 2})), None);
        assert_eq!(text_of(&r), "42", "{r}");
    }
    let r = server.call(&tool_call(9, "panic", json!({"message": "again"})), None);
    assert!(text_of(&r).contains("again"), "{r}");
}

#[test]
fn a_failing_tool_is_an_error_result_with_its_message() {
    let server = test_plugin(&[]);
    let r = server.call(&tool_call(1, "fail", json!({"message": "boom"})), None);
    assert!(
        r.get("error").is_none(),
        "a tool failure is not a protocol error: {r}"
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(text_of(&r).contains("boom"), "{r}");
}

#[test]
fn a_slow_tool_times_out_while_other_calls_are_answered() {
    let server = test_plugin(&["--tool-timeout", "300ms"]);
    let url = server.mcp();
    let started = Instant::now();
    let slow = std::thread::spawn(move || {
        let body = tool_call(1, "sleep", json!({"ms": 5000, "steps": 50}));
        let r = util::post_raw(&url, &body.to_string(), &util::GOOD_HEADERS);
        let ctype = util::content_type(&r);
        let text = r.text().unwrap();
        let v = if ctype.starts_with("text/event-stream") {
            util::sse_messages(&text).pop().unwrap()
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (v, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(50));
    let echo_started = Instant::now();
    let r = server.call(&tool_call(2, "echo", json!({"text": "still here"})), None);
    let echo_took = echo_started.elapsed();
    assert_eq!(text_of(&r), "still here");
    let (v, took) = slow.join().unwrap();
    assert_eq!(v["result"]["isError"], true, "{v}");
    let text = text_of(&v);
    assert!(text.contains("timed out"), "{text}");
    assert!(text.contains("300ms"), "{text}");
    // Generous bounds: neither waited for the 5 s sleep.
    assert!(took < Duration::from_secs(3), "the timeout took {took:?}");
    assert!(
        echo_took < Duration::from_secs(3),
        "echo took {echo_took:?}"
    );
}

#[test]
fn a_two_megabyte_result_arrives_whole() {
    let server = test_plugin(&[]);
    let r = server.call(&tool_call(1, "big", json!({"bytes": 2_000_000})), None);
    let text = text_of(&r);
    assert_eq!(text.len(), 2_000_000);
    assert!(text.bytes().all(|b| b == b'x'));
}

#[test]
fn a_tool_that_sends_nothing_is_answered_with_json() {
    let server = test_plugin(&[]);
    let r = server.post(&tool_call(1, "echo", json!({"text": "hi"})), None);
    assert_eq!(r.status(), 200);
    assert_eq!(util::content_type(&r), "application/json");
    assert_eq!(text_of(&r.json().unwrap()), "hi");
}

#[test]
fn structured_output_is_returned_with_its_content() {
    let server = test_plugin(&[]);
    let r = server.call(&tool_call(1, "structured", json!({})), None);
    assert_eq!(
        r["result"]["structuredContent"],
        json!({"message": "hello", "count": 3, "tags": ["a", "b"]}),
        "{r}"
    );
    let list = server.call(&util::rpc(2, "tools/list", json!({})), None);
    let tools = list["result"]["tools"].as_array().unwrap();
    let structured = tools.iter().find(|t| t["name"] == "structured").unwrap();
    assert_eq!(structured["outputSchema"]["type"], "object", "{structured}");
    // Tools that need authentication are hidden from anonymous callers.
    assert!(tools.iter().all(|t| t["name"] != "secret"));
}

/// A client that goes away without waiting cancels its call (stateless mode: nobody could
/// resume it): the tool sees the flag and stops long before it would have finished.
#[test]
fn a_client_that_disconnects_cancels_its_call() {
    let s = util::start(
        &[
            util::plugins().test_plugin.to_str().unwrap(),
            "--stateless",
            "--metrics",
        ],
        &[],
    );
    let impatient = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let body = util::rpc(
        1,
        "tools/call",
        serde_json::json!({"name": "sleep", "arguments": {"ms": 10000, "steps": 50}}),
    );
    let started = std::time::Instant::now();
    let r = impatient
        .post(s.mcp())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string())
        .send();
    // The tool logs as it goes, so the answer is a stream: the client reads its headers (or
    // times out) and hangs up without reading the rest.
    drop(r);
    // The worker thread is free again long before the 10 s the call would have taken.
    let running = r#"fastmcp_blocking_calls{plugin="test-plugin",state="running"}"#;
    assert!(
        util::eventually(std::time::Duration::from_secs(5), || {
            let (m, _) = util::metrics::scrape(&s, &[]);
            m.get(running).copied().unwrap_or(0.0) == 0.0
        }),
        "the call was not cancelled; log:\n{}",
        s.log_text()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(6));
    // How it ended is only in the log line the cancelled call leaves.
    assert!(
        s.wait_log(
            "cancelled call finished",
            1,
            std::time::Duration::from_secs(5)
        ),
        "{}",
        s.log_text()
    );
    let ended = &s.log_events("cancelled call finished")[0];
    assert_eq!(
        ended["ended"], "returned",
        "the sleep tool returns its 'cancelled' result: {ended}"
    );
}
