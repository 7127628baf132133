//! A client written by others: the official TypeScript SDK (`tests/clients/sdk_client.mjs`)
//! connects, lists and calls `calculate` in both modes, and receives progress and log
//! notifications from a stateful call. Needs `npm ci` in `tests/clients` (scripts/test.sh does
//! it); without it the tests print a notice and pass, unless FASTMCP_TEST_REQUIRE_CLIENTS=1.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::util::{self, plugins};

/// Whether the node client is installed; fails the test when it is required but missing.
fn client_available() -> bool {
    util::node_package("@modelcontextprotocol/sdk").is_some()
}

/// Runs `node sdk_client.mjs URL [ARGS]` and returns what it printed, parsed.
fn run_client(url: &str, args: &[&str]) -> Value {
    let mut cmd = Command::new("node");
    cmd.arg(util::root().join("tests/clients/sdk_client.mjs"))
        .arg(url)
        .args(args);
    // The script gives up by itself after 20 s; this is the backstop.
    let run = util::run_command(cmd, "the SDK client", Duration::from_secs(40));
    let (out, err) = (run.stdout, run.stderr);
    assert!(
        run.status.success(),
        "the SDK client failed ({}):\n{err}\n{out}",
        run.status
    );
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"))
}

fn assert_calculates(report: &Value) {
    assert_eq!(report["server"]["name"], "fastmcp", "{report}");
    assert_eq!(
        report["tools"],
        serde_json::json!(["calculate"]),
        "{report}"
    );
    assert_eq!(
        report["result"]["content"][0]["text"], "Result: 42",
        "{report}"
    );
    assert_ne!(report["result"]["isError"], true, "{report}");
}

#[test]
fn the_typescript_sdk_lists_and_calls_in_stateless_mode() {
    if !client_available() {
        return;
    }
    let server = util::serve(&plugins().calculator, &["--stateless"]);
    let report = run_client(&server.mcp(), &[]);
    assert_calculates(&report);
    assert!(report["sessionId"].is_null(), "{report}");
}

#[test]
fn the_typescript_sdk_lists_and_calls_in_stateful_mode() {
    if !client_available() {
        return;
    }
    let server = util::serve(&plugins().calculator, &[]);
    let report = run_client(&server.mcp(), &[]);
    assert_calculates(&report);
    assert!(report["sessionId"].is_string(), "{report}");
}

#[test]
fn the_typescript_sdk_receives_progress_and_logs() {
    if !client_available() {
        return;
    }
    let server = util::serve(&plugins().test_plugin, &[]);
    let report = run_client(&server.mcp(), &["sleep", r#"{"ms":200,"steps":4}"#]);
    assert_eq!(
        report["result"]["content"][0]["text"], "slept 200 ms",
        "{report}"
    );
    let progress = report["progress"].as_array().unwrap();
    assert_eq!(progress.len(), 4, "{report}");
    assert_eq!(progress[3]["progress"], 4, "{report}");
    let logs = report["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 4, "{report}");
    assert_eq!(logs[0]["level"], "info", "{report}");
    assert_eq!(logs[0]["data"], "step 1 of 4", "{report}");
}
