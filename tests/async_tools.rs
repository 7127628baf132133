//! Async tools of the real test plugin (`#[tool] async fn`, run on the plugin's own tokio
//! runtime and awaited by the host without a thread), through the real binary: results, a
//! panic, progress from an async tool, a timeout that drops the call, and many concurrent
//! waits that hold no thread each.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, plugins, sse_messages, text_of, tool_call};

#[test]
fn async_tools_answer_report_panics_and_progress() {
    let server = util::serve(&plugins().test_plugin, &["--stateless", "true"]);
    let reply = server.call(&tool_call(1, "io_wait", json!({"ms": 5})), None);
    assert_eq!(text_of(&reply), "waited 5 ms", "{reply}");

    let reply = server.call(&tool_call(2, "async_panic", json!({})), None);
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    assert!(
        text_of(&reply).contains("async tool panicked on purpose"),
        "the panic is named: {reply}"
    );

    let reply = server.call(&tool_call(3, "io_wait", json!({"ms": "soon"})), None);
    assert_eq!(
        reply["result"]["isError"], true,
        "invalid arguments: {reply}"
    );

    let mut body = tool_call(4, "io_progress", json!({"steps": 3}));
    body["params"]["_meta"] = json!({"progressToken": 9});
    let response = server.post(&body, None);
    assert_eq!(util::content_type(&response), "text/event-stream");
    let messages = sse_messages(&response.text().unwrap());
    let progress = util::with_method(&messages, "notifications/progress");
    assert_eq!(progress.len(), 3, "{messages:?}");
    assert_eq!(progress[2]["params"]["progress"], 3.0);
    assert_eq!(progress[0]["params"]["progressToken"], 9);
    let last = messages.last().unwrap();
    assert_eq!(
        text_of(last),
        "sent 3 progress notifications",
        "{messages:?}"
    );
}

#[test]
fn an_async_call_that_times_out_is_dropped_and_the_plugin_keeps_serving() {
    let server = util::serve(
        &plugins().test_plugin,
        &["--stateless", "true", "--tool-timeout", "1s"],
    );
    let reply = server.call(&tool_call(1, "io_wait", json!({"ms": 30_000})), None);
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    assert!(text_of(&reply).contains("timed out after 1s"), "{reply}");
    let reply = server.call(&tool_call(2, "io_wait", json!({"ms": 1})), None);
    assert_eq!(text_of(&reply), "waited 1 ms", "{reply}");
}

#[test]
fn many_concurrent_async_waits_run_at_once() {
    // --max-blocking-calls bounds worker threads, not async calls: 200 calls of `gather`
    // each return only once all 200 are running at the same time. Had the host run them 64
    // at a time (the worker cap), the first 64 would never see the rest and fail at the
    // deadline, which bounds the test rather than measuring it.
    let server = util::serve(&plugins().test_plugin, &["--stateless", "true"]);
    let server = &server;
    let args = json!({"group": "many_concurrent", "n": 200, "timeout_ms": 20_000});
    let replies: Vec<Value> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..200)
            .map(|i| {
                let args = args.clone();
                s.spawn(move || server.call(&tool_call(i, "gather", args), None))
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    for reply in &replies {
        assert_eq!(text_of(reply), "200 calls ran at once", "{reply}");
    }
}

#[test]
fn an_async_tool_asks_the_client_in_a_session_and_gets_the_answer() {
    let server = util::serve(&plugins().test_plugin, &[]);
    let session = server.initialize();
    let call = tool_call(7, "async_elicit", json!({"message": "Your name?"}));
    let stream = util::SseStream::new(server.post(&call, Some(&session)));
    let ask = stream
        .next(Duration::from_secs(10))
        .expect("the elicitation request");
    assert_eq!(ask["method"], "elicitation/create", "{ask}");
    assert_eq!(ask["params"]["message"], "Your name?");
    let answer = json!({"jsonrpc": "2.0", "id": ask["id"],
                        "result": {"action": "accept", "content": {"name": "Ada"}}});
    assert_eq!(server.post(&answer, Some(&session)).status(), 202);
    let rest = stream.rest(Duration::from_secs(10));
    let done = rest.last().expect("the result");
    assert_eq!(done["id"], 7, "{rest:?}");
    assert!(text_of(done).contains("Ada"), "{done}");
}
