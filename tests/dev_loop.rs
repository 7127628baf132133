//! `fastmcp dev CRATE` when the crate does not compile (or load) at startup: the server stays
//! up, `/ready` says why, the other plugins serve, and the first good build is loaded. Also what the loop
//! logs (build and load times apart, unchanged rebuilds) and `--watch false`, which gives up.
//! Regression tests for issue #15 ("the dev loop gives up early").

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, Server, plugins, rpc, text_of, tool_call};

/// A crate's first build compiles the SDK's dependencies into the shared target dir: allow
/// for a slow machine.
const FIRST_BUILD: Duration = Duration::from_secs(300);
/// A later build compiles one small crate.
const REBUILD: Duration = Duration::from_secs(180);

/// Source that rustc rejects with a message found nowhere else in the log.
const BROKEN: &str = "this is not rust\n";
/// A piece of rustc's error for [`BROKEN`].
const BROKEN_ERROR: &str = "found `is`";

fn dev_crate(krate: &Path, extra: &[&str]) -> Server {
    let mut args = vec![krate.to_str().unwrap(), "--profile", "dev"];
    args.extend_from_slice(extra);
    util::spawn(&args, &[("CARGO_TARGET_DIR", &util::crates_target_dir())])
}

fn wait_status(server: &Server, status: &str, within: Duration) -> (u16, Value) {
    let mut last = (0, Value::Null);
    let reached = util::eventually(within, || {
        last = util::ready(server);
        last.1["status"] == status
    });
    assert!(
        reached,
        "/ready never said {status}; last {last:?}; log:\n{}",
        server.log_text()
    );
    last
}

#[test]
fn a_failing_first_build_keeps_the_server_up_until_the_fix_builds() {
    let dir = tempfile::tempdir().unwrap();
    let krate = util::plugin_crate(dir.path(), "dev_loop_first", BROKEN);
    let calculator = plugins().calculator.to_str().unwrap().to_string();
    let server = dev_crate(&krate, &[&calculator, "--stateless"]);

    let (code, body) = wait_status(&server, "not_loaded", FIRST_BUILD);
    assert_eq!(code, 503, "{body}");
    assert_eq!(
        (body["ready"].clone(), body["total"].clone()),
        (json!(1), json!(2))
    );
    let not_loaded = &body["not_loaded"][0];
    assert_eq!(not_loaded["plugin"], krate.to_str().unwrap(), "{body}");
    let error = not_loaded["error"].as_str().unwrap_or_default();
    assert!(error.contains(BROKEN_ERROR), "{body}");
    assert!(body.get("reload_errors").is_none(), "{body}");
    let health = util::client()
        .get(format!("{}/health", server.base))
        .send()
        .unwrap();
    assert_eq!(health.status(), 200);

    // The other plugin serves meanwhile.
    let r = server.call(
        &tool_call(1, "calculate", json!({"operation": "add", "a": 2, "b": 3})),
        None,
    );
    assert_eq!(text_of(&r), "Result: 5", "{r}");

    // Cargo's output was printed once, as it ran, and not again in a log line.
    let log = server.log_text();
    assert_eq!(log.matches(BROKEN_ERROR).count(), 1, "{log}");

    std::fs::write(krate.join("src/lib.rs"), util::hello_source("fixed")).unwrap();
    wait_status(&server, "ready", REBUILD);
    let r = server.call(&tool_call(2, "hello", json!({})), None);
    assert_eq!(text_of(&r), "fixed", "{r}");
    let loaded = server.log_events("plugin loaded");
    let after_fix = loaded
        .iter()
        .find(|e| e["generation"] == 1)
        .unwrap_or_else(|| panic!("no `plugin loaded` for the fix: {loaded:?}"));
    assert!(
        after_fix["added"].as_str().unwrap().contains("hello"),
        "{after_fix}"
    );
    assert!(after_fix["build_ms"].as_f64().is_some(), "{after_fix}");
    assert!(after_fix["load_ms"].as_f64().is_some(), "{after_fix}");
}

#[test]
fn a_crate_that_builds_but_does_not_load_also_waits_for_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    // A cdylib without `export_plugin!`: cargo is happy, the loader is not.
    let krate = util::plugin_crate(dir.path(), "dev_loop_noentry", "pub fn nothing() {}\n");
    let server = dev_crate(&krate, &["--stateless"]);
    let (code, body) = wait_status(&server, "not_loaded", FIRST_BUILD);
    assert_eq!(code, 503, "{body}");
    let error = body["not_loaded"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("fastmcp_plugin_entry"), "{body}");

    std::fs::write(krate.join("src/lib.rs"), util::hello_source("loaded")).unwrap();
    wait_status(&server, "ready", REBUILD);
    let r = server.call(&tool_call(1, "hello", json!({})), None);
    assert_eq!(text_of(&r), "loaded", "{r}");
}

#[test]
fn a_rebuild_that_changes_nothing_says_so_and_reloads_log_build_and_load_apart() {
    let dir = tempfile::tempdir().unwrap();
    let krate = util::plugin_crate(dir.path(), "dev_loop_same", &util::hello_source("v1"));
    let server = dev_crate(&krate, &["--stateless", "--metrics"]);
    let generation = || {
        let (m, text) = util::metrics::scrape(&server, &[]);
        let series = r#"fastmcp_plugin_generation{plugin="hot"}"#;
        *m.get(series)
            .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
    };
    wait_status(&server, "ready", FIRST_BUILD);
    let ready = server.log_events("ready");
    assert!(ready[0]["build_ms"].as_f64().is_some(), "{ready:?}");
    assert!(ready[0]["load_ms"].as_f64().is_some(), "{ready:?}");

    // Saving the same source: cargo may rebuild, the library's bytes stay the same.
    std::fs::write(krate.join("src/lib.rs"), util::hello_source("v1")).unwrap();
    assert!(
        server.wait_log("unchanged, not reloaded", 1, REBUILD),
        "{}",
        server.log_text()
    );
    let unchanged = &server.log_events("unchanged, not reloaded")[0];
    assert_eq!(unchanged["plugin"], krate.to_str().unwrap());
    assert!(unchanged["build_ms"].as_f64().is_some(), "{unchanged}");
    assert!(server.log_events("plugin reloaded").is_empty());
    assert_eq!(
        generation(),
        1.0,
        "the unchanged library was not swapped in"
    );

    std::fs::write(krate.join("src/lib.rs"), util::hello_source("v2")).unwrap();
    assert!(
        server.wait_log("plugin reloaded", 1, REBUILD),
        "{}",
        server.log_text()
    );
    let reloaded = &server.log_events("plugin reloaded")[0];
    assert_eq!(reloaded["generation"], 2, "{reloaded}");
    assert!(reloaded["build_ms"].as_f64().is_some(), "{reloaded}");
    assert!(reloaded["load_ms"].as_f64().is_some(), "{reloaded}");
    assert!(reloaded.get("fresh").is_none(), "{reloaded}");
    let r = server.call(&rpc(1, "tools/call", json!({"name": "hello"})), None);
    assert_eq!(text_of(&r), "v2", "{r}");
    assert_eq!(generation(), 2.0);
}

#[test]
fn without_watch_a_failing_first_build_exits_1_with_the_error_once_as_inspect_does() {
    let dir = tempfile::tempdir().unwrap();
    let krate = util::plugin_crate(dir.path(), "dev_loop_nowatch", BROKEN);
    let target = util::crates_target_dir();
    let out = util::run_bin(
        &[
            "dev",
            krate.to_str().unwrap(),
            "--watch",
            "false",
            "--profile",
            "dev",
            "--port",
            "0",
        ],
        &[("CARGO_TARGET_DIR", &target)],
        FIRST_BUILD,
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.stderr.matches(BROKEN_ERROR).count(),
        1,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("cargo build failed"), "{}", out.stderr);

    // `inspect` (and `call`, the same build) print it once too.
    let out = util::run_bin(
        &["inspect", krate.to_str().unwrap(), "--profile", "dev"],
        &[("CARGO_TARGET_DIR", &target)],
        FIRST_BUILD,
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    let errors = out.stderr.matches(BROKEN_ERROR).count();
    assert_eq!(errors, 1, "{}", out.stderr);
}
