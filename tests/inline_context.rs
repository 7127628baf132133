//! A short tool with a context (`#[tool(inline)]`, manifest `"inlineContext": true`) runs on
//! the I/O thread for stateless requests, where its context can never wait for the client: its
//! notifications are collected and sent before the result on one SSE response. In a stateful
//! session, where it could ask the client something, it runs on the worker threads.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, Server, plugins, sse_messages, text_of, tool_call};

/// Whether the last logged call of `tool` ran inline (waits for the log line).
fn ran_inline(server: &Server, tool: &str) -> bool {
    let seen = util::eventually(Duration::from_secs(5), || {
        !util::inline_ways(server, tool).is_empty()
    });
    assert!(seen, "no call of {tool} logged:\n{}", server.log_text());
    util::inline_ways(server, tool).last() == Some(&true)
}

fn progress_call(token: Option<Value>) -> Value {
    let mut body = tool_call(1, "progress_once", json!({}));
    if let Some(token) = token {
        body["params"]["_meta"] = json!({"progressToken": token});
    }
    body
}

#[test]
fn stateless_calls_run_inline_and_send_their_progress_first() {
    let server = util::serve(&plugins().test_plugin, &["--stateless", "true"]);
    let response = server.post(&progress_call(Some(json!("t1"))), None);
    assert_eq!(util::content_type(&response), "text/event-stream");
    let messages = sse_messages(&response.text().unwrap());
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0]["method"], "notifications/progress");
    assert_eq!(messages[0]["params"]["progressToken"], "t1");
    assert_eq!(messages[0]["params"]["message"], "done");
    assert_eq!(text_of(&messages[1]), "progressed once");
    assert!(
        ran_inline(&server, "progress_once"),
        "{}",
        server.log_text()
    );

    // Without a progress token nothing is sent first: plain JSON.
    let response = server.post(&progress_call(None), None);
    assert_eq!(util::content_type(&response), "application/json");
    let reply: Value = response.json().unwrap();
    assert_eq!(text_of(&reply), "progressed once");
}

#[test]
fn in_a_session_it_runs_on_the_workers_with_the_same_outcome() {
    let server = util::serve(&plugins().test_plugin, &[]);
    let session = server.initialize();
    let response = server.post(&progress_call(Some(json!(5))), Some(&session));
    assert_eq!(util::content_type(&response), "text/event-stream");
    let messages = sse_messages(&response.text().unwrap());
    let progress = util::with_method(&messages, "notifications/progress");
    assert_eq!(progress.len(), 1, "{messages:?}");
    assert_eq!(progress[0]["params"]["progressToken"], 5);
    assert_eq!(text_of(messages.last().unwrap()), "progressed once");
    assert!(
        !ran_inline(&server, "progress_once"),
        "{}",
        server.log_text()
    );
}
