//! What `/proc` says about a running server: its memory, the plugin copies it mapped, its
//! child processes.

/// The resident memory of process `pid`, in KiB (`VmRSS` in /proc).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Distinct private plugin copies (`fastmcp-<pid>/...`) that process `pid` has mapped.
pub fn mapped_copies(pid: u32) -> usize {
    let marker = format!("fastmcp-{pid}/");
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("proc maps");
    let mut paths: Vec<&str> = maps
        .lines()
        .filter(|l| l.contains(&marker))
        .filter_map(|l| l.split_whitespace().nth(5))
        .collect();
    paths.sort_unstable();
    paths.dedup();
    paths.len()
}

/// The pids of the children of process `pid` (from every thread's `children` list).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut kids = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return kids;
    };
    for task in tasks.flatten() {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        kids.extend(
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    kids.sort_unstable();
    kids.dedup();
    kids
}
