//! Reloading is memory-bounded by design: 500 reloads of a plugin leave RSS flat (< 5 MiB of
//! growth) and at most one mapping of the plugin, because each retired generation's workers are
//! joined and its library closed (checked in-process through the library API and
//! `/proc/self/maps`).

use std::path::Path;
use std::time::{Duration, Instant};

use fastmcp::plugin::reload::{Reloaded, reload};
use fastmcp::plugin::{Registry, Slot};

use crate::util::{mapped_copies, plugins, replace_atomically, rss_kib};

fn reload_n(registry: &Registry, served: &Path, n: usize) {
    let p = plugins();
    for i in 0..n {
        let src = if i % 2 == 0 {
            &p.test_plugin
        } else {
            &p.calculator
        };
        replace_atomically(src, served);
        match reload(registry, 0, "dev") {
            Reloaded::Swapped { .. } => {}
            other => panic!("reload {i}: {other:?}"),
        }
    }
}

/// Runs the measurement in a process of its own: RSS is per process, and the other tests of
/// this binary run concurrently and allocate.
#[test]
fn five_hundred_reloads_keep_rss_flat_and_one_mapping() {
    if std::env::var_os("FASTMCP_MEMORY_CHILD").is_some() {
        return measure();
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "reload_memory::five_hundred_reloads_keep_rss_flat_and_one_mapping",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FASTMCP_MEMORY_CHILD", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(line) = text.lines().find(|l| l.starts_with("RSS ")) {
        println!("{line}");
    }
    assert!(out.status.success(), "the measurement failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the measurement did not run:\n{text}"
    );
}

fn measure() {
    let p = plugins();
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("libmem.so");
    std::fs::copy(&p.calculator, &served).unwrap();
    let registry = Registry::new(1);
    registry.load_all(vec![Slot::new("mem", &served)]).unwrap();

    reload_n(&registry, &served, 20); // warm up allocator and caches
    let wait_unmapped = || {
        let deadline = Instant::now() + Duration::from_secs(20);
        while mapped_copies(std::process::id()) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_unmapped();
    let before = rss_kib(std::process::id());
    reload_n(&registry, &served, 500);
    wait_unmapped();
    let after = rss_kib(std::process::id());
    assert_eq!(
        mapped_copies(std::process::id()),
        1,
        "retired generations are still mapped"
    );
    let growth = after.saturating_sub(before);
    println!("RSS {before} -> {after} KiB over 500 reloads");
    assert!(
        growth < 5 * 1024,
        "RSS grew by {growth} KiB over 500 reloads ({before} -> {after} KiB)"
    );
    assert_eq!(registry.catalog().generation(0).unwrap().id, 521);
}
