//! Hot reload against the real binary: replacing a served library (rename, `cp` over it,
//! delete and recreate), calls in flight across a swap, broken replacements, `list_changed`
//! for stateful sessions, and the crate-directory dev loop (rebuild on a source edit, compiler
//! errors reported while the old version serves).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{self, Server, eventually, plugins, replace_atomically, rpc};

/// A temp dir holding a copy of `lib` named `libserved.so`, the file the server watches.
fn served_copy(lib: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("libserved.so");
    std::fs::copy(lib, &path).unwrap();
    (dir, path)
}

fn tool_names(server: &Server) -> Vec<String> {
    let r = server.call(&rpc(1, "tools/list", json!({})), None);
    r["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn text_of(response: &Value) -> String {
    response["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn ready(server: &Server) -> Value {
    util::client()
        .get(format!("{}/ready", server.base))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn a_replaced_library_is_served_without_restart_and_calls_in_flight_finish_on_the_old_one() {
    let p = plugins();
    let (_dir, served) = served_copy(&p.test_plugin);
    let server = util::start(&[served.to_str().unwrap(), "--stateless"], &[]);
    assert!(tool_names(&server).contains(&"sleep".to_string()));

    // A long call on generation 1 ...
    let base = server.mcp();
    let in_flight = std::thread::spawn(move || {
        let body = rpc(
            7,
            "tools/call",
            json!({"name": "sleep", "arguments": {"ms": 1200, "steps": 4}}),
        );
        let r = util::client()
            .post(base)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string())
            .send()
            .unwrap();
        r.text().unwrap()
    });
    std::thread::sleep(Duration::from_millis(200));
    // ... while the file is replaced by another plugin (as `mv` would).
    replace_atomically(&p.calculator, &served);
    assert!(
        eventually(Duration::from_secs(10), || tool_names(&server)
            == ["calculate"]),
        "the new tools never appeared; log:\n{}",
        server.log_text()
    );
    let r = server.call(
        &rpc(
            2,
            "tools/call",
            json!({"name": "calculate", "arguments": {"operation": "add", "a": 2, "b": 3}}),
        ),
        None,
    );
    assert_eq!(text_of(&r), "Result: 5");
    // The old call completes with the old plugin's answer.
    let body = in_flight.join().unwrap();
    assert!(body.contains("slept 1200 ms"), "{body}");
    let reloads = server.log_events("plugin reloaded");
    assert_eq!(reloads.len(), 1, "one reload expected: {reloads:?}");
    assert_eq!(reloads[0]["generation"], 2);
}

#[test]
fn a_broken_replacement_keeps_the_old_version_serving_until_a_good_one_arrives() {
    let p = plugins();
    let (dir, served) = served_copy(&p.calculator);
    let server = util::start(&[served.to_str().unwrap(), "--stateless"], &[]);

    // Truncated (a copy caught half-way), then a file that is not a library at all.
    let bytes = std::fs::read(&p.test_plugin).unwrap();
    let tmp = dir.path().join("half");
    // 64 KiB holds the ELF and program headers but not the code segments they describe.
    std::fs::write(&tmp, &bytes[..64 * 1024]).unwrap();
    std::fs::rename(&tmp, &served).unwrap();
    assert!(eventually(Duration::from_secs(10), || {
        ready(&server)["reload_errors"].is_array()
    }));
    let status = ready(&server);
    let err = status["reload_errors"][0]["last_reload_error"]
        .as_str()
        .unwrap();
    assert!(err.contains("truncated"), "{err}");
    assert_eq!(status["status"], "ready");
    assert_eq!(tool_names(&server), ["calculate"]);
    let r = server.call(
        &rpc(
            3,
            "tools/call",
            json!({"name": "calculate", "arguments": {"operation": "multiply", "a": 6, "b": 7}}),
        ),
        None,
    );
    assert_eq!(text_of(&r), "Result: 42");

    std::fs::write(&tmp, b"not a library").unwrap();
    std::fs::rename(&tmp, &served).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || {
            ready(&server)["reload_errors"][0]["last_reload_error"]
                .as_str()
                .is_some_and(|e| e.contains("not an ELF file"))
        }),
        "{}",
        server.log_text()
    );
    assert_eq!(tool_names(&server), ["calculate"]);

    // A good version clears the error.
    replace_atomically(&p.test_plugin, &served);
    assert!(eventually(Duration::from_secs(10), || tool_names(&server)
        .contains(&"echo".to_string())));
    assert!(ready(&server).get("reload_errors").is_none());
}

#[test]
fn cp_over_the_file_and_delete_recreate_reload_and_identical_content_does_not() {
    let p = plugins();
    let (_dir, served) = served_copy(&p.calculator);
    let server = util::start(&[served.to_str().unwrap(), "--stateless"], &[]);

    // Rewriting the same bytes (a no-op build, a touch) is not a reload.
    std::fs::copy(&p.calculator, &served).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        server.log_events("plugin reloaded").is_empty(),
        "{}",
        server.log_text()
    );

    // `cp` over the file in place (no rename): the private copy makes this safe.
    std::fs::copy(&p.test_plugin, &served).unwrap();
    assert!(eventually(Duration::from_secs(10), || tool_names(&server)
        .contains(&"echo".to_string())));

    // Deleted, then created again: the directory watch survives.
    std::fs::remove_file(&served).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::copy(&p.calculator, &served).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || tool_names(&server)
            == ["calculate"]),
        "{}",
        server.log_text()
    );
    assert!(ready(&server).get("reload_errors").is_none());
}

#[test]
fn watch_false_does_not_reload() {
    let p = plugins();
    let (_dir, served) = served_copy(&p.calculator);
    let server = util::start(
        &[served.to_str().unwrap(), "--stateless", "--watch=false"],
        &[],
    );
    replace_atomically(&p.test_plugin, &served);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(tool_names(&server), ["calculate"]);
}

#[test]
fn stateful_sessions_hear_tools_list_changed() {
    let p = plugins();
    let (_dir, served) = served_copy(&p.calculator);
    let server = util::start(&[served.to_str().unwrap()], &[]);
    let init = server.call(
        &rpc(0, "initialize", util::initialize_params("2025-06-18")),
        None,
    );
    assert_eq!(init["result"]["capabilities"]["tools"]["listChanged"], true);
    let session = server.initialize();
    let stream = server.get_stream(Some(&session), &[]);
    assert_eq!(stream.status(), 200);
    let rx = util::lines(stream);
    std::thread::sleep(Duration::from_millis(100));
    replace_atomically(&p.test_plugin, &served);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = false;
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if let Some(data) = line.strip_prefix("data: ") {
            let v: Value = serde_json::from_str(data).unwrap();
            if v["method"] == "notifications/tools/list_changed" {
                got = true;
                break;
            }
        }
    }
    assert!(
        got,
        "no list_changed on the session stream; log:\n{}",
        server.log_text()
    );
}

#[test]
fn a_crate_directory_is_rebuilt_on_edit_and_compile_errors_keep_the_old_version() {
    let dir = tempfile::tempdir().unwrap();
    let krate = util::plugin_crate(dir.path(), "hot_crate", &util::hello_source("hello v1"));
    let target = util::crates_target_dir();
    let server = util::spawn(
        &[krate.to_str().unwrap(), "--profile", "dev"],
        &[("CARGO_TARGET_DIR", &target)],
    );
    // The first build compiles the SDK's dependencies: allow for a slow machine.
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline && ready(&server)["status"] != "ready" {
        std::thread::sleep(Duration::from_millis(100));
    }
    let session = server.initialize();
    let hello_in =
        |s: &str| text_of(&server.call(&rpc(1, "tools/call", json!({"name": "hello"})), Some(s)));
    assert_eq!(hello_in(&session), "hello v1");

    std::fs::write(krate.join("src/lib.rs"), util::hello_source("hello v2")).unwrap();
    assert!(
        eventually(Duration::from_secs(180), || hello_in(&session)
            == "hello v2"),
        "the edit was not served; log:\n{}",
        server.log_text()
    );
    assert!(!server.log_events("rebuilding plugin crate").is_empty());

    std::fs::write(krate.join("src/lib.rs"), "this is not rust\n").unwrap();
    assert!(
        eventually(Duration::from_secs(180), || {
            ready(&server)["reload_errors"][0]["last_reload_error"]
                .as_str()
                .is_some_and(|e| e.contains("error"))
        }),
        "the compile error was not reported; log:\n{}",
        server.log_text()
    );
    let err = ready(&server)["reload_errors"][0]["last_reload_error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(err.contains("cargo build failed"), "{err}");
    assert_eq!(hello_in(&session), "hello v2");
}
