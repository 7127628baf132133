//! Nothing a plugin does stalls the server's own I/O (issue 12): inline tools that block leave
//! `/health`, `/ready` and other tools answering, SIGTERM exits within `--shutdown-timeout`
//! whatever calls are still running, and an inline tool with a `thread_local!` destructor does
//! not leak a copy of its plugin per reload.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{self, Server, mapped_copies, plugins, rss_kib, text_of, tool_call};

/// A POST of `body` to `mcp` that may fail (the server can exit before it answers).
fn try_call(mcp: &str, body: &Value) -> Result<Value, String> {
    let r = util::client()
        .post(mcp)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string())
        .timeout(Duration::from_secs(90))
        .send()
        .map_err(|e| e.to_string())?;
    let text = r.text().map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
}

/// How long a GET of `path` took, panicking unless it answered 200.
fn timed_get(server: &Server, path: &str) -> Duration {
    let sent = Instant::now();
    let r = util::client()
        .get(format!("{}{path}", server.base))
        .send()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(r.status(), 200, "GET {path}");
    sent.elapsed()
}

#[test]
fn blocking_inline_calls_leave_health_ready_and_other_tools_answering() {
    const NAP_MS: u64 = 3000;
    let server = util::serve(&plugins().test_plugin, &["--stateless"]);
    let started = Instant::now();
    let naps: Vec<_> = (0..4)
        .map(|i| {
            let mcp = server.mcp();
            std::thread::spawn(move || {
                let r = util::client()
                    .post(mcp)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .body(tool_call(i, "nap", json!({"ms": NAP_MS})).to_string())
                    .send()
                    .expect("POST nap");
                let body: Value = r.json().expect("nap answer");
                (body, Instant::now())
            })
        })
        .collect();
    // Let the naps reach the plugin: every thread the runtime has could be taken by now.
    std::thread::sleep(Duration::from_millis(500));
    let health = timed_get(&server, "/health");
    let ready = timed_get(&server, "/ready");
    let sent = Instant::now();
    let echo = server.call(&tool_call(10, "echo", json!({"text": "awake"})), None);
    let echo_took = sent.elapsed();
    let answered = Instant::now();
    assert_eq!(text_of(&echo), "awake", "{echo}");

    let mut ended = Vec::new();
    for nap in naps {
        let (body, at) = nap.join().expect("nap thread");
        assert_eq!(text_of(&body), format!("napped {NAP_MS} ms"), "{body}");
        ended.push(at);
    }
    // The answers came while every nap was still running, and promptly (generous bounds for
    // a loaded machine; a stalled server takes the naps' 3 s).
    let first_nap_end = ended.iter().min().copied().unwrap();
    assert!(
        answered < first_nap_end,
        "answered {:?} after the start, a nap ended at {:?}; log:\n{}",
        answered - started,
        first_nap_end - started,
        server.log_text()
    );
    for (what, took) in [("/health", health), ("/ready", ready), ("echo", echo_took)] {
        assert!(
            took < Duration::from_secs(1),
            "{what} took {took:?} while the naps ran"
        );
    }
}

#[test]
fn sigterm_exits_within_the_shutdown_timeout_while_plugin_calls_never_end() {
    let mut server = util::serve(
        &plugins().test_plugin,
        &["--stateless", "--shutdown-timeout", "1s"],
    );
    let r = server.call(&util::rpc(1, "tools/list", json!({})), None);
    let has_spin = r["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .any(|t| t["name"] == "spin");
    let mut calls = vec![
        tool_call(2, "nap", json!({"ms": 60_000})),
        tool_call(3, "nap", json!({"ms": 60_000})),
    ];
    if has_spin {
        calls.push(tool_call(4, "spin", json!({})));
    }
    let running: Vec<_> = calls
        .into_iter()
        .map(|body| {
            let mcp = server.mcp();
            std::thread::spawn(move || try_call(&mcp, &body))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));

    server.terminate();
    let signalled = Instant::now();
    let code = server.wait_exit(Duration::from_secs(15));
    let took = signalled.elapsed();
    // Exit code 3: the calls on worker threads were cut off (docs/configuration.md).
    assert_eq!(code, Some(3), "{}", server.log_text());
    // 1 s of shutdown timeout, 1 s to exit, and slack for a loaded machine.
    assert!(
        took < Duration::from_secs(4),
        "exited {took:?} after SIGTERM"
    );
    assert_eq!(
        server
            .log_events("requests still running after the shutdown timeout; exiting anyway")
            .len(),
        1,
        "{}",
        server.log_text()
    );
    let mut cut = 0;
    for call in running {
        // A call on a worker is answered `server shutting down`; one running inline on an I/O
        // thread cannot be interrupted, and its connection just closes.
        if let Ok(answer) = call.join().expect("call thread") {
            assert_eq!(
                answer["error"]["message"], "server shutting down",
                "{answer}"
            );
            cut += 1;
        }
    }
    assert!(cut >= 1, "no call got the shutdown error");
}

/// The message of the warning about a plugin whose retired copy stays mapped.
const LEAK_WARNING: &str = "a retired copy of this plugin stays mapped after it was closed";

fn leak_warnings(server: &Server) -> Vec<Value> {
    server
        .log
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(LEAK_WARNING))
        })
        .collect()
}

/// Replaces `served` with `bytes`, as a build would (new inode, atomic rename).
fn replace_with(served: &Path, bytes: &[u8]) {
    let tmp = served.with_extension("tmp-copy");
    std::fs::write(&tmp, bytes).expect("write plugin");
    std::fs::rename(&tmp, served).expect("rename plugin");
}

#[test]
fn an_inline_tool_with_a_thread_local_destructor_does_not_leak_a_copy_per_reload() {
    const RELOADS: usize = 50;
    let original = std::fs::read(&plugins().test_plugin).expect("test plugin");
    // Two files that differ (trailing bytes after the ELF contents), so each replacement is a
    // real reload.
    let mut padded = original.clone();
    padded.extend_from_slice(b"\0fastmcp-test-padding\0");
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("libtls.so");
    std::fs::write(&served, &original).unwrap();
    let server = util::start(&[served.to_str().unwrap(), "--stateless", "--metrics"], &[]);
    let pid = server.child.id();
    let reloads = r#"fastmcp_plugin_reloads_total{plugin="test-plugin",result="ok"}"#;
    let tls_drop = |id: i64| {
        let r = server.call(&tool_call(id, "tls_drop", json!({})), None);
        assert!(r["result"].get("isError").is_none(), "{r}");
        assert!(text_of(&r).starts_with("call "), "{r}");
    };
    let reload = |n: usize| {
        replace_with(&served, if n % 2 == 1 { &padded } else { &original });
        let swapped = util::eventually(Duration::from_secs(30), || {
            util::metrics::scrape(&server, &[]).0.get(reloads) == Some(&(n as f64))
        });
        assert!(swapped, "reload {n} did not happen:\n{}", server.log_text());
    };

    // The first copy runs tls_drop inline; once retired it stays mapped, and the server says so.
    tls_drop(1);
    reload(1);
    assert!(
        util::eventually(Duration::from_secs(10), || !leak_warnings(&server)
            .is_empty()),
        "no warning about the leaked copy:\n{}",
        server.log_text()
    );
    let before = rss_kib(pid);
    for n in 2..=RELOADS + 1 {
        tls_drop(n as i64);
        reload(n);
    }
    tls_drop(1000);
    // Retired generations are closed by reaper threads: give the last ones a moment.
    util::eventually(Duration::from_secs(10), || mapped_copies(pid) <= 2);
    let after = rss_kib(pid);

    let copies = mapped_copies(pid);
    assert!(
        copies <= 2,
        "{copies} copies mapped: more than the serving one and one retired"
    );
    let growth = after.saturating_sub(before);
    assert!(
        growth < 5 * 1024,
        "RSS grew by {growth} KiB over {RELOADS} reloads ({before} -> {after} KiB)"
    );
    let warnings = leak_warnings(&server);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["level"], "WARN", "{}", warnings[0]);
    assert_eq!(warnings[0]["plugin"], "test-plugin", "{}", warnings[0]);
    // Only the first call ran on an I/O thread; the later ones ran on worker threads.
    assert!(
        server.wait_log("tool call", RELOADS + 2, Duration::from_secs(10)),
        "{}",
        server.log_text()
    );
    let ways = util::inline_ways(&server, "tls_drop");
    assert_eq!(ways.len(), RELOADS + 2);
    assert!(ways[0], "the first call ran inline");
    assert!(ways[1..].iter().all(|inline| !inline), "{ways:?}");
}
