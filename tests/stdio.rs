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
    let messages = [
        rpc(
            1,
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "tests", "version": "1"}
            }),
        ),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        rpc(2, "tools/list", json!({})),
        tool_call(3, "calculate", json!({"operation": "add", "a": 2, "b": 3})),
    ];
    for m in &messages {
        writeln!(stdin, "{m}").unwrap();
    }
    // Not JSON at all: answered with a parse error, not a crash.
    writeln!(stdin, "{{oops").unwrap();
    stdin.flush().unwrap();

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
