//! Crashes of an isolated plugin (`--isolate`) against the real binary: each way a plugin can
//! die (segfault, abort, stack overflow, failed allocation, exit) fails only the call that
//! held it, with the documented error; the child restarts and the next call succeeds; a
//! second, in-process plugin under load never fails a request; a crash loop shows on
//! `/ready` until a reload.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{self, Server, children_of, plugins, text_of, tool_call};

/// Calls of the calculator made in the background, and the ones that failed.
pub struct Load {
    stop: Arc<AtomicBool>,
    worker: JoinHandle<(usize, Vec<String>)>,
}

impl Load {
    /// Calls `calculate` on `server` back to back (at most 200,000 calls or 5 minutes).
    pub fn start(server: &Server) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, flag) = (server.mcp(), stop.clone());
        let worker = std::thread::spawn(move || {
            let client = util::client();
            let deadline = Instant::now() + Duration::from_secs(300);
            let (mut ok, mut failed) = (0, Vec::new());
            let args = json!({"operation": "add", "a": 2, "b": 3});
            for i in 0..200_000 {
                if flag.load(Ordering::Relaxed) || Instant::now() > deadline {
                    break;
                }
                let body = tool_call(i, "calculate", args.clone());
                let reply = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-protocol-version", "2025-06-18")
                    .body(body.to_string())
                    .send()
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.json::<Value>().map_err(|e| e.to_string()));
                match reply {
                    Ok(v) if text_of(&v) == "Result: 5" => ok += 1,
                    Ok(v) => failed.push(v.to_string()),
                    Err(e) => failed.push(e),
                }
            }
            (ok, failed)
        });
        Load { stop, worker }
    }

    /// Stops the load; returns how many calls succeeded and the failures.
    pub fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.worker.join().expect("load thread")
    }
}

/// The test plugin isolated and the calculator in-process, stateless.
fn two_plugins(extra: &[&str]) -> Server {
    let p = plugins();
    let mut args = vec![
        p.calculator.to_str().unwrap(),
        "--stateless",
        "true",
        "--isolate=test_plugin",
    ];
    args.extend_from_slice(extra);
    util::serve(&p.test_plugin, &args)
}

fn echo_ok(server: &Server, id: i64) {
    let reply = server.call(&tool_call(id, "echo", json!({"text": "back"})), None);
    assert_eq!(
        text_of(&reply),
        "back",
        "the plugin did not come back: {reply}"
    );
}

#[test]
fn each_crash_fails_only_its_call_and_the_plugin_comes_back() {
    let server = two_plugins(&["--isolate-crash-loop", "100/30s"]);
    echo_ok(&server, 1);
    let load = Load::start(&server);
    let cases = [
        ("crash_segv", "SIGSEGV"),
        ("crash_abort", "SIGABRT"),
        ("crash_stack", "stack overflow (SIGABRT)"),
        ("crash_oom", "out of memory (SIGABRT)"),
        ("crash_exit", "exit status 3"),
    ];
    for (i, (tool, cause)) in cases.iter().enumerate() {
        let id = 10 + i as i64 * 2;
        let reply = server.call(&tool_call(id, tool, json!({})), None);
        assert_eq!(reply["error"]["code"], -32603, "{tool}: {reply}");
        assert_eq!(
            reply["error"]["message"],
            format!("plugin \"test-plugin\" crashed: {cause}"),
            "{tool}: {reply}"
        );
        assert_eq!(reply["error"]["data"]["cause"], *cause, "{reply}");
        echo_ok(&server, id + 1);
    }
    let (ok, failed) = load.finish();
    assert!(failed.is_empty(), "the other plugin failed: {failed:?}");
    assert!(ok > 0, "the load made no call");
    let crashes = server.log_events("isolated plugin crashed");
    assert_eq!(crashes.len(), cases.len(), "{}", server.log_text());
    assert_eq!(crashes[0]["level"], "ERROR");
    assert_eq!(crashes[2]["cause"], "stack overflow (SIGABRT)");
    let stderr = crashes[2]["stderr"].as_str().unwrap_or_default();
    assert!(stderr.contains("has overflowed its stack"), "{stderr}");
    assert_eq!(children_of(server.child.id()).len(), 1, "one child serves");
}

#[test]
fn fifty_crashes_in_a_row_cost_the_other_plugin_nothing() {
    let server = two_plugins(&["--isolate-crash-loop", "1000/30s"]);
    let load = Load::start(&server);
    for i in 0..50 {
        let reply = server.call(&tool_call(i * 2, "crash_segv", json!({})), None);
        assert_eq!(reply["error"]["code"], -32603, "crash {i}: {reply}");
        echo_ok(&server, i * 2 + 1);
    }
    let (ok, failed) = load.finish();
    assert!(failed.is_empty(), "the other plugin failed: {failed:?}");
    assert!(ok > 0, "the load made no call");
    assert_eq!(server.log_events("isolated plugin crashed").len(), 50);
    assert_eq!(children_of(server.child.id()).len(), 1, "no child leaked");
}

#[test]
fn a_crash_loop_shows_as_failed_on_ready_until_a_reload() {
    let p = plugins();
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("libserved.so");
    std::fs::copy(&p.test_plugin, &served).unwrap();
    let args = [
        served.to_str().unwrap(),
        p.calculator.to_str().unwrap(),
        "--stateless=true",
        "--isolate=served",
        "--isolate-crash-loop",
        "3/30s",
    ];
    let server = util::start(&args, &[]);
    for i in 0..3 {
        let reply = server.call(&tool_call(i, "crash_abort", json!({})), None);
        assert_eq!(reply["error"]["code"], -32603, "{reply}");
    }
    let (status, body) = util::ready(&server);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "failed", "{body}");
    assert_eq!(body["ready"], 1, "{body}");
    let failed = &body["failed"][0];
    assert_eq!(failed["plugin"], served.to_str().unwrap(), "{body}");
    let reason = failed["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("SIGABRT; it crashed 3 times"),
        "{reason}"
    );
    // Its calls fail at once with the reason; the other plugin serves.
    let reply = server.call(&tool_call(9, "echo", json!({"text": "x"})), None);
    assert!(
        reply["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("crashed 3 times")),
        "{reply}"
    );
    let calc = json!({"operation": "add", "a": 2, "b": 3});
    let reply = server.call(&tool_call(10, "calculate", calc), None);
    assert_eq!(text_of(&reply), "Result: 5", "{reply}");
    assert!(
        children_of(server.child.id()).is_empty(),
        "no child after giving up"
    );
    // The same bytes written again: a reload, which starts the plugin afresh.
    util::replace_atomically(&p.test_plugin, &served);
    let back = util::eventually(Duration::from_secs(20), || util::ready(&server).0 == 200);
    assert!(
        back,
        "still failed: {:?}\n{}",
        util::ready(&server),
        server.log_text()
    );
    echo_ok(&server, 11);
}
