//! The Landlock ruleset of an isolated plugin's child: files, TCP and signals.
//!
//! Every filesystem right is handled (denied unless a rule grants it). Granted:
//! - read-only: the plugin library; the directories the dynamic loader maps libraries from
//!   and its cache; `/proc/self` (the standard library and tokio read limits and mappings
//!   there); `/dev/urandom`, `/dev/random`, `/dev/zero`;
//! - read and write: `/dev/null`, the operator's `--plugin-allow-path`s and the child's
//!   scratch directories.
//!
//! Nothing may be executed, so a plugin cannot `execve` a program that has no sandbox. TCP
//! bind and connect are denied when the network is (ABI v4). From ABI v6 on the child cannot
//! signal processes outside its sandbox (the server included), and, when the network is
//! denied, cannot reach abstract Unix sockets created outside it.
//!
//! Rights are those of Landlock ABI v7, the version this was tested on; a kernel with a
//! lower ABI gets the subset it knows (best effort, reported by [`restrict`]).

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope,
};

use super::probe::{LANDLOCK_NET_ABI, LANDLOCK_SCOPE_ABI};
use super::{Policy, SandboxError};

/// The ABI whose rights are asked for (see the module docs).
const TESTED_ABI: ABI = ABI::V7;

/// Read-only system paths a dynamically loaded Rust library needs; those that do not exist on
/// this system are skipped.
const SYSTEM_READ: &[&str] = &[
    "/lib",
    "/lib64",
    "/lib32",
    "/usr/lib",
    "/usr/lib64",
    "/usr/local/lib",
    "/etc/ld.so.cache",
    "/etc/ld.so.preload",
    "/proc/self",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
];

/// Read-write system paths.
const SYSTEM_WRITE: &[&str] = &["/dev/null"];

/// What [`restrict`] enforced.
#[derive(Debug)]
pub(super) struct Outcome {
    /// A ruleset is enforced on this thread and the threads it starts.
    pub(super) enforced: bool,
    /// TCP bind/connect are denied.
    pub(super) tcp_denied: bool,
}

/// Builds the ruleset for `policy` and restricts the calling thread (and every thread it
/// starts later) to it. `abi` is the kernel's Landlock ABI version.
pub(super) fn restrict(policy: &Policy, abi: u32) -> Result<Outcome, SandboxError> {
    let fs_read = AccessFs::ReadFile | AccessFs::ReadDir;
    let fs_all = AccessFs::from_all(TESTED_ABI) & !AccessFs::Execute;
    let err = |e: landlock::RulesetError| SandboxError::Landlock(e.to_string());
    let deny_tcp = !policy.allow_net && abi >= LANDLOCK_NET_ABI;
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(TESTED_ABI))
        .map_err(err)?;
    if deny_tcp {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(TESTED_ABI))
            .map_err(err)?;
    }
    if abi >= LANDLOCK_SCOPE_ABI {
        let scopes: BitFlags<Scope> = if policy.allow_net {
            Scope::Signal.into()
        } else {
            Scope::from_all(TESTED_ABI)
        };
        ruleset = ruleset.scope(scopes).map_err(err)?;
    }
    let mut rules = Vec::new();
    rules.extend(rule(&policy.library, AccessFs::ReadFile.into(), true)?);
    for path in SYSTEM_READ {
        rules.extend(rule(Path::new(path), fs_read, false)?);
    }
    for path in SYSTEM_WRITE {
        rules.extend(rule(Path::new(path), fs_read | AccessFs::WriteFile, false)?);
    }
    for path in ld_library_path() {
        rules.extend(rule(&path, fs_read, false)?);
    }
    for path in policy.allow_paths.iter().chain(&policy.scratch_dirs) {
        rules.extend(rule(path, fs_all, true)?);
    }
    let created = ruleset
        .create()
        .and_then(|r| r.add_rules(rules.into_iter().map(Ok)))
        .map_err(err)?;
    let status = created.restrict_self().map_err(err)?;
    let enforced = status.ruleset != RulesetStatus::NotEnforced;
    Ok(Outcome {
        enforced,
        tcp_denied: enforced && deny_tcp,
    })
}

/// A rule granting `access` beneath `path`; `None` for a missing path that is not `required`.
fn rule(
    path: &Path,
    access: BitFlags<AccessFs>,
    required: bool,
) -> Result<Option<PathBeneath<PathFd>>, SandboxError> {
    let fd = match PathFd::new(path) {
        Ok(fd) => fd,
        Err(_) if !required => return Ok(None),
        Err(_) => {
            let source = std::fs::metadata(path)
                .err()
                .unwrap_or_else(|| std::io::Error::other("cannot open it"));
            return Err(SandboxError::Path {
                path: path.to_owned(),
                source,
            });
        }
    };
    let access = if path.is_dir() {
        access
    } else {
        // Directory-only rights on a file are an error for Landlock.
        access & !directory_rights()
    };
    Ok(Some(PathBeneath::new(fd, access)))
}

/// The rights that only make sense on a directory (creating or removing entries in it).
fn directory_rights() -> BitFlags<AccessFs> {
    AccessFs::from_all(TESTED_ABI) & !AccessFs::from_file(TESTED_ABI)
}

/// `LD_LIBRARY_PATH`'s directories: the dynamic loader searches them first.
fn ld_library_path() -> Vec<PathBuf> {
    std::env::var_os("LD_LIBRARY_PATH")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| p.is_absolute())
                .collect()
        })
        .unwrap_or_default()
}
