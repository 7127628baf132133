//! What a task sends the client after its `tools/call` was answered. A 2025-11-25 task that
//! asks something, over HTTP in a stateful session: the task moves to `input_required`, its
//! `elicitation/create` (tagged with the task) reaches the client on the `tasks/result`
//! response stream, the client answers through the session, and the task resumes and
//! completes with the answer. A task with no stream left (stateless) has its log messages
//! counted as dropped.

use std::time::Duration;

use serde_json::{Value, json};

use crate::tasks::{HANDSHAKE, handshake, init_session_with, start_task, wait_status};
use crate::util::metrics::scrape;
use crate::util::{self, SseStream, plugins, rpc};

const RELATED: &str = "io.modelcontextprotocol/related-task";

#[test]
fn a_handshake_task_asks_through_tasks_result_and_resumes_with_the_answer() {
    let server = util::start(&[plugins().test_plugin.to_str().unwrap()], &[]);
    let (session, _) = init_session_with(&server, json!({"elicitation": {}}));
    let s = Some(session.as_str());
    let id = start_task(&server, 1, ("task_ask", json!({})), s, &[]);
    let get = || handshake(&server, 2, "tasks/get", json!({"taskId": id}), s, &[]);
    let waiting = wait_status(get, "input_required");
    assert!(
        waiting["result"]["statusMessage"]
            .as_str()
            .is_some_and(|m| m.contains("tasks/result")),
        "{waiting}"
    );

    // The question rides on the tasks/result response stream.
    let headers = [("mcp-protocol-version", HANDSHAKE)];
    let result = server.post_with(&rpc(3, "tasks/result", json!({"taskId": id})), &headers, s);
    assert_eq!(result.status(), 200);
    assert!(util::content_type(&result).starts_with("text/event-stream"));
    let stream = SseStream::new(result);
    let asked = stream
        .next(Duration::from_secs(20))
        .expect("the task's request on the tasks/result stream");
    assert_eq!(asked["method"], "elicitation/create", "{asked}");
    assert_eq!(asked["params"]["message"], "Who are you?", "{asked}");
    assert_eq!(
        asked["params"]["_meta"][RELATED]["taskId"],
        id.as_str(),
        "{asked}"
    );

    // The client answers through the session; the task resumes.
    let answer = json!({"jsonrpc": "2.0", "id": asked["id"].clone(),
                        "result": {"action": "accept", "content": {"name": "Ada"}}});
    assert_eq!(server.post_with(&answer, &headers, s).status(), 202);
    let done: Vec<Value> = stream.rest(Duration::from_secs(20));
    let last = done
        .last()
        .unwrap_or_else(|| panic!("no result on the stream"));
    assert_eq!(last["id"], 3, "{done:?}");
    assert_eq!(util::text_of(last), "hello Ada", "{last}");
    assert_eq!(
        last["result"]["_meta"][RELATED]["taskId"],
        id.as_str(),
        "{last}"
    );
    let finished = wait_status(get, "completed");
    assert_eq!(finished["result"]["taskId"], id.as_str());
}

#[test]
fn a_stateless_tasks_logs_are_counted_as_dropped() {
    let server = util::start(
        &[
            plugins().test_plugin.to_str().unwrap(),
            "--stateless",
            "--metrics",
        ],
        &[],
    );
    let series = r#"fastmcp_notifications_dropped_total{reason="task_without_stream"}"#;
    let dropped = || {
        let (all, _) = scrape(&server, &[]);
        all.get(series).copied().unwrap_or(0.0)
    };
    assert_eq!(dropped(), 0.0);
    // Stateless 2025-11-25 sends info and above; long_job logs one info line.
    let id = start_task(&server, 1, ("long_job", json!({"ms": 1})), None, &[]);
    let get = || handshake(&server, 2, "tasks/get", json!({"taskId": id}), None, &[]);
    wait_status(get, "completed");
    assert_eq!(dropped(), 1.0);
}
