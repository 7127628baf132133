//! The memory limit through a cgroup v2, host side, plus the child's [`join`].
//!
//! Where the server's own cgroup is writable and has the `memory` controller for its children
//! (a delegated systemd unit with `Delegate=yes`, the root cgroup of a container), the host
//! makes `<own>/fastmcp-<pid>/` once and one `<child>/` under it per plugin process, writes
//! `memory.max` (and `memory.swap.max = 0`, so the limit is not dodged by swapping), and
//! passes the directory in the [`super::Policy`]; the child moves itself in before it loads
//! anything. The kernel's OOM killer then ends the child alone, and
//! [`oom_kills`] tells the host that this is what happened.
//!
//! Where that is not possible [`delegated_root`] says why, and the child falls back to
//! `RLIMIT_AS`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::SandboxError;

/// The cgroup v2 directory the host may create plugin cgroups under: the server's own.
pub(crate) fn delegated_root() -> Result<PathBuf, String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
    let membership = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
    let own = own_dir(&mountinfo, &membership)?;
    check_usable(&own, is_root(&own, &mountinfo))?;
    Ok(own)
}

/// The directory of this process's cgroup v2: the unified mount plus the `0::` path.
fn own_dir(mountinfo: &str, membership: &str) -> Result<PathBuf, String> {
    let path = membership
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or("this process is in no cgroup v2 hierarchy")?;
    let (root, mount) = cgroup2_mount(mountinfo).ok_or("no cgroup2 filesystem is mounted")?;
    // A namespaced mount shows its root; the path is relative to the namespace already.
    let relative = path.strip_prefix(root.as_str()).unwrap_or(path);
    let relative = relative.trim_matches('/');
    Ok(if relative.is_empty() {
        PathBuf::from(mount)
    } else {
        Path::new(&mount).join(relative)
    })
}

/// `(root, mount point)` of the first cgroup2 mount in `/proc/self/mountinfo`.
fn cgroup2_mount(mountinfo: &str) -> Option<(String, String)> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let fields: Vec<&str> = left.split_whitespace().collect();
        Some((fields.get(3)?.to_string(), fields.get(4)?.to_string()))
    })
}

fn is_root(dir: &Path, mountinfo: &str) -> bool {
    cgroup2_mount(mountinfo).is_some_and(|(_, mount)| dir == Path::new(&mount))
}

/// `own` must offer `memory` to its children, or be able to (only the root cgroup may enable
/// a controller while it has processes: cgroup v2's "no internal processes" rule).
fn check_usable(own: &Path, is_root: bool) -> Result<(), String> {
    let read = |name: &str| {
        std::fs::read_to_string(own.join(name))
            .map_err(|e| format!("cannot read {}: {e}", own.join(name).display()))
    };
    if !read("cgroup.controllers")?
        .split_whitespace()
        .any(|c| c == "memory")
    {
        return Err(format!(
            "the memory controller is not available in {}",
            own.display()
        ));
    }
    let enabled = read("cgroup.subtree_control")?
        .split_whitespace()
        .any(|c| c == "memory");
    if !enabled && !is_root {
        return Err(format!(
            "{} does not enable memory for its children and holds this process, so it cannot",
            own.display()
        ));
    }
    let c_path = std::ffi::CString::new(own.as_os_str().as_encoded_bytes())
        .map_err(|_| "the cgroup path contains a NUL byte".to_string())?;
    // SAFETY: `c_path` is a valid NUL-terminated string that outlives the call.
    if unsafe { libc::access(c_path.as_ptr(), libc::W_OK) } != 0 {
        return Err(format!("{} is not writable", own.display()));
    }
    Ok(())
}

/// Creates `<root>/fastmcp-<pid>/<child>/` with `memory.max = limit` and returns it, for
/// [`super::Policy::memory_cgroup`]. `root` comes from [`delegated_root`].
pub fn prepare(root: &Path, child: &str, limit: u64) -> Result<PathBuf, SandboxError> {
    let ours = root.join(format!("fastmcp-{}", std::process::id()));
    enable_memory(root)?;
    make_dir(&ours)?;
    enable_memory(&ours)?;
    let dir = ours.join(child);
    make_dir(&dir)?;
    write(&dir.join("memory.max"), &limit.to_string())?;
    // Absent without swap accounting: then there is nothing to dodge the limit with.
    let _ = std::fs::write(dir.join("memory.swap.max"), "0");
    Ok(dir)
}

/// Moves the calling process into `dir` (run by the child, before it loads anything).
pub(crate) fn join(dir: &Path) -> Result<(), SandboxError> {
    write(&dir.join("cgroup.procs"), "0")
}

/// How many times the OOM killer acted in `dir` (`memory.events`' `oom_kill`).
pub fn oom_kills(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join("memory.events"))
        .ok()
        .and_then(|events| {
            events
                .lines()
                .find_map(|l| l.strip_prefix("oom_kill ")?.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Removes a child's cgroup once the child is gone (a cgroup with processes cannot be).
pub fn remove(dir: &Path) -> Result<(), SandboxError> {
    match std::fs::remove_dir(dir) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(SandboxError::Cgroup {
            path: dir.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn enable_memory(dir: &Path) -> Result<(), SandboxError> {
    let control = dir.join("cgroup.subtree_control");
    let enabled = std::fs::read_to_string(&control)
        .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"));
    if enabled {
        return Ok(());
    }
    write(&control, "+memory")
}

fn make_dir(dir: &Path) -> Result<(), SandboxError> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != ErrorKind::AlreadyExists => Err(SandboxError::Cgroup {
            path: dir.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn write(path: &Path, value: &str) -> Result<(), SandboxError> {
    std::fs::write(path, value).map_err(|source| SandboxError::Cgroup {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
25 30 0:22 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
33 25 0:28 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn finds_the_own_cgroup_under_the_unified_mount() {
        let own = own_dir(MOUNTINFO, "4:memory:/x\n0::/system.slice/app.service\n").unwrap();
        assert_eq!(
            own,
            Path::new("/sys/fs/cgroup/unified/system.slice/app.service")
        );
        assert!(is_root(Path::new("/sys/fs/cgroup/unified"), MOUNTINFO));
        let root = own_dir(MOUNTINFO, "0::/\n").unwrap();
        assert!(is_root(&root, MOUNTINFO), "{}", root.display());
        let err = own_dir(MOUNTINFO, "4:memory:/x\n").unwrap_err();
        assert_eq!(err, "this process is in no cgroup v2 hierarchy");
        let err = own_dir("25 30 0:22 / /m rw - cgroup cgroup rw\n", "0::/\n").unwrap_err();
        assert_eq!(err, "no cgroup2 filesystem is mounted");
    }

    #[test]
    fn a_cgroup_without_the_memory_controller_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cgroup.controllers"), "cpu hugetlb\n").unwrap();
        std::fs::write(dir.path().join("cgroup.subtree_control"), "").unwrap();
        let err = check_usable(dir.path(), true).unwrap_err();
        assert!(err.contains("memory controller is not available"), "{err}");
        std::fs::write(dir.path().join("cgroup.controllers"), "cpu memory\n").unwrap();
        let err = check_usable(dir.path(), false).unwrap_err();
        assert!(
            err.contains("does not enable memory for its children"),
            "{err}"
        );
        assert_eq!(check_usable(dir.path(), true), Ok(()));
    }

    /// On a plain directory standing in for cgroupfs: the files the kernel would read.
    #[test]
    fn prepare_writes_the_limit_and_join_the_pid() {
        let root = tempfile::tempdir().unwrap();
        let dir = prepare(root.path(), "calc-1", 512 << 20).unwrap();
        let ours = root.path().join(format!("fastmcp-{}", std::process::id()));
        assert_eq!(dir, ours.join("calc-1"));
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(dir.join("memory.max")), "536870912");
        assert_eq!(read(dir.join("memory.swap.max")), "0");
        assert_eq!(read(ours.join("cgroup.subtree_control")), "+memory");
        assert_eq!(read(root.path().join("cgroup.subtree_control")), "+memory");
        join(&dir).unwrap();
        assert_eq!(read(dir.join("cgroup.procs")), "0");
        assert_eq!(oom_kills(&dir), 0);
        std::fs::write(dir.join("memory.events"), "low 0\noom 2\noom_kill 1\n").unwrap();
        assert_eq!(oom_kills(&dir), 1);
    }
}
