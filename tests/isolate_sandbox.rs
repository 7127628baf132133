//! The sandbox of isolated plugins, through the real server: `fastmcp dev --isolate` with the
//! test plugin's probe tools. Denied by default, allowed by `--plugin-allow-path` and
//! `--plugin-allow-net`, and the limits end only the child, with the reason in the call's
//! error. Where this kernel lacks a mechanism, the test says what it skipped.

use std::net::TcpListener;
use std::time::Duration;

use fastmcp::sandbox::probe;
use serde_json::{Value, json};

use crate::util::{self, Server, plugins, text_of, tool_call};

fn isolated(extra: &[&str]) -> Server {
    let mut args = vec!["--isolate", "true", "--stateless", "true"];
    args.extend_from_slice(extra);
    util::serve(&plugins().test_plugin, &args)
}

fn call(server: &Server, tool: &str, args: Value) -> Value {
    server.call(&tool_call(1, tool, args), None)
}

/// Asserts (bounded) that the plugin serves again once its child restarted after `what`.
fn comes_back(server: &Server, what: &str) {
    let ok = util::eventually(Duration::from_secs(30), || {
        text_of(&call(server, "echo", json!({"text": "back"}))) == "back"
    });
    assert!(ok, "the plugin did not come back after {what}");
}

fn is_error(reply: &Value) -> bool {
    reply["result"]["isError"] == json!(true) || reply.get("error").is_some()
}

#[test]
fn files_outside_the_allowed_paths_are_denied() {
    let support = probe();
    if support.landlock_abi == 0 {
        eprintln!("SKIPPED: no Landlock on this kernel ({support:?})");
        return;
    }
    let server = isolated(&[]);
    let denied = call(&server, "read_file", json!({"path": "/etc/passwd"}));
    assert!(is_error(&denied), "{denied}");
    assert!(text_of(&denied).contains("Permission denied"), "{denied}");

    let server = isolated(&["--plugin-allow-path", "/etc/passwd"]);
    let allowed = call(&server, "read_file", json!({"path": "/etc/passwd"}));
    assert!(!is_error(&allowed), "{allowed}");
    assert!(text_of(&allowed).contains("root:"), "{allowed}");
}

/// What `listener` received within `wait`, if a connection came.
fn received(listener: &TcpListener, wait: Duration) -> Option<String> {
    listener.set_nonblocking(true).expect("non-blocking");
    let ok = util::eventually(wait, || listener.accept().is_ok());
    ok.then(String::new)
}

#[test]
fn the_network_is_denied_unless_allowed() {
    let support = probe();
    if support.landlock_abi < 4 && !support.seccomp {
        eprintln!("SKIPPED: neither Landlock TCP rules nor seccomp here ({support:?})");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();

    let server = isolated(&[]);
    let denied = call(&server, "connect_tcp", json!({"addr": addr}));
    assert!(is_error(&denied), "{denied}");
    assert!(
        received(&listener, Duration::from_millis(300)).is_none(),
        "a denied plugin reached the listener"
    );

    let server = isolated(&["--plugin-allow-net", "true"]);
    let allowed = call(&server, "connect_tcp", json!({"addr": addr}));
    assert!(!is_error(&allowed), "{allowed}");
    assert!(
        received(&listener, Duration::from_secs(10)).is_some(),
        "an allowed plugin never connected"
    );
}

#[test]
fn the_memory_limit_ends_only_the_child() {
    let server = isolated(&["--plugin-memory-limit", "256MiB"]);
    let small = call(&server, "alloc_mib", json!({"mib": 16}));
    assert!(!is_error(&small), "{small}");
    let big = call(&server, "alloc_mib", json!({"mib": 1024}));
    let message = big["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("crashed") && message.contains("out of memory"),
        "{big}"
    );
    // The child restarts; the plugin serves again.
    comes_back(&server, "the memory limit");
}

#[test]
fn the_cpu_limit_ends_a_spinning_call() {
    let server = isolated(&["--plugin-cpu-limit", "1s"]);
    let short = call(&server, "spin_cpu", json!({"ms": 50}));
    assert!(!is_error(&short), "{short}");
    let long = call(&server, "spin_cpu", json!({"ms": 20_000}));
    let message = long["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("crashed: CPU limit per call exceeded"),
        "{long}"
    );
    comes_back(&server, "the CPU limit");
}

#[test]
fn the_child_does_not_see_the_servers_secrets() {
    let mut server_env = std::collections::HashMap::new();
    server_env.insert(
        "FASTMCP_STATE_SECRET",
        "do-not-leak-0123456789abcdef0123456789",
    );
    let plugin = plugins().test_plugin.to_str().expect("UTF-8").to_string();
    let env: Vec<(&str, &str)> = server_env.iter().map(|(k, v)| (*k, *v)).collect();
    let server = util::start(
        &[
            &plugin,
            "--watch=false",
            "--isolate",
            "true",
            "--stateless",
            "true",
            "--plugin-allow-path",
            "/proc",
        ],
        &env,
    );
    let reply = call(&server, "read_file", json!({"path": "/proc/self/environ"}));
    assert!(!is_error(&reply), "{reply}");
    let environ = text_of(&reply);
    assert!(!environ.is_empty(), "the child's environment was readable");
    assert!(
        !environ.contains("do-not-leak") && !environ.contains("FASTMCP_STATE_SECRET"),
        "the server's secret reached the plugin's environment"
    );
}

/// The copies directories (`$TMPDIR/fastmcp-<pid>`) in `dir`.
fn copies_dirs(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read the temp dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("fastmcp-"))
        .collect()
}

#[test]
fn children_that_crash_leave_no_copies_directory_behind() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let tmpdir = tmp.path().to_str().expect("UTF-8").to_string();
    let plugin = plugins().test_plugin.to_str().expect("UTF-8").to_string();
    let server = util::start(
        &[
            &plugin,
            "--watch=false",
            "--isolate",
            "true",
            "--stateless",
            "true",
        ],
        &[("TMPDIR", &tmpdir)],
    );
    for _ in 0..3 {
        let crash = call(&server, "crash_segv", json!({}));
        assert!(
            crash["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("crashed")
        );
        let back = util::eventually(Duration::from_secs(30), || {
            text_of(&call(&server, "echo", json!({"text": "back"}))) == "back"
        });
        assert!(back, "the plugin did not come back after a crash");
    }
    // The server's own directory and the serving child's: each new child removes those of
    // children that are gone (`CopiesDir::claim`), so crashes do not pile them up.
    let left = copies_dirs(tmp.path());
    assert!(left.len() <= 2, "directories left behind: {left:?}");
}
