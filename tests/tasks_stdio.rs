//! A task over stdio: its progress and `notifications/tasks/status` go out on stdout after the
//! `CreateTaskResult`, and `tasks/result` answers on stdin.

use std::time::Duration;

use serde_json::{Value, json};

use crate::tasks::{HANDSHAKE, task_call, task_id};
use crate::util::{self, rpc, text_of};

#[test]
fn over_stdio_a_tasks_progress_and_status_follow_its_answer() {
    use std::io::Write;

    let mut child = util::stdio_test_plugin();
    let mut stdin = child.stdin.take().unwrap();
    let init = util::initialize_params(HANDSHAKE);
    let mut call = task_call("long_job", json!({"ms": 20}), json!({}));
    call["_meta"] = json!({"progressToken": 5});
    for m in [rpc(1, "initialize", init), rpc(2, "tools/call", call)] {
        writeln!(stdin, "{m}").unwrap();
    }
    stdin.flush().unwrap();
    let lines = util::lines(child.stdout.take().unwrap());
    let next = |timeout| {
        lines
            .recv_timeout(timeout)
            .map(|l| serde_json::from_str::<Value>(&l).unwrap())
    };
    let mut seen = Vec::new();
    let finished = |seen: &[Value]| {
        seen.iter().any(|m| {
            m["method"] == "notifications/tasks/status" && m["params"]["status"] == "completed"
        })
    };
    while !finished(&seen) {
        match next(Duration::from_secs(20)) {
            Ok(m) => seen.push(m),
            Err(_) => panic!("no completed status on stdout: {seen:?}"),
        }
    }
    let created = seen
        .iter()
        .position(|m| m["id"] == 2)
        .expect("the CreateTaskResult");
    let id = task_id(&seen[created]);
    let progress = seen
        .iter()
        .filter(|m| m["method"] == "notifications/progress" && m["params"]["progressToken"] == 5)
        .count();
    assert_eq!(progress, 2, "{seen:?}");
    writeln!(stdin, "{}", rpc(3, "tasks/result", json!({"taskId": id}))).unwrap();
    stdin.flush().unwrap();
    let result = loop {
        let m = next(Duration::from_secs(20)).expect("the tasks/result answer");
        if m["id"] == 3 {
            break m;
        }
    };
    assert_eq!(text_of(&result), "finished after 20 ms", "{result}");
    drop(stdin);
    let _ = child.wait();
}
