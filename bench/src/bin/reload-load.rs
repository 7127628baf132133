//! Load test of hot reload: clients call a tool continuously while the served plugin file is
//! replaced 50 times (alternating two builds of the test plugin), then report failed requests
//! (must be 0) and reload latency (atomic rename -> the new version answers).
//!
//! Run: `cargo run --release -p fastmcp-bench --bin reload-load` (builds what it needs).
//! Bounded: 50 reloads, each waited for at most 5 s; 4 client threads; 127.0.0.1 only.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fastmcp_bench::{Conn, Guard, free_port, percentile, root, run, wait_ready};

const RELOADS: usize = 50;
const CLIENTS: usize = 4;

fn main() {
    let root = root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building fastmcp and test-plugin v1 (release) ...");
    run(Command::new(&cargo).current_dir(&root).args([
        "build",
        "--release",
        "-p",
        "fastmcp",
        "-p",
        "test-plugin",
    ]));
    eprintln!("building test-plugin v2 (release, own target dir) ...");
    let v2_target = root.join("target/bench-v2");
    run(Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "--release", "-p", "test-plugin"])
        .env("CARGO_TARGET_DIR", &v2_target)
        .env("FASTMCP_TEST_PLUGIN_MARKER", "v2"));
    let v1 = root.join("target/release/libtest_plugin.so");
    let v2 = v2_target.join("release/libtest_plugin.so");

    let dir = std::env::temp_dir().join(format!("fastmcp-reload-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let served = dir.join("libserved.so");
    std::fs::copy(&v1, &served).unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let server = Guard(
        Command::new(root.join("target/release/fastmcp"))
            .args([
                "dev",
                served.to_str().unwrap(),
                "--stateless",
                "--port",
                &port.to_string(),
            ])
            .env("FASTMCP_LOG", "warn")
            .stdin(Stdio::null())
            .spawn()
            .expect("start fastmcp"),
    );
    assert!(
        wait_ready(&addr, Duration::from_secs(10)),
        "server did not become ready"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (stop, ok, failed, addr) = (stop.clone(), ok.clone(), failed.clone(), addr.clone());
            std::thread::spawn(move || {
                let mut conn = Conn::connect(&addr).expect("connect");
                let mut id = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    id += 1;
                    let body = format!(
                        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"c{i}"}}}}}}"#
                    );
                    match conn.post("/mcp", &body) {
                        Ok((200, b)) if b.contains(&format!("\"text\":\"c{i}\"")) && !b.contains("\"isError\"") => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok((status, b)) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            eprintln!("failed request: {status} {b}");
                        }
                        Err(e) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            eprintln!("failed request: {e}");
                            conn = Conn::connect(&addr).expect("reconnect");
                        }
                    }
                }
            })
        })
        .collect();

    let mut probe = Conn::connect(&addr).expect("connect");
    let marker =
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"version_marker"}}"#;
    let mut latencies = Vec::with_capacity(RELOADS);
    let started = Instant::now();
    for i in 0..RELOADS {
        let (src, want) = if i % 2 == 0 {
            (&v2, "\"v2\"")
        } else {
            (&v1, "\"v1\"")
        };
        let tmp = dir.join("incoming.so");
        std::fs::copy(src, &tmp).unwrap();
        let t0 = Instant::now();
        std::fs::rename(&tmp, &served).unwrap();
        let deadline = t0 + Duration::from_secs(5);
        loop {
            let (_, body) = probe.post("/mcp", marker).expect("probe");
            if body.contains(want) {
                latencies.push(t0.elapsed());
                break;
            }
            assert!(
                Instant::now() < deadline,
                "reload {i} not served within 5 s"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);

    latencies.sort();
    let ok = ok.load(Ordering::Relaxed);
    let failed = failed.load(Ordering::Relaxed);
    println!(
        "reloads: {RELOADS} in {:.1} s, {CLIENTS} client connections",
        elapsed.as_secs_f64()
    );
    println!("requests: {ok} ok, {failed} failed");
    println!(
        "reload latency (rename -> new version served): median {:.1} ms, max {:.1} ms",
        percentile(&latencies, 50.0).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
