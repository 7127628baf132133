//! Each tool through the real ABI table, with the SDK's in-process test host.

use std::time::Duration;

use fastmcp_sdk::abi::{STATUS_ERROR, STATUS_INPUT_REQUIRED, STATUS_OK, STATUS_PANIC};
use fastmcp_sdk::testing::TestHost;

use super::*;

fn host() -> TestHost {
    TestHost::new(fastmcp_plugin_entry)
}

fn text(host: &TestHost, tool: &str, arguments: Value) -> String {
    let reply = host.call_tool(tool, arguments);
    assert_eq!(reply.status, STATUS_OK, "{reply:?}");
    assert!(!reply.is_error(), "{reply:?}");
    reply.text()
}

#[test]
fn manifest_lists_every_tool() {
    let manifest = host().manifest();
    let names: Vec<&str> = manifest["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "echo",
            "add",
            "fail",
            "panic",
            "sleep",
            "big",
            "log",
            "structured",
            "whoami",
            "version_marker",
            "secret",
            "sample",
            "elicit",
            "roots",
            "touch_resource",
            "nap",
            "blocking_echo",
            "tls_drop",
            "spin",
            "io_wait",
            "io_progress",
            "async_panic",
            "progress_once",
            "async_elicit",
            "optionals",
            "handwritten",
            "crash_segv",
            "crash_abort",
            "crash_stack",
            "crash_oom",
            "crash_exit",
            "gather",
            "long_job",
            "must_task",
            "task_ask",
            "task_set_listed",
            "read_file",
            "connect_tcp",
            "alloc_mib",
            "spin_cpu"
        ]
    );
    let tasks: Vec<&Value> = manifest["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool.get("taskSupport").unwrap_or(&Value::Null))
        .collect();
    assert_eq!(
        tasks[tasks.len() - 9..tasks.len() - 4],
        [
            &Value::Null,
            &json!("optional"),
            &json!("required"),
            &json!("optional"),
            &json!("optional")
        ],
        "task tools say so in the manifest, others say nothing"
    );
    // Tools without a context may run inline unless they say they block.
    let inline: Vec<bool> = manifest["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool.get("inline") == Some(&json!(true)))
        .collect();
    assert_eq!(
        inline,
        [
            true, true, true, true, false, true, false, true, false, true, true, false, false,
            false, false, true, false, true, false, false, false, false, false, false, true, true,
            // crash_*: blocking
            false, false, false, false, false, //
            false, false, false, false, false, false, false, false, false
        ]
    );
    // A tool with a context runs inline only where the host can collect what it sends.
    let progress_once = &manifest["tools"][22];
    assert_eq!(progress_once["inlineContext"], true, "{progress_once}");
    assert_eq!(manifest["name"], "test-plugin");
    // Generated schemas carry no schemars-only formats (`int64`) and no root title.
    assert_eq!(
        manifest["tools"][1]["inputSchema"]["properties"]["a"],
        json!({"type": "integer", "description": "The first addend"})
    );
    assert!(manifest["tools"][1]["inputSchema"].get("title").is_none());
    assert_eq!(
        manifest["tools"][10]["access"],
        json!({"authenticated": true, "scopes": ["admin"]})
    );
}

#[test]
fn simple_tools() {
    let host = host();
    assert_eq!(text(&host, "echo", json!({"text": "hi"})), "hi");
    assert_eq!(text(&host, "add", json!({"a": 2, "b": -5})), "-3");
    assert_eq!(text(&host, "big", json!({"bytes": 1000})), "x".repeat(1000));
    assert_eq!(text(&host, "version_marker", json!({})), VERSION_MARKER);
    assert_eq!(text(&host, "secret", json!({})), "the secret");
    let overflow = host.call_tool("add", json!({"a": i64::MAX, "b": 1}));
    assert!(
        overflow.is_error() && overflow.text() == "integer overflow",
        "{overflow:?}"
    );
}

#[test]
fn failures_and_panics() {
    let host = host();
    let reply = host.call_tool("fail", json!({"message": "boom"}));
    assert_eq!(
        (reply.status, reply.is_error(), reply.text()),
        (STATUS_OK, true, "boom".into())
    );
    let reply = host.call_tool("panic", json!({"message": "kaboom"}));
    assert_eq!(reply.status, STATUS_PANIC);
    assert_eq!(reply.body["message"], "tool \"panic\" panicked: kaboom");
    let reply = host.call_tool("nope", json!({}));
    assert_eq!(reply.status, STATUS_ERROR);
    assert_eq!(
        reply.body,
        json!({"code": -32602, "message": "Unknown tool: nope"})
    );
    assert_eq!(
        text(&host, "echo", json!({"text": "still here"})),
        "still here"
    );
}

#[test]
fn sleep_reports_progress_and_logs() {
    let host = host();
    assert_eq!(
        text(&host, "sleep", json!({"ms": 20, "steps": 4})),
        "slept 20 ms"
    );
    let notifications = host.take_notifications();
    assert_eq!(notifications.len(), 8);
    assert_eq!(
        notifications[6],
        json!({"method": "notifications/progress", "params": {"progress": 4.0, "total": 4.0}})
    );
    assert_eq!(
        notifications[7],
        json!({"method": "notifications/message",
            "params": {"level": "info", "logger": "test-plugin", "data": "step 4 of 4"}})
    );
}

#[test]
fn sleep_stops_when_cancelled() {
    let host = host();
    let reply = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            host.cancel();
        });
        host.call_tool("sleep", json!({"ms": 10_000, "steps": 1000}))
    });
    assert!(reply.is_error() && reply.text() == "cancelled", "{reply:?}");
    let steps = host.take_notifications().len() / 2;
    assert!(steps < 100, "took {steps} steps");
}

#[test]
fn log_cycles_levels() {
    let host = host();
    assert_eq!(text(&host, "log", json!({"count": 4})), "logged 4");
    let levels: Vec<Value> = host
        .take_notifications()
        .iter()
        .map(|n| n["params"]["level"].clone())
        .collect();
    assert_eq!(
        levels,
        [
            json!("debug"),
            json!("info"),
            json!("warning"),
            json!("debug")
        ]
    );
}

#[test]
fn structured_output_has_a_schema() {
    let host = host();
    let reply = host.call_tool("structured", json!({}));
    let expected = json!({"message": "hello", "count": 3, "tags": ["a", "b"]});
    assert_eq!(reply.body["structuredContent"], expected);
    let tool = &host.manifest()["tools"][7];
    assert_eq!(tool["outputSchema"]["type"], "object");
    assert_eq!(
        tool["outputSchema"]["properties"]["count"]["description"],
        "A fixed number"
    );
}

#[test]
fn whoami_reports_the_request_context() {
    let host = host();
    assert_eq!(
        text(&host, "whoami", json!({})),
        "caller=anonymous scopes= protocol=2025-06-18"
    );
    let context = json!({
        "protocolVersion": "2025-11-25",
        "sessionId": "s-1",
        "caller": {"id": "key:alice", "scopes": ["read", "admin"]},
    });
    let params = json!({"name": "whoami"});
    let reply = host.request_with_context("tools/call", params, context);
    assert_eq!(
        reply.text(),
        "caller=key:alice scopes=read,admin protocol=2025-11-25 session=s-1"
    );
}

#[test]
fn client_requests() {
    let host = host();
    host.answer_next_request(
        STATUS_OK,
        json!({"role": "assistant",
        "content": {"type": "text", "text": "4"}, "model": "m"}),
    );
    assert_eq!(text(&host, "sample", json!({"prompt": "2+2?"})), "4");
    assert_eq!(host.take_requests()[0]["method"], "sampling/createMessage");

    host.answer_next_request(
        STATUS_OK,
        json!({"action": "accept", "content": {"name": "Bob"}}),
    );
    let answer = text(&host, "elicit", json!({"message": "Name?"}));
    assert_eq!(
        fastmcp_sdk::serde_json::from_str::<Value>(&answer).unwrap()["content"]["name"],
        "Bob"
    );

    host.answer_next_request(STATUS_INPUT_REQUIRED, Value::Null);
    let reply = host.call_tool("roots", json!({}));
    assert_eq!(
        (reply.status, reply.body),
        (STATUS_INPUT_REQUIRED, Value::Null)
    );

    let reply = host.call_tool("roots", json!({}));
    assert!(reply.is_error(), "{reply:?}");
    assert_eq!(
        reply.text(),
        "not supported: the test host has no answer for roots/list"
    );
}

#[test]
fn touch_resource_reports_the_update() {
    let host = host();
    let reply = host.call_tool("touch_resource", json!({"uri": "test://x"}));
    assert_eq!(reply.text(), "touched test://x");
    let notes = host.take_notifications();
    assert!(
        notes
            .iter()
            .any(|n| n["method"] == "notifications/resources/updated"
                && n["params"]["uri"] == "test://x"),
        "{notes:?}"
    );
}

#[test]
fn async_tools_are_marked_async() {
    let manifest = host().manifest();
    let tools = manifest["tools"].as_array().unwrap();
    let is_async: Vec<&str> = tools
        .iter()
        .filter(|tool| tool.get("async") == Some(&json!(true)))
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        is_async,
        [
            "io_wait",
            "io_progress",
            "async_panic",
            "async_elicit",
            "gather",
            "long_job",
            "task_ask"
        ]
    );
}

#[test]
fn async_tools_through_call_tool() {
    let host = host();
    assert_eq!(text(&host, "io_wait", json!({"ms": 5})), "waited 5 ms");
    assert_eq!(
        text(&host, "io_progress", json!({"steps": 3})),
        "sent 3 progress notifications"
    );
    let progress: Vec<Value> = host
        .take_notifications()
        .into_iter()
        .map(|n| n["params"]["progress"].clone())
        .collect();
    assert_eq!(progress, [json!(1.0), json!(2.0), json!(3.0)]);
    let reply = host.call_tool("async_panic", json!({}));
    assert_eq!(reply.status, STATUS_PANIC);
    assert_eq!(
        reply.body["message"],
        "tool \"async_panic\" panicked: async tool panicked on purpose"
    );
}

#[test]
fn spin_busy_loops_for_its_time() {
    let host = host();
    let started = std::time::Instant::now();
    assert_eq!(text(&host, "spin", json!({"ms": 30})), "spun 30 ms");
    assert!(started.elapsed() >= Duration::from_millis(30));
    // Blocking: never inline, so the server runs it on a worker thread.
    let manifest = host.manifest();
    let spin = manifest["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "spin")
        .unwrap();
    assert_ne!(spin.get("inline"), Some(&json!(true)), "{spin}");
    assert_eq!(
        spin["inputSchema"]["required"].as_array().map(Vec::len),
        None,
        "ms is optional: {spin}"
    );
    let reply = host.call_tool("spin", json!({"ms": "soon"}));
    assert!(reply.is_error(), "{reply:?}");
}

#[test]
fn async_tools_through_start_tool() {
    use fastmcp_sdk::abi::STATUS_PENDING;
    let host = host();
    let call = host.start_tool("io_wait", json!({"ms": 20}));
    assert_eq!(call.started(), STATUS_PENDING);
    let reply = call.wait();
    assert_eq!(
        (reply.status, reply.text()),
        (STATUS_OK, "waited 20 ms".into())
    );
    assert_eq!(call.completed_on().as_deref(), Some("test-plugin-rt"));

    let call = host.start_tool("io_progress", json!({"steps": 2}));
    assert_eq!(call.wait().text(), "sent 2 progress notifications");
    assert_eq!(host.take_notifications().len(), 2);

    let reply = host.start_tool("async_panic", json!({})).wait();
    assert_eq!(reply.status, STATUS_PANIC);
    let reply = host.start_tool("io_wait", json!({"ms": "x"})).wait();
    assert!(reply.is_error(), "{reply:?}");

    // A long wait, cancelled: completed at once as cancelled, not after the wait.
    let call = host.start_tool("io_wait", json!({"ms": 60_000}));
    call.cancel();
    let reply = call
        .wait_timeout(Duration::from_secs(10))
        .expect("cancelled in time");
    assert_eq!(reply.status, fastmcp_sdk::abi::STATUS_CANCELLED);
}

#[test]
fn optionals_take_absent_and_null_alike() {
    let host = host();
    let nulls = json!({"title": null, "priority": null, "window": null, "note": null});
    for arguments in [json!({}), nulls] {
        let reply = host.call_tool("optionals", arguments);
        assert!(!reply.is_error(), "{reply:?}");
        let expected = json!({"title": null, "noted": false});
        assert_eq!(reply.body["structuredContent"], expected);
    }
    let all = json!({
        "title": "t", "priority": "high", "window": {"start": 9, "end": 17}, "note": "n"
    });
    let reply = host.call_tool("optionals", all);
    let expected = json!({
        "title": "t", "priority": "high", "window": {"start": 9, "end": 17}, "noted": true
    });
    assert_eq!(reply.body["structuredContent"], expected);
}
