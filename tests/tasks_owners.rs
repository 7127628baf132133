//! Tasks belong to the caller who created them: another caller gets "unknown task", exactly as
//! for an id that never existed, in both protocol eras, and cannot cancel or list them. Each
//! caller's share is capped (`--max-tasks-per-caller`), and the TTL and poll interval given are
//! the configured ones.

use serde_json::json;

use crate::tasks::{error_code, handshake, modern, start_task, task_call};
use crate::util::{self, plugins};

const KEY_A: &str = "task-key-a-5f1e9c2b7d";
const KEY_B: &str = "task-key-b-8a3d6e0f4c";

#[test]
fn another_callers_task_is_unknown_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, format!("alice:{KEY_A}\nbob:{KEY_B}\n")).unwrap();
    let keys = keys.to_str().unwrap();
    let server = util::serve(
        &plugins().test_plugin,
        &["--stateless", "true", "--api-keys-file", keys],
    );
    let (a, b) = ([("x-api-key", KEY_A)], [("x-api-key", KEY_B)]);

    let id = start_task(&server, 1, ("must_task", json!({"ms": 60_000})), None, &a);
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        let theirs = handshake(&server, 2, method, json!({"taskId": id}), None, &b);
        let bogus = handshake(
            &server,
            2,
            method,
            json!({"taskId": "x".repeat(id.len())}),
            None,
            &b,
        );
        assert_eq!(error_code(&theirs), -32602, "{method}: {theirs}");
        assert_eq!(
            theirs["error"]["message"]
                .as_str()
                .unwrap()
                .replace(&id, "ID"),
            bogus["error"]["message"]
                .as_str()
                .unwrap()
                .replace(&"x".repeat(id.len()), "ID"),
            "{method}: another caller's task looks like no task at all"
        );
    }
    let list = handshake(&server, 3, "tasks/list", json!({}), None, &b);
    assert_eq!(list["result"]["tasks"], json!([]), "{list}");
    let mine = handshake(&server, 4, "tasks/get", json!({"taskId": id}), None, &a);
    assert_eq!(
        mine["result"]["status"], "working",
        "bob's cancel did nothing: {mine}"
    );

    let created = modern(
        &server,
        5,
        "tools/call",
        json!({"name": "long_job", "arguments": {"ms": 1}}),
        true,
        &a,
    );
    let id = created["result"]["taskId"].as_str().unwrap().to_string();
    let theirs = modern(&server, 6, "tasks/get", json!({"taskId": id}), true, &b);
    assert_eq!(error_code(&theirs), -32602, "{theirs}");
    let mine = modern(&server, 7, "tasks/get", json!({"taskId": id}), true, &a);
    assert_eq!(mine["result"]["taskId"], id.as_str(), "{mine}");
}

#[test]
fn a_caller_over_its_task_limit_gets_the_documented_error() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, format!("alice:{KEY_A}\nbob:{KEY_B}\n")).unwrap();
    let server = util::serve(
        &plugins().test_plugin,
        &[
            "--stateless",
            "true",
            "--api-keys-file",
            keys.to_str().unwrap(),
            "--max-tasks-per-caller",
            "2",
            "--task-ttl",
            "90s",
            "--task-poll-interval=1500ms",
        ],
    );
    let (a, b) = ([("x-api-key", KEY_A)], [("x-api-key", KEY_B)]);
    let start = |id: i64, who: &[(&str, &str)]| {
        let call = task_call("must_task", json!({"ms": 60_000}), json!({}));
        handshake(&server, id, "tools/call", call, None, who)
    };
    for id in 1..=2 {
        let created = start(id, &a);
        assert_eq!(created["result"]["task"]["ttl"], 90_000, "{created}");
        assert_eq!(created["result"]["task"]["pollInterval"], 1500, "{created}");
    }
    let refused = start(3, &a);
    assert_eq!(error_code(&refused), -32000, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        "Too many tasks: this caller holds the most tasks it may"
    );
    // Another caller has a share of its own.
    let other = start(4, &b);
    assert!(other["result"]["task"]["taskId"].is_string(), "{other}");
}
