//! Tasks kept in a real Redis and shared by two real instances (`--session-store redis://...`):
//! a task created through one is polled, answered, cancelled and its result fetched through the
//! other; a finished task's result outlives its instance; a task whose instance died while it
//! ran becomes `failed`; with Redis down, task requests get a clear error and nothing crashes.

use serde_json::json;

use crate::tasks::{error_code, handshake, modern, start_task, task_call, wait_status};
use crate::util::redis::redis;
use crate::util::{self, Server, plugins, text_of, tool_call};

fn instance(store: &str) -> Server {
    util::serve(
        &plugins().test_plugin,
        &["--stateless", "true", "--session-store", store],
    )
}

#[test]
fn a_task_created_on_one_instance_is_served_by_another() {
    let Some(redis) = redis() else { return };
    let url = format!("redis://127.0.0.1:{}/0", redis.port);
    let a = instance(&url);
    let b = instance(&url);

    // Created on A, result through B.
    let id = start_task(&a, 1, ("long_job", json!({"ms": 200})), None, &[]);
    let got = handshake(&b, 2, "tasks/get", json!({"taskId": id}), None, &[]);
    assert!(
        got["result"]["status"] == "working" || got["result"]["status"] == "completed",
        "{got}"
    );
    let result = handshake(&b, 3, "tasks/result", json!({"taskId": id}), None, &[]);
    assert_eq!(text_of(&result), "finished after 200 ms", "{result}");

    // Cancelled through B while A runs it.
    let slow = start_task(&a, 4, ("must_task", json!({"ms": 60_000})), None, &[]);
    let cancelled = handshake(&b, 5, "tasks/cancel", json!({"taskId": slow}), None, &[]);
    assert_eq!(cancelled["result"]["status"], "cancelled", "{cancelled}");
    let on_a = handshake(&a, 6, "tasks/get", json!({"taskId": slow}), None, &[]);
    assert_eq!(on_a["result"]["status"], "cancelled", "{on_a}");

    // 2026-07-28: input asked on A, answered through B, finished on A, read through B.
    let created = modern(
        &a,
        7,
        "tools/call",
        json!({"name": "task_ask", "arguments": {}}),
        true,
        &[],
    );
    let ask = created["result"]["taskId"].as_str().unwrap().to_string();
    let waiting = wait_status(
        || modern(&b, 8, "tasks/get", json!({"taskId": ask}), true, &[]),
        "input_required",
    );
    let key = waiting["result"]["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let answer = json!({"taskId": ask, "inputResponses": {key: {"action": "accept", "content": {"name": "Grace"}}}});
    let ack = modern(&b, 9, "tasks/update", answer, true, &[]);
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    let done = wait_status(
        || modern(&b, 10, "tasks/get", json!({"taskId": ask}), true, &[]),
        "completed",
    );
    assert_eq!(
        done["result"]["result"]["content"][0]["text"], "hello Grace",
        "{done}"
    );
}

#[test]
fn results_outlive_their_instance_and_orphans_fail() {
    let Some(redis) = redis() else { return };
    let url = format!("redis://127.0.0.1:{}/0", redis.port);
    let b = instance(&url);

    let a = instance(&url);
    let finished = start_task(&a, 1, ("long_job", json!({"ms": 1})), None, &[]);
    let done = handshake(
        &a,
        2,
        "tasks/result",
        json!({"taskId": finished}),
        None,
        &[],
    );
    assert_eq!(text_of(&done), "finished after 1 ms", "{done}");
    let running = start_task(&a, 3, ("must_task", json!({"ms": 60_000})), None, &[]);
    drop(a); // SIGKILL: the instance dies with the task running.

    let a = instance(&url);
    let kept = handshake(
        &a,
        4,
        "tasks/result",
        json!({"taskId": finished}),
        None,
        &[],
    );
    assert_eq!(
        text_of(&kept),
        "finished after 1 ms",
        "the result survived the restart: {kept}"
    );
    let failed = wait_status(
        || handshake(&b, 5, "tasks/get", json!({"taskId": running}), None, &[]),
        "failed",
    );
    assert!(
        failed["result"]["statusMessage"]
            .as_str()
            .unwrap()
            .contains("instance running this task stopped"),
        "{failed}"
    );
    let result = handshake(&a, 6, "tasks/result", json!({"taskId": running}), None, &[]);
    assert!(
        result["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stopped before it finished"),
        "{result}"
    );
}

#[test]
fn with_redis_down_task_requests_fail_clearly_and_the_server_keeps_serving() {
    let Some(redis) = redis() else { return };
    let url = format!("redis://127.0.0.1:{}/0", redis.port);
    let a = instance(&url);
    drop(redis);
    let created = handshake(
        &a,
        1,
        "tools/call",
        task_call("long_job", json!({"ms": 1}), json!({})),
        None,
        &[],
    );
    assert_eq!(error_code(&created), -32000, "{created}");
    assert!(
        created["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Task store unavailable"),
        "{created}"
    );
    let got = modern(&a, 2, "tasks/get", json!({"taskId": "t1"}), true, &[]);
    assert_eq!(error_code(&got), -32000, "{got}");
    let plain = a.call(&tool_call(3, "echo", json!({"text": "still here"})), None);
    assert_eq!(text_of(&plain), "still here", "{plain}");
}
