//! [`probe`]: which sandbox mechanisms this kernel offers, and the startup warnings for the
//! ones a policy needs but cannot have. Never guesses in the safe direction: a mechanism that
//! cannot be confirmed counts as missing.

use std::path::PathBuf;

use serde::Serialize;

use super::Policy;

/// What the running kernel offers the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Support {
    /// Landlock ABI version (0: Landlock not built in or not enabled at boot).
    pub landlock_abi: u32,
    /// seccomp filters can be installed.
    pub seccomp: bool,
    /// The cgroup v2 directory under which the host can create plugin cgroups with a memory
    /// limit, or why there is none.
    pub memory_cgroup: Result<PathBuf, String>,
}

/// Landlock's first ABI with TCP bind/connect rules.
pub(super) const LANDLOCK_NET_ABI: u32 = 4;
/// Landlock's first ABI with scopes (signals, abstract Unix sockets).
pub(super) const LANDLOCK_SCOPE_ABI: u32 = 6;

/// Asks the kernel. Cheap (a few system calls and small files); call it once at startup.
pub fn probe() -> Support {
    #[cfg(target_os = "linux")]
    {
        Support {
            landlock_abi: landlock_abi(),
            seccomp: seccomp_available(),
            memory_cgroup: super::cgroup::delegated_root(),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        Support {
            landlock_abi: 0,
            seccomp: false,
            memory_cgroup: Err(format!(
                "cgroups are Linux-only; this is {}",
                std::env::consts::OS
            )),
        }
    }
}

impl Support {
    /// Landlock can restrict the filesystem.
    pub fn landlock(&self) -> bool {
        self.landlock_abi >= 1
    }

    /// Landlock can deny TCP bind and connect.
    pub fn landlock_net(&self) -> bool {
        self.landlock_abi >= LANDLOCK_NET_ABI
    }

    /// One line per protection that `policy` asks for and this kernel cannot give, to log at
    /// WARN at startup. Empty when everything is enforced.
    pub fn warnings(&self, policy: &Policy) -> Vec<String> {
        let mut out = Vec::new();
        if !cfg!(target_os = "linux") {
            out.push(format!(
                "plugin sandboxing is only implemented on Linux ({} here): isolated plugins run without file, network or memory restrictions",
                std::env::consts::OS
            ));
            return out;
        }
        if !self.landlock() {
            out.push(
                "landlock is not supported by this kernel (or not enabled at boot): isolated plugins can read and write any file the server can"
                    .into(),
            );
        } else if self.landlock_abi < LANDLOCK_SCOPE_ABI {
            out.push(format!(
                "landlock ABI v{} has no signal scope (needs v{LANDLOCK_SCOPE_ABI}): isolated plugins can send signals to other processes of this user",
                self.landlock_abi
            ));
        }
        if !policy.allow_net {
            match (self.seccomp, self.landlock_net()) {
                (true, true) => {}
                (true, false) => out.push(format!(
                    "landlock network rules need ABI v{LANDLOCK_NET_ABI} (this kernel: v{}): only the seccomp socket filter denies isolated plugins the network",
                    self.landlock_abi
                )),
                (false, true) => out.push(
                    "seccomp is not available: isolated plugins are denied TCP but can use UDP and other socket families"
                        .into(),
                ),
                (false, false) => out.push(
                    "neither seccomp nor landlock network rules are available: isolated plugins can use the network"
                        .into(),
                ),
            }
        }
        if let (Some(_), Err(why)) = (policy.memory_limit, &self.memory_cgroup) {
            out.push(format!(
                "no cgroup v2 memory controller to use ({why}): the plugin memory limit falls back to RLIMIT_AS, which counts address space, not memory in use"
            ));
        }
        out
    }
}

/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`: the ABI version, or 0.
#[cfg(target_os = "linux")]
pub(super) fn landlock_abi() -> u32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute pointer and size 0, this flag only asks the kernel for its
    // version; nothing is read or written through the pointer.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(v).unwrap_or(0)
}

/// `prctl(PR_GET_SECCOMP)` fails with EINVAL on a kernel without seccomp; the filter mode also
/// needs `SECCOMP_RET_ERRNO`, which `actions_avail` lists where the file exists.
#[cfg(target_os = "linux")]
pub(super) fn seccomp_available() -> bool {
    // SAFETY: PR_GET_SECCOMP takes no pointer arguments and only reads our seccomp mode.
    let mode = unsafe { libc::prctl(libc::PR_GET_SECCOMP) };
    if mode < 0 {
        return false;
    }
    match std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_avail") {
        Ok(actions) => actions.split_whitespace().any(|a| a == "errno"),
        Err(_) => true,
    }
}

/// Threads of this process. Without `/proc` it cannot tell and answers 1: the caller's
/// promise to apply the sandbox first is then all there is.
#[cfg(target_os = "linux")]
pub(super) fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(1, |d| d.count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn support(landlock_abi: u32, seccomp: bool, cgroup: bool) -> Support {
        Support {
            landlock_abi,
            seccomp,
            memory_cgroup: if cgroup {
                Ok("/sys/fs/cgroup/x".into())
            } else {
                Err("no memory controller".into())
            },
        }
    }

    #[test]
    fn a_full_kernel_has_nothing_to_warn_about() {
        let mut policy = Policy::new("/p.so");
        policy.memory_limit = Some(1 << 30);
        assert_eq!(
            support(7, true, true).warnings(&policy),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_missing_mechanism_is_named() {
        let mut policy = Policy::new("/p.so");
        let w = support(0, false, false).warnings(&policy).join("\n");
        assert!(
            w.contains("landlock is not supported by this kernel"),
            "{w}"
        );
        assert!(w.contains("can use the network"), "{w}");
        assert!(!w.contains("RLIMIT_AS"), "no memory limit asked for: {w}");
        policy.memory_limit = Some(1 << 30);
        let w = support(3, true, false).warnings(&policy).join("\n");
        assert!(
            w.contains("network rules need ABI v4 (this kernel: v3)"),
            "{w}"
        );
        assert!(w.contains("no signal scope"), "{w}");
        assert!(w.contains("falls back to RLIMIT_AS"), "{w}");
        let w = support(7, false, true).warnings(&policy).join("\n");
        assert!(w.contains("seccomp is not available"), "{w}");
        policy.allow_net = true;
        assert!(support(7, false, true).warnings(&policy).is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn probing_this_kernel_agrees_with_the_landlock_crate() {
        use ::landlock::{AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr};
        let support = probe();
        println!("sandbox support on this kernel: {support:?}");
        // With a hard requirement the crate fails to create a ruleset without Landlock.
        let created = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::Execute)
            .and_then(|r| r.create());
        assert_eq!(support.landlock(), created.is_ok(), "{created:?}");
    }
}
