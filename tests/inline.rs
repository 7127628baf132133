//! Inline tools: a tool without a context is called on the thread that read the request, a
//! `blocking` one or one with a context on the plugin's workers, a slow inline tool is moved to
//! the workers after its first slow call, and `--inline-tools false` turns inline calls off.
//! Which way a call went is in its `tool call` log line (`inline`); the answers are the same.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, inline_ways as ways, plugins, text_of, tool_call};

fn call(server: &util::Server, id: i64, tool: &str, arguments: Value) -> String {
    let r = server.call(&tool_call(id, tool, arguments), None);
    assert!(r["result"].get("isError").is_none(), "{r}");
    text_of(&r)
}

fn wait_calls(server: &util::Server, count: usize) {
    assert!(
        server.wait_log("tool call", count, Duration::from_secs(10)),
        "{}",
        server.log_text()
    );
}

#[test]
fn tools_without_a_context_run_inline_and_the_others_on_workers() {
    for mode in [&["--stateless"][..], &[]] {
        let server = util::serve(&plugins().test_plugin, mode);
        let session = mode.is_empty().then(|| server.initialize());
        let session = session.as_deref();
        let text = |id, tool: &str, args: Value| {
            let r = server.call(&tool_call(id, tool, args), session);
            text_of(&r)
        };
        assert_eq!(text(1, "echo", json!({"text": "hi"})), "hi");
        assert_eq!(text(2, "blocking_echo", json!({"text": "ho"})), "ho");
        assert_eq!(
            text(3, "sleep", json!({"ms": 10, "steps": 1})),
            "slept 10 ms"
        );
        let panicked = server.call(&tool_call(4, "panic", json!({"message": "p!"})), session);
        assert_eq!(panicked["result"]["isError"], true, "{panicked}");
        wait_calls(&server, 4);
        assert_eq!(ways(&server, "echo"), [true], "{mode:?}");
        assert_eq!(ways(&server, "blocking_echo"), [false], "{mode:?}");
        assert_eq!(ways(&server, "sleep"), [false], "{mode:?}");
        // A panic in an inline tool is caught like any other.
        assert_eq!(ways(&server, "panic"), [true], "{mode:?}");
        assert_eq!(text(5, "echo", json!({"text": "still here"})), "still here");
    }
}

const DEMOTED: &str = "inline calls of this tool take too long; its later calls run on worker \
                       threads (mark it #[tool(blocking)] to start there)";

#[test]
fn a_blocking_inline_tool_is_moved_to_the_workers_at_once() {
    let server = util::serve(&plugins().test_plugin, &["--stateless"]);
    assert_eq!(call(&server, 1, "nap", json!({"ms": 1})), "napped 1 ms");
    assert_eq!(call(&server, 2, "nap", json!({"ms": 60})), "napped 60 ms");
    assert_eq!(call(&server, 3, "nap", json!({"ms": 1})), "napped 1 ms");
    wait_calls(&server, 3);
    // The 60 ms nap blocked the thread: the next call ran on a worker.
    assert_eq!(ways(&server, "nap"), [true, true, false]);
    let warnings = server.log_events(DEMOTED);
    assert_eq!(warnings.len(), 1, "{}", server.log_text());
    assert_eq!(warnings[0]["tool"], "nap");
    assert_eq!(warnings[0]["why"], "one call blocked");
    // Other tools of the plugin stay inline.
    assert_eq!(call(&server, 4, "echo", json!({"text": "x"})), "x");
    wait_calls(&server, 4);
    assert_eq!(ways(&server, "echo"), [true]);
}

#[test]
fn one_slow_inline_call_is_forgiven_but_three_are_not() {
    let server = util::serve(&plugins().test_plugin, &["--stateless"]);
    for id in 1..=2 {
        assert_eq!(call(&server, id, "nap", json!({"ms": 10})), "napped 10 ms");
    }
    wait_calls(&server, 2);
    // Two slow calls may be the machine's fault (a thread preempted mid-call): still inline.
    assert!(
        server.log_events(DEMOTED).is_empty(),
        "{}",
        server.log_text()
    );
    assert_eq!(call(&server, 3, "nap", json!({"ms": 10})), "napped 10 ms");
    assert_eq!(call(&server, 4, "nap", json!({"ms": 1})), "napped 1 ms");
    wait_calls(&server, 4);
    assert_eq!(ways(&server, "nap"), [true, true, true, false]);
    let warnings = server.log_events(DEMOTED);
    assert_eq!(warnings.len(), 1, "{}", server.log_text());
    assert_eq!(warnings[0]["why"], "calls are often slow");
}

#[test]
fn inline_calls_can_be_turned_off() {
    let server = util::serve(
        &plugins().test_plugin,
        &["--stateless", "--inline-tools", "false"],
    );
    assert_eq!(call(&server, 1, "echo", json!({"text": "w"})), "w");
    assert_eq!(call(&server, 2, "add", json!({"a": 1, "b": 2})), "3");
    wait_calls(&server, 2);
    assert_eq!(ways(&server, "echo"), [false]);
    assert_eq!(ways(&server, "add"), [false]);
}
