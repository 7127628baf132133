//! The sandbox of isolated plugins on the real kernel. `fastmcp __sandboxed-call` applies a
//! policy to its own process, as an isolated plugin's child does, then loads the real test
//! plugin and calls one of its probe tools. Where the kernel lacks a mechanism, the test checks
//! that the startup warning names it, and says what it skipped.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use fastmcp::sandbox::{Policy, Support, describe_exit, probe};
use serde_json::{Value, json};

use crate::util::{self, Finished};

/// The test plugin's policy: `{"library": ...}` plus `extra`'s fields.
fn policy(extra: Value) -> Policy {
    let mut json = json!({"library": util::plugins().test_plugin});
    json.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    Policy::from_json(&json.to_string()).unwrap()
}

/// Runs `tool` of the test plugin with `args` inside `policy`.
fn sandboxed(policy: &Policy, tool: &str, args: Value) -> Finished {
    let library = util::plugins().test_plugin.to_str().unwrap().to_owned();
    let argv = [
        "__sandboxed-call",
        "--policy",
        &policy.to_json(),
        &library,
        tool,
        "--args",
        &args.to_string(),
    ];
    util::run_bin(&argv, &[], Duration::from_secs(120))
}

/// The `sandbox: {...}` report the child printed.
fn report(f: &Finished) -> Value {
    let line = f
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("sandbox: "))
        .unwrap_or_else(|| panic!("no sandbox report: {f:?}"));
    serde_json::from_str(line).unwrap()
}

/// False, after checking the startup warning and saying what is skipped, when the kernel
/// lacks `what`.
fn have(support: &Support, available: bool, policy: &Policy, warning: &str, what: &str) -> bool {
    if !available {
        let warnings = support.warnings(policy).join("\n");
        assert!(warnings.contains(warning), "{warnings}");
        eprintln!("SKIPPED {what}: this kernel lacks it ({support:?}); the warning says so");
    }
    available
}

#[test]
fn a_plugin_loads_and_runs_inside_the_sandbox() {
    let policy = policy(json!({}));
    let run = sandboxed(&policy, "echo", json!({"text": "inside"}));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("\"inside\""), "{run:?}");
    // An async tool: the plugin's tokio runtime starts inside the sandbox too.
    let io = sandboxed(&policy, "io_wait", json!({"ms": 5}));
    assert_eq!(io.code, Some(0), "{io:?}");
    assert!(io.stdout.contains("waited 5 ms"), "{io:?}");
    let report = report(&run);
    let support = probe();
    if have(
        &support,
        support.landlock(),
        &policy,
        "landlock is not supported",
        "files",
    ) {
        assert_eq!(report["filesystem_restricted"], true, "{report}");
        assert_eq!(report["missing"], json!([]), "{report}");
    }
}

#[test]
fn files_are_denied_unless_allowed() {
    let support = probe();
    let denied = policy(json!({}));
    if !have(
        &support,
        support.landlock(),
        &denied,
        "landlock is not supported",
        "files",
    ) {
        return;
    }
    let run = sandboxed(&denied, "read_file", json!({"path": "/etc/passwd"}));
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout
            .contains("cannot read /etc/passwd: Permission denied (os error 13)"),
        "{run:?}"
    );
    for allowed in ["/etc/passwd", "/etc"] {
        let run = sandboxed(
            &policy(json!({"allow_paths": [allowed]})),
            "read_file",
            json!({"path": "/etc/passwd"}),
        );
        assert_eq!(run.code, Some(0), "{allowed}: {run:?}");
        assert!(run.stdout.contains("root:"), "{allowed}: {run:?}");
    }
}

/// What a listener on 127.0.0.1 received within `wait` (or nothing).
fn received(listener: &TcpListener, wait: Duration) -> Option<String> {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if let Ok((mut stream, _)) = listener.accept() {
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut got = String::new();
            let _ = stream.read_to_string(&mut got);
            return Some(got);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn the_network_is_denied_unless_allowed() {
    let support = probe();
    let denied = policy(json!({}));
    let available = support.seccomp || support.landlock_net();
    if !have(
        &support,
        available,
        &denied,
        "can use the network",
        "network",
    ) {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let run = sandboxed(&denied, "connect_tcp", json!({"addr": addr}));
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.contains("Permission denied (os error 13)"),
        "{run:?}"
    );
    assert_eq!(received(&listener, Duration::from_millis(200)), None);
    let report = report(&run);
    assert_eq!(report["sockets_denied"], support.seccomp, "{report}");
    assert_eq!(report["tcp_denied"], support.landlock_net(), "{report}");

    let run = sandboxed(
        &policy(json!({"allow_net": true})),
        "connect_tcp",
        json!({"addr": addr}),
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("\"connected\""), "{run:?}");
    let got = received(&listener, Duration::from_secs(30));
    assert_eq!(got.as_deref(), Some("hello\n"));
}

#[test]
fn the_memory_limit_stops_a_big_allocation() {
    // RLIMIT_AS: the policy names no cgroup, whatever this machine offers.
    let limited = policy(json!({"memory_limit": 256u64 << 20}));
    let small = sandboxed(&limited, "alloc_mib", json!({"mib": 16}));
    assert_eq!(small.code, Some(0), "{small:?}");
    assert_eq!(report(&small)["memory"], "rlimit");
    let big = sandboxed(&limited, "alloc_mib", json!({"mib": 1024}));
    assert!(big.stderr.contains("memory allocation of"), "{big:?}");
    assert_eq!(
        describe_exit(big.status, &big.stderr, false, &limited).as_deref(),
        Some("memory limit of 256MiB exceeded"),
        "{big:?}"
    );
    // The same allocation without the limit succeeds: it was the limit.
    let unlimited = sandboxed(&policy(json!({})), "alloc_mib", json!({"mib": 1024}));
    assert_eq!(unlimited.code, Some(0), "{unlimited:?}");
}

#[test]
fn the_cpu_limit_kills_a_spinning_call() {
    let limited = policy(json!({"cpu_limit": {"secs": 1, "nanos": 0}}));
    let short = sandboxed(&limited, "spin_cpu", json!({"ms": 50}));
    assert_eq!(short.code, Some(0), "{short:?}");
    // A minute of wall time: far more CPU than the limit even on a busy machine.
    let spinning = sandboxed(&limited, "spin_cpu", json!({"ms": 60_000}));
    assert_eq!(spinning.code, None, "killed by a signal: {spinning:?}");
    assert!(
        spinning.stderr.contains("over the limit of 1s"),
        "{spinning:?}"
    );
    assert_eq!(
        describe_exit(spinning.status, &spinning.stderr, false, &limited).as_deref(),
        Some("CPU limit of 1s per call exceeded"),
        "{spinning:?}"
    );
}

#[test]
fn a_bad_policy_or_path_is_a_clear_error() {
    let library = util::plugins().test_plugin.to_str().unwrap().to_owned();
    let argv = ["__sandboxed-call", "--policy", "{}", &library, "echo"];
    let run = util::run_bin(&argv, &[], Duration::from_secs(60));
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("missing field `library`"), "{run:?}");
    let missing = policy(json!({"allow_paths": ["/no/such/fastmcp-path"]}));
    let run = sandboxed(&missing, "echo", json!({"text": "x"}));
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains(
            "cannot apply the sandbox: cannot allow /no/such/fastmcp-path: No such file or directory"
        ),
        "{run:?}"
    );
}

#[test]
fn the_memory_limit_through_a_cgroup_ends_only_the_child() {
    let support = probe();
    let mut limited = policy(json!({"memory_limit": 128u64 << 20}));
    let root = match &support.memory_cgroup {
        Ok(root) => root.clone(),
        Err(_) => {
            let warnings = support.warnings(&limited).join("\n");
            assert!(warnings.contains("falls back to RLIMIT_AS"), "{warnings}");
            eprintln!("SKIPPED the cgroup memory limit: {support:?}; the warning says so");
            return;
        }
    };
    let dir = fastmcp::sandbox::cgroup::prepare(&root, "sandbox-test", 128 << 20).unwrap();
    limited.memory_cgroup = Some(dir.clone());
    let small = sandboxed(&limited, "alloc_mib", json!({"mib": 16}));
    assert_eq!(small.code, Some(0), "{small:?}");
    assert_eq!(report(&small)["memory"], "cgroup");
    let big = sandboxed(&limited, "alloc_mib", json!({"mib": 1024}));
    let oom = fastmcp::sandbox::cgroup::oom_kills(&dir) > 0;
    let reason = describe_exit(big.status, &big.stderr, oom, &limited);
    fastmcp::sandbox::cgroup::remove(&dir).unwrap();
    fastmcp::sandbox::cgroup::remove(dir.parent().unwrap()).unwrap();
    assert_eq!(
        reason.as_deref(),
        Some("memory limit of 128MiB exceeded"),
        "{big:?}"
    );
}
