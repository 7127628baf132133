//! `unload` stops the plugin's async runtime: calls still running are completed as cancelled
//! and no thread of the runtime outlives it. A test binary of its own, so no other test's calls
//! run on the runtime it stops.
#![cfg(feature = "async")]

use std::time::{Duration, Instant};

use fastmcp_sdk::abi::{STATUS_CANCELLED, STATUS_PENDING};
use fastmcp_sdk::prelude::*;
use fastmcp_sdk::testing::TestHost;

/// Never ends by itself
#[tool]
async fn forever() -> String {
    std::future::pending::<()>().await;
    unreachable!()
}

/// Runs a short blocking job on the runtime's blocking threads
#[tool]
async fn blocking_job() -> String {
    let job = tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(5)));
    match job.await {
        Ok(()) => "done".into(),
        Err(error) => error.to_string(),
    }
}

fastmcp_sdk::export_plugin! {
    name: "unload-test",
    version: "1.0.0",
    tools: [forever, blocking_job],
}

/// How many threads of this process are named `unload-test-rt`.
fn runtime_threads() -> usize {
    let tasks = std::fs::read_dir("/proc/self/task").expect("Linux /proc");
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "unload-test-rt")
        .count()
}

#[test]
fn unload_completes_running_calls_and_joins_every_runtime_thread() {
    let host = TestHost::new(fastmcp_plugin_entry);
    assert_eq!(
        runtime_threads(),
        0,
        "nothing runs before the plugin is loaded"
    );
    for round in 0..3 {
        // Reading the manifest (as a loading host does) starts the runtime (a new thread
        // names itself, so give it a moment).
        host.manifest();
        let deadline = Instant::now() + Duration::from_secs(10);
        while runtime_threads() == 0 {
            assert!(
                Instant::now() < deadline,
                "round {round}: no runtime thread"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(host.call_tool("blocking_job", json!({})).text(), "done");
        let running: Vec<_> = (0..3)
            .map(|_| host.start_tool("forever", json!({})))
            .collect();
        assert!(running.iter().all(|call| call.started() == STATUS_PENDING));
        host.unload();
        // A joined thread's /proc entry goes a few microseconds after `pthread_join` returns;
        // a thread left running (a blocking thread idles 10 s) would still be there.
        let mut left = runtime_threads();
        for _ in 0..20 {
            if left == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
            left = runtime_threads();
        }
        assert_eq!(left, 0, "round {round}: a runtime thread outlived unload");
        for call in &running {
            assert_eq!(call.wait().status, STATUS_CANCELLED);
            assert_eq!(call.completions(), 1);
        }
    }
}
