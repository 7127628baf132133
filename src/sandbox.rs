//! The sandbox of an isolated plugin: what its child process may touch, and its limits.
//!
//! The host builds a [`Policy`] from the `--plugin-*` settings, serialises it and hands it to
//! the child. The child calls [`apply`] first thing, while it is still single-threaded and
//! before it opens the plugin library; from then on the child, and every thread it starts,
//! can only:
//! - read the plugin library, the dynamic loader's system library directories, `/proc/self`
//!   and a few devices, and read and write the paths the operator allowed plus the child's own
//!   scratch directories (Landlock);
//! - open Unix sockets, unless the network is allowed: TCP bind/connect is denied by Landlock
//!   (ABI v4 and later) and `socket(2)` of every other family by a seccomp filter;
//! - use the memory limit: a cgroup v2 prepared by the host ([`cgroup`]) where one is
//!   delegated to us, `RLIMIT_AS` otherwise;
//! - spend the CPU limit per call: [`CpuWatch`] kills the child with `SIGXCPU` past it.
//!
//! [`probe()`] tells which of these mechanisms the running kernel offers, and
//! [`Support::warnings`] the loud startup warnings for the ones a policy needs but cannot get.
//! [`describe_exit`] turns the end of a child into the reason a call fails with.
//!
//! # Layout
//! - `policy`: [`Policy`], what the host hands the child.
//! - `probe`: [`Support`], what this kernel offers, and the warnings.
//! - `landlock_rules` (Linux): the filesystem and TCP rules and the signal scope.
//! - `seccomp` (Linux): the socket-family filter.
//! - `rlimit` (Linux): the `RLIMIT_AS` memory limit.
//! - [`cgroup`] (Linux): the host side of the cgroup v2 memory limit.
//! - `cpu`: [`CpuWatch`], the per-call CPU limit.
//! - `exit`: [`describe_exit`].
//!
//! Elsewhere than Linux, [`apply`] fails with [`SandboxError::Unsupported`] for any policy
//! that asks for a restriction, and [`probe()`] reports nothing available.

#[cfg(target_os = "linux")]
pub mod cgroup;
mod cpu;
mod exit;
#[cfg(target_os = "linux")]
mod landlock_rules;
mod policy;
mod probe;
#[cfg(target_os = "linux")]
mod rlimit;
#[cfg(target_os = "linux")]
mod seccomp;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use cpu::{CallGuard, CpuWatch, Overrun, SharedCallGuard};
pub use exit::{EXIT_CPU_LIMIT, describe_exit};
pub use policy::Policy;
pub use probe::{Support, probe};

/// Why a sandbox could not be set up. Every variant is fatal for the child: it must not load
/// the plugin with less protection than the host announced.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// This operating system has none of the mechanisms.
    #[error("plugin sandboxing is only implemented on Linux; this is {os}")]
    Unsupported {
        /// `std::env::consts::OS`.
        os: &'static str,
    },
    /// Landlock only restricts the calling thread (before ABI v8), so threads started earlier
    /// would escape it.
    #[error(
        "the sandbox must be applied while the process has one thread; it has {threads} (apply it before starting a runtime or a logger)"
    )]
    Threads {
        /// How many threads `/proc/self/status` counted.
        threads: usize,
    },
    /// A path of the policy cannot be opened to build a rule on it.
    #[error("cannot allow {path}: {source}")]
    Path {
        /// The path.
        path: PathBuf,
        /// Why it could not be opened.
        source: std::io::Error,
    },
    /// The Landlock system calls failed.
    #[error("landlock: {0}")]
    Landlock(String),
    /// The seccomp filter could not be built or installed.
    #[error("seccomp: {0}")]
    Seccomp(String),
    /// The memory limit could not be set.
    #[error("memory limit: {0}")]
    Memory(String),
    /// The memory limit is below what the process already has mapped, so nothing could load.
    #[error(
        "memory limit of {limit} bytes is below the {in_use} bytes of address space the plugin host already uses"
    )]
    MemoryTooLow {
        /// The limit asked for.
        limit: u64,
        /// `VmSize` of the process when the limit was applied.
        in_use: u64,
    },
    /// The CPU watchdog thread could not be started.
    #[error("cannot start the CPU watchdog thread: {0}")]
    Watchdog(std::io::Error),
    /// A cgroup file could not be read or written (host side).
    #[error("cgroup {path}: {source}")]
    Cgroup {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// How the memory limit is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MemoryEnforcement {
    /// `memory.max` of the cgroup v2 the child joined.
    Cgroup,
    /// `RLIMIT_AS`.
    Rlimit,
}

/// What [`apply`] put in place, for the child to log and send to the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Report {
    /// The Landlock ABI version of the kernel (0: none).
    pub(crate) landlock_abi: u32,
    /// Files are restricted (a Landlock ruleset is enforced).
    pub(crate) filesystem_restricted: bool,
    /// TCP bind/connect are denied by Landlock (needs ABI v4; false when the network is allowed).
    pub(crate) tcp_denied: bool,
    /// `socket(2)` of families other than `AF_UNIX` fails (false when the network is allowed).
    pub(crate) sockets_denied: bool,
    /// How the memory limit is enforced; `None` without one.
    pub(crate) memory: Option<MemoryEnforcement>,
    /// What the policy asked for and this kernel could not do.
    pub(crate) missing: Vec<String>,
}

/// Applies `policy` to the calling process: memory limit, then Landlock, then the seccomp
/// filter. Call it while the process is single-threaded, before the plugin is opened. A
/// mechanism the kernel lacks is listed in [`Report::missing`] (the host has already warned
/// about it, see [`Support::warnings`]); a mechanism that is present but fails is an error.
#[cfg(target_os = "linux")]
pub(crate) fn apply(policy: &Policy) -> Result<Report, SandboxError> {
    let threads = probe::thread_count();
    if threads > 1 {
        return Err(SandboxError::Threads { threads });
    }
    // Not `probe()`: the child needs no cgroup discovery.
    let landlock_abi = probe::landlock_abi();
    let mut report = Report {
        landlock_abi,
        filesystem_restricted: false,
        tcp_denied: false,
        sockets_denied: false,
        memory: None,
        missing: Vec::new(),
    };
    if let Some(limit) = policy.memory_limit {
        report.memory = Some(match &policy.memory_cgroup {
            Some(dir) => {
                cgroup::join(dir)?;
                MemoryEnforcement::Cgroup
            }
            None => {
                rlimit::limit_address_space(limit)?;
                MemoryEnforcement::Rlimit
            }
        });
    }
    let landlock = landlock_rules::restrict(policy, landlock_abi)?;
    report.filesystem_restricted = landlock.enforced;
    report.tcp_denied = landlock.tcp_denied;
    if !policy.allow_net {
        if probe::seccomp_available() {
            seccomp::deny_sockets()?;
            report.sockets_denied = true;
        } else {
            report.missing.push("seccomp".into());
        }
    }
    if !report.filesystem_restricted {
        report.missing.push("landlock".into());
    } else if !policy.allow_net && !report.tcp_denied {
        report.missing.push("landlock network rules".into());
    }
    Ok(report)
}

/// Elsewhere than Linux nothing can be restricted: a policy that restricts anything fails.
#[cfg(not(target_os = "linux"))]
pub(crate) fn apply(_policy: &Policy) -> Result<Report, SandboxError> {
    Err(SandboxError::Unsupported {
        os: std::env::consts::OS,
    })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn apply_refuses_a_process_with_threads_before_restricting_anything() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || rx.recv());
        let err = apply(&Policy::new("/nonexistent.so")).unwrap_err();
        assert!(
            matches!(err, SandboxError::Threads { threads } if threads >= 2),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("must be applied while the process has one thread")
        );
        drop(tx);
        let _ = other.join();
        // Nothing was restricted: this process still reads what it could.
        assert!(std::fs::metadata("/proc/self/status").is_ok());
    }
}
