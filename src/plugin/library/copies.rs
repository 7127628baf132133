//! The lifetime of the directory that holds a process's private plugin copies,
//! `$TMPDIR/fastmcp-<pid>/` (see [`super::stage`]).
//!
//! The copies themselves are unlinked as soon as they are mapped, but the directory stays: a
//! clean exit removes it ([`CopiesDir`]'s `Drop`), and a start removes those of processes that
//! are gone (a crash, `kill -9`). Only directories named exactly `fastmcp-<pid>`, owned by this
//! user, whose pid is not running, are removed; symlinks are never followed, and nothing else
//! is touched.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The name of a process's copies directory: `fastmcp-<pid>`.
const PREFIX: &str = "fastmcp-";

/// This process's copies directory, claimed for the life of the program: removed when this is
/// dropped at exit. Claiming it first removes the directories that processes no longer running
/// left behind.
#[derive(Debug)]
#[must_use = "the directory is removed when this is dropped"]
pub struct CopiesDir(PathBuf);

impl CopiesDir {
    /// Removes the stale directories in `$TMPDIR` and claims this process's one (which is
    /// created when the first plugin is staged).
    pub fn claim() -> CopiesDir {
        remove_stale(&std::env::temp_dir(), std::process::id());
        CopiesDir(super::copies_dir())
    }
}

impl Drop for CopiesDir {
    fn drop(&mut self) {
        // `remove_dir_all` removes a symlink itself, never what it points to.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The pid in a directory name `fastmcp-<pid>`, written as fastmcp writes it (no sign, no
/// leading zero); `None` for any other name.
fn pid_of(name: &str) -> Option<i32> {
    let digits = name.strip_prefix(PREFIX)?;
    let pid = digits.parse::<i32>().ok().filter(|&p| p > 0)?;
    (pid.to_string() == digits).then_some(pid)
}

/// Whether process `pid` exists (EPERM: it does, as another user's).
fn is_running(pid: i32) -> bool {
    // SAFETY: signal 0 is not sent; `kill` only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes the `fastmcp-<pid>` directories in `dir` that are not `own`, whose process is not
/// running, and that this user owns. Returns what it removed.
fn remove_stale(dir: &Path, own: u32) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(pid_of) else {
            continue;
        };
        if pid as u32 == own || is_running(pid) {
            continue;
        }
        let path = entry.path();
        // `symlink_metadata` does not follow a symlink: one named like ours is not ours.
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() && m.uid() == uid => {}
            _ => continue,
        }
        if std::fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pids above `pid_max` are never running.
    fn dead_pid(n: i32) -> i32 {
        let max = std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .unwrap_or(4_194_304);
        max + n
    }

    #[test]
    fn names_are_read_strictly() {
        assert_eq!(pid_of("fastmcp-123"), Some(123));
        for other in [
            "fastmcp-",
            "fastmcp-0",
            "fastmcp-0123",
            "fastmcp-+12",
            "fastmcp--12",
            "fastmcp-12a",
            "fastmcp-12.so",
            "fastmcp-99999999999",
            "xfastmcp-12",
            "fastmcp-abc",
        ] {
            assert_eq!(pid_of(other), None, "{other}");
        }
    }

    #[test]
    fn only_directories_of_dead_processes_go() {
        let tmp = tempfile::tempdir().unwrap();
        let at = |name: String| tmp.path().join(name);
        let dead = at(format!("fastmcp-{}", dead_pid(1)));
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join("libx.0.so"), b"copy").unwrap();
        let own = at(format!("fastmcp-{}", std::process::id()));
        std::fs::create_dir(&own).unwrap();
        let live = at("fastmcp-1".into()); // init, or the container's first process
        std::fs::create_dir(&live).unwrap();
        let padded = at(format!("fastmcp-0{}", dead_pid(2)));
        std::fs::create_dir(&padded).unwrap();
        let file = at(format!("fastmcp-{}", dead_pid(3)));
        std::fs::write(&file, b"not a directory").unwrap();
        // A symlink named like a dead process's directory is left alone, and so is its target.
        let target = tmp.path().join("elsewhere");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"keep").unwrap();
        let link = at(format!("fastmcp-{}", dead_pid(4)));
        std::os::unix::fs::symlink(&target, &link).unwrap();

        let removed = remove_stale(tmp.path(), std::process::id());
        assert_eq!(removed, vec![dead.clone()]);
        assert!(!dead.exists());
        for kept in [&own, &live, &padded, &file, &target.join("keep")] {
            assert!(kept.exists(), "{}", kept.display());
        }
        assert!(link.symlink_metadata().is_ok(), "the symlink stays");
    }

    #[test]
    fn dropping_the_claim_removes_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(format!("fastmcp-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("libx.3.so"), b"staged, not loaded").unwrap();
        drop(CopiesDir(dir.clone()));
        assert!(!dir.exists());
    }
}
