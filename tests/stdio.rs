//! The stdio transport: JSON-RPC lines in on stdin, only JSON-RPC lines out on stdout, logs on
//! stderr, and a clean exit when stdin closes.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{self, plugins, rpc, text_of, tool_call};

#[test]
fn requests_on_stdin_are_answered_on_stdout_and_logs_go_to_stderr() {
    let mut child = Command::new(util::bin())
        .args(["dev", "--transport", "stdio", "--watch=false"])
        .arg(&plugins().calculator)
        .env_remove("RUST_LOG")
        .env("FASTMCP_LOG_FORMAT", "json")
        .env("FASTMCP_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fastmcp");
    let mut stdin = child.stdin.take().unwrap();
    for m in &list_and_add() {
        writeln!(stdin, "{m}").unwrap();
    }
    // Not JSON at all: answered with a parse error, not a crash.
    writeln!(stdin, "{{oops").unwrap();
    stdin.flush().unwrap();

    let (rx, stderr) = read_output(&mut child);

    // Four answers (in any order): initialize, tools/list, tools/call and the parse error.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut answers: Vec<Value> = Vec::new();
    while answers.len() < 4 {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("an answer on stdout");
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
        assert_eq!(v["jsonrpc"], "2.0", "{v}");
        answers.push(v);
    }
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

    // Closing stdin ends the server.
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("fastmcp did not exit after stdin closed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(0));
    // Nothing else was written to stdout.
    let mut extra = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        extra.push(line);
    }
    assert!(extra.is_empty(), "unexpected stdout lines: {extra:?}");
    let stderr = stderr.join().unwrap();
    let logs: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        logs.iter().any(|l| l["message"] == "plugin loaded"),
        "{stderr}"
    );
}

/// Runs `fastmcp ARGS` with `env`, writes `messages` to its stdin, reads `answers` JSON-RPC
/// lines from its stdout (bounded), closes stdin and returns the answers, the exit code and
/// stderr. Panics on a stdout line that is not JSON-RPC.
fn exchange(
    args: &[&str],
    env: &[(&str, &str)],
    messages: &[Value],
    answers: usize,
) -> (Vec<Value>, Option<i32>, String) {
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
    for m in messages {
        writeln!(stdin, "{m}").unwrap();
    }
    stdin.flush().unwrap();
    let (rx, stderr) = read_output(&mut child);
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
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("fastmcp did not exit after stdin closed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (got, status.code(), stderr.join().unwrap())
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
    let (answers, code, stderr) = exchange(
        &["stdio", calculator, "--watch=false"],
        &[
            ("FASTMCP_TRANSPORT", "http-stream"),
            ("FASTMCP_LOG", "info"),
        ],
        &list_and_add(),
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
    let (answers, code, stderr) = exchange(
        &["dev", calculator, "--watch=false"],
        &[("FASTMCP_TRANSPORT", "stdio")],
        &list_and_add(),
        3,
    );
    let call = answers.iter().find(|a| a["id"] == 3).unwrap();
    assert_eq!(text_of(call), "Result: 5", "{answers:?}");
    assert_eq!(code, Some(0), "{stderr}");
}

/// The child's stdout as lines on a channel, and its stderr collected by a thread (joined
/// once the child has exited).
fn read_output(
    child: &mut std::process::Child,
) -> (
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<String>,
) {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    (rx, stderr)
}
