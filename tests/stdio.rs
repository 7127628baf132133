//! The stdio transport: JSON-RPC lines in on stdin, only JSON-RPC lines out on stdout, logs on
//! stderr, and a clean exit when stdin closes.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{self, plugins, rpc, text_of, tool_call};

#[test]
fn requests_on_stdin_are_answered_on_stdout_and_logs_go_to_stderr() {
    let calculator = plugins().calculator.to_str().unwrap();
    let mut lines: Vec<String> = list_and_add().iter().map(Value::to_string).collect();
    // Not JSON at all: answered with a parse error, not a crash.
    lines.push("{oops".into());
    // Four answers (in any order): initialize, tools/list, tools/call and the parse error.
    let out = exchange(
        &["dev", "--transport", "stdio", "--watch=false", calculator],
        &[("FASTMCP_LOG", "info")],
        &lines,
        4,
    );
    let answers = &out.answers;
    let by_id = |id: Value| {
        answers
            .iter()
            .find(|a| a["id"] == id)
            .unwrap_or_else(|| panic!("no answer with id {id}: {answers:?}"))
    };
    assert_eq!(by_id(json!(1))["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(by_id(json!(2))["result"]["tools"][0]["name"], "calculate");
    assert_eq!(text_of(by_id(json!(3))), "Result: 5");
    assert_eq!(by_id(Value::Null)["error"]["code"], -32700);

    // Closing stdin ended the server, and nothing else was written to stdout.
    assert_eq!(out.code, Some(0));
    assert!(
        out.extra.is_empty(),
        "unexpected stdout lines: {:?}",
        out.extra
    );
    let logs: Vec<Value> = out
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        logs.iter().any(|l| l["message"] == "plugin loaded"),
        "{}",
        out.stderr
    );
}

/// What [`exchange`] saw.
struct Exchanged {
    /// The JSON-RPC answers read before stdin was closed.
    answers: Vec<Value>,
    /// The exit code.
    code: Option<i32>,
    /// Lines written to stdout after those answers.
    extra: Vec<String>,
    /// Everything written to stderr.
    stderr: String,
}

/// Runs `fastmcp ARGS` with `env`, writes `lines` to its stdin, reads `answers` JSON-RPC
/// lines from its stdout (bounded), closes stdin and returns what came out once it exited.
/// Panics on a stdout line that is not JSON-RPC.
fn exchange(args: &[&str], env: &[(&str, &str)], lines: &[String], answers: usize) -> Exchanged {
    let mut cmd = Command::new(util::bin());
    cmd.args(args)
        .env_remove("RUST_LOG")
        .env_remove("FASTMCP_TRANSPORT")
        .env("FASTMCP_LOG_FORMAT", "json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn fastmcp");
    let mut stdin = child.stdin.take().unwrap();
    for line in lines {
        writeln!(stdin, "{line}").unwrap();
    }
    stdin.flush().unwrap();
    let rx = util::lines(child.stdout.take().unwrap());
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got = Vec::new();
    while got.len() < answers {
        let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) else {
            let _ = child.kill();
            panic!(
                "{} answers of {answers}: {got:?}; stderr:\n{}",
                got.len(),
                stderr.join().unwrap()
            );
        };
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
        assert_eq!(v["jsonrpc"], "2.0", "{v}");
        got.push(v);
    }
    drop(stdin);
    let Some(status) = util::exit_within(&mut child, Duration::from_secs(15)) else {
        let _ = child.kill();
        panic!("fastmcp did not exit after stdin closed");
    };
    let mut extra = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        extra.push(line);
    }
    Exchanged {
        answers: got,
        code: status.code(),
        extra,
        stderr: stderr.join().unwrap(),
    }
}

fn list_and_add() -> [Value; 4] {
    [
        rpc(1, "initialize", util::initialize_params("2025-06-18")),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        rpc(2, "tools/list", json!({})),
        tool_call(3, "calculate", json!({"operation": "add", "a": 2, "b": 3})),
    ]
}

/// `fastmcp stdio PLUGIN` serves stdio with no flag on the command line (what a launcher such
/// as the MCP Inspector, which takes `--transport` for itself, needs), even when the
/// environment says HTTP. Regression test for issue #15 ("stdio launchers").
#[test]
fn the_stdio_subcommand_serves_stdio_without_a_transport_flag() {
    let calculator = plugins().calculator.to_str().unwrap();
    let Exchanged {
        answers,
        code,
        stderr,
        ..
    } = exchange(
        &["stdio", calculator, "--watch=false"],
        &[
            ("FASTMCP_TRANSPORT", "http-stream"),
            ("FASTMCP_LOG", "info"),
        ],
        &list_and_add().map(|m| m.to_string()),
        3,
    );
    let by_id = |id: i64| answers.iter().find(|a| a["id"] == id).unwrap();
    assert_eq!(by_id(2)["result"]["tools"][0]["name"], "calculate");
    assert_eq!(text_of(by_id(3)), "Result: 5");
    assert_eq!(code, Some(0), "{stderr}");
    // Logs went to stderr, and no HTTP listener was started.
    assert!(stderr.contains("plugin loaded"), "{stderr}");
    assert!(!stderr.contains("listening"), "{stderr}");

    let out = util::run_bin(
        &["stdio", "--transport", "http", calculator],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("`fastmcp stdio` serves stdio only"),
        "{out:?}"
    );
}

/// The Inspector recipe's other form: `-e FASTMCP_TRANSPORT=stdio fastmcp dev PLUGIN`.
#[test]
fn fastmcp_transport_stdio_in_the_environment_serves_stdio() {
    let calculator = plugins().calculator.to_str().unwrap();
    let Exchanged {
        answers,
        code,
        stderr,
        ..
    } = exchange(
        &["dev", calculator, "--watch=false"],
        &[("FASTMCP_TRANSPORT", "stdio")],
        &list_and_add().map(|m| m.to_string()),
        3,
    );
    let call = answers.iter().find(|a| a["id"] == 3).unwrap();
    assert_eq!(text_of(call), "Result: 5", "{answers:?}");
    assert_eq!(code, Some(0), "{stderr}");
}
