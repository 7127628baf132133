//! Blocking tool calls against the real binary: `--max-blocking-calls` bounds how many run at
//! once (more wait, and the wait shows in `/metrics`), bad values stop the program, and a
//! plugin whose every worker runs a call that overran `--tool-timeout` and ignores its
//! cancellation (the test plugin's `spin`) shows in `/ready` until a reload clears it, while
//! the rest of the server keeps answering (issue 12, point 2).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, Server, eventually, plugins, text_of, tool_call};

/// `GET /metrics` as samples.
fn scrape(server: &Server) -> HashMap<String, f64> {
    util::metrics::scrape(server, &[]).0
}

/// Starts `count` calls of `spin` with `arguments` at once; each thread returns the response.
fn spin_calls(
    server: &Server,
    count: usize,
    arguments: &Value,
) -> Vec<std::thread::JoinHandle<Value>> {
    (0..count)
        .map(|i| {
            let url = server.mcp();
            let body = tool_call(i as i64 + 1, "spin", arguments.clone());
            std::thread::spawn(move || {
                let r = util::client()
                    .post(url)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .body(body.to_string())
                    .send()
                    .expect("POST /mcp");
                util::rpc_response(r)
            })
        })
        .collect()
}

#[test]
fn at_most_max_blocking_calls_run_at_once_and_the_rest_wait_in_the_queue() {
    let p = plugins();
    let server = util::serve(
        &p.test_plugin,
        &[
            "--stateless=true",
            "--max-blocking-calls",
            "2",
            "--metrics=true",
        ],
    );
    let calls = spin_calls(&server, 4, &json!({"ms": 1500}));
    let running = r#"fastmcp_blocking_calls{plugin="test-plugin",state="running"}"#;
    let queued = r#"fastmcp_blocking_calls{plugin="test-plugin",state="queued"}"#;
    let mut most_running = 0.0_f64;
    let saw_the_queue = eventually(Duration::from_secs(10), || {
        let m = scrape(&server);
        let (r, q) = (m.get(running).copied(), m.get(queued).copied());
        most_running = most_running.max(r.unwrap_or(0.0));
        r == Some(2.0) && q.unwrap_or(0.0) >= 1.0
    });
    assert!(saw_the_queue, "never 2 running and some queued");
    for call in calls {
        let r = call.join().unwrap();
        assert_eq!(r["result"]["isError"], Value::Null, "{r}");
        assert_eq!(text_of(&r), "spun 1500 ms", "{r}");
    }
    assert_eq!(most_running, 2.0, "more than 2 calls ran at once");

    let m = scrape(&server);
    let series = |s: &str| {
        let name = format!("fastmcp_blocking_queue_wait_seconds_{s}");
        *m.get(&name).unwrap_or_else(|| panic!("no {name} in {m:?}"))
    };
    let count = series(r#"count{plugin="test-plugin"}"#);
    let quick = series(r#"bucket{le="0.25",plugin="test-plugin"}"#);
    assert!(count >= 4.0, "{m:?}");
    // The 3rd and 4th calls waited for a 1.5 s spin to end.
    assert!(count - quick >= 2.0, "fewer than 2 calls waited: {m:?}");
    // A worker counts as running until its job has returned, just after the answer went out.
    let idle = eventually(Duration::from_secs(5), || {
        let m = scrape(&server);
        (m.get(running), m.get(queued)) == (Some(&0.0), Some(&0.0))
    });
    assert!(idle, "calls still running or queued after all answered");
}

#[test]
fn a_bad_max_blocking_calls_stops_the_program_with_a_clear_message() {
    let calculator = plugins().calculator.to_str().unwrap();
    let within = Duration::from_secs(20);
    let reason = "expected a whole number of calls from 1 to 4096";
    for bad in ["0", "abc", "4097"] {
        let out = util::run_bin(
            &["dev", calculator, "--max-blocking-calls", bad],
            &[],
            within,
        );
        assert_eq!(out.code, Some(2), "{out:?}");
        let want = format!("error: invalid value {bad:?} for --max-blocking-calls: {reason}");
        assert!(out.stderr.contains(&want), "{out:?}");
    }
    let out = util::run_bin(
        &["dev", calculator],
        &[("FASTMCP_MAX_BLOCKING_CALLS", "0")],
        within,
    );
    assert_eq!(out.code, Some(2), "{out:?}");
    let want = format!("error: invalid value \"0\" for FASTMCP_MAX_BLOCKING_CALLS: {reason}");
    assert!(out.stderr.contains(&want), "{out:?}");
}

/// Writes `src` plus a trailing byte to `dst` through a rename: new bytes, so a reload (the
/// loader ignores bytes past the ELF's segments).
fn replace_with_new_bytes(src: &Path, dst: &Path) {
    let tmp = dst.with_extension("tmp-copy");
    let mut bytes = std::fs::read(src).unwrap();
    bytes.push(0);
    std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&bytes))
        .unwrap();
    std::fs::rename(&tmp, dst).unwrap();
}

const WEDGED: &str = "every blocking-call worker of this plugin runs a call that overran";

#[test]
fn a_plugin_whose_every_worker_is_stuck_shows_in_ready_until_a_reload() {
    let p = plugins();
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("libserved.so");
    std::fs::copy(&p.test_plugin, &served).unwrap();
    let label = served.to_str().unwrap();
    let server = util::start(
        &[
            label,
            p.calculator.to_str().unwrap(),
            "--stateless=true",
            "--max-blocking-calls",
            "2",
            "--tool-timeout",
            "1s",
        ],
        &[],
    );

    // Two calls that spin "forever": both time out, and both keep their worker.
    for call in spin_calls(&server, 2, &json!({})) {
        let r = call.join().unwrap();
        assert_eq!(r["result"]["isError"], true, "{r}");
        assert_eq!(text_of(&r), r#"Tool "spin" timed out after 1s"#, "{r}");
    }
    let stuck = eventually(Duration::from_secs(10), || util::ready(&server).0 == 503);
    assert!(stuck, "/ready never reported the stuck plugin");
    let (_, body) = util::ready(&server);
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!((&body["ready"], &body["total"]), (&json!(1), &json!(2)));
    assert_eq!(body["mode"], "stateless");
    assert_eq!(
        body["stuck"],
        json!([{"plugin": label, "generation": 1, "calls": 2}])
    );

    // The server and the other plugin still answer; the stuck plugin's blocking calls cannot.
    let health = util::client()
        .get(format!("{}/health", server.base))
        .send()
        .unwrap();
    assert_eq!(
        (health.status().as_u16(), health.text().unwrap()),
        (200, "✓ Ok".into())
    );
    let add = json!({"operation": "add", "a": 2, "b": 3});
    let r = server.call(&tool_call(3, "calculate", add), None);
    assert_eq!(text_of(&r), "Result: 5");
    let r = server.call(&tool_call(4, "blocking_echo", json!({"text": "hi"})), None);
    assert_eq!(
        text_of(&r),
        r#"Tool "blocking_echo" timed out after 1s"#,
        "{r}"
    );
    let warned = |s: &Server| s.log_text().matches(WEDGED).count();
    assert_eq!(warned(&server), 1, "one warning: {}", server.log_text());

    // A reload brings new workers: ready again, and blocking calls run.
    replace_with_new_bytes(&p.test_plugin, &served);
    assert!(
        server.wait_log("plugin reloaded", 1, Duration::from_secs(20)),
        "no reload: {}",
        server.log_text()
    );
    let (status, body) = util::ready(&server);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["ready"], 2);
    assert!(body.get("stuck").is_none(), "{body}");
    let r = server.call(&tool_call(5, "spin", json!({"ms": 1})), None);
    assert_eq!(text_of(&r), "spun 1 ms", "{r}");
    assert_eq!(warned(&server), 1, "{}", server.log_text());
}

#[test]
fn a_call_that_timed_out_in_the_queue_never_runs() {
    let server = util::serve(
        &plugins().test_plugin,
        &[
            "--stateless",
            "true",
            "--max-blocking-calls",
            "1",
            "--tool-timeout",
            "1s",
        ],
    );
    // The first spin holds the only worker for 4 s; the second waits in the queue and times
    // out there after 1 s.
    let calls = spin_calls(&server, 2, &json!({"ms": 4000}));
    let replies: Vec<Value> = calls.into_iter().map(|c| c.join().unwrap()).collect();
    for reply in &replies {
        assert!(text_of(reply).contains("timed out after 1s"), "{reply}");
    }
    // The worker comes free 3 s from now. Had the queued call started then, it would hold the
    // worker for 4 s more; it never starts, so the next blocking call runs at about 3 s.
    let started = std::time::Instant::now();
    let reply = util::eventually(Duration::from_secs(15), || {
        let reply = server.call(
            &tool_call(9, "blocking_echo", json!({"text": "free"})),
            None,
        );
        text_of(&reply).contains("free")
    });
    assert!(reply, "the worker never came free");
    assert!(
        started.elapsed() < Duration::from_millis(5500),
        "the worker ran the abandoned call: {:?}",
        started.elapsed()
    );
}
