//! Hot reload while async calls are in flight: 200 replacements of the served test plugin
//! under a steady load of `io_wait` calls (which run on the plugin's own async runtime) fail no
//! request, crash nothing, keep the server's RSS flat, and leave at most one retired copy of
//! the plugin mapped: every generation's runtime is shut down and its threads joined before its
//! library is closed.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::util::{self, mapped_copies, plugins, rss_kib, text_of, tool_call};

const RELOADS: usize = 200;
const CALLERS: usize = 8;

/// Writes `src` plus `salt` trailing bytes to `dst` through a rename: a distinct file each
/// time (the loader ignores bytes past the ELF's segments), so every replacement is a reload.
fn replace_salted(src: &Path, dst: &Path, salt: usize) {
    let tmp = dst.with_extension("tmp-copy");
    let mut bytes = std::fs::read(src).unwrap();
    bytes.extend_from_slice(&salt.to_le_bytes());
    std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&bytes))
        .unwrap();
    std::fs::rename(&tmp, dst).unwrap();
}

/// Plugin threads alive in the server (the SDK names its runtime threads `*-rt*`).
fn runtime_threads(pid: u32) -> usize {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .filter(|name| name.contains("-rt"))
        .count()
}

#[test]
fn two_hundred_reloads_under_async_load_fail_nothing_and_leak_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("libserved.so");
    std::fs::copy(&plugins().test_plugin, &served).unwrap();
    let server = util::start(&[served.to_str().unwrap(), "--stateless", "true"], &[]);
    let pid = server.child.id();
    let stop = AtomicBool::new(false);
    let (ok, failed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut baseline = 0;
    std::thread::scope(|s| {
        for c in 0..CALLERS {
            let (server, stop, ok, failed) = (&server, &stop, &ok, &failed);
            s.spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) && n < 100_000 {
                    n += 1;
                    let reply = server.call(&tool_call(n, "io_wait", json!({"ms": 20})), None);
                    if text_of(&reply) == "waited 20 ms" {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                        eprintln!("caller {c}: {reply}");
                    }
                }
            });
        }
        // Warm up: the first generation's runtime and the allocator's arenas.
        std::thread::sleep(Duration::from_secs(2));
        baseline = rss_kib(pid);
        let deadline = Instant::now() + Duration::from_secs(240);
        for i in 0..RELOADS {
            replace_salted(&plugins().test_plugin, &served, i);
            let reloaded = server.wait_log("plugin reloaded", i + 1, Duration::from_secs(20));
            assert!(
                reloaded,
                "reload {i} did not happen:\n{}",
                server.log_text()
            );
            assert!(Instant::now() < deadline, "reloads are too slow");
        }
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
    });
    let (ok, failed) = (ok.into_inner(), failed.into_inner());
    assert_eq!(failed, 0, "{failed} of {} calls failed", ok + failed);
    assert!(
        ok > RELOADS,
        "the load was too light to mean anything: {ok} calls"
    );
    // Retired generations are reaped in the background: give them a moment.
    let settled = util::eventually(Duration::from_secs(20), || mapped_copies(pid) <= 2);
    assert!(settled, "{} plugin copies still mapped", mapped_copies(pid));
    let threads = runtime_threads(pid);
    assert!(
        threads <= 8,
        "{threads} plugin runtime threads alive: retired runtimes were not shut down"
    );
    let grown = rss_kib(pid).saturating_sub(baseline);
    println!(
        "{RELOADS} reloads, {ok} async calls, 0 failed, RSS +{grown} KiB, {} copies mapped, \
         {threads} runtime threads",
        mapped_copies(pid)
    );
    assert!(
        grown < 5 * 1024,
        "RSS grew by {grown} KiB over {RELOADS} reloads"
    );
    let reply = server.call(&tool_call(1, "io_wait", json!({"ms": 1})), None);
    assert_eq!(text_of(&reply), "waited 1 ms", "{reply}");
}
