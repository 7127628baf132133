//! The seccomp filter that closes the network routes Landlock does not cover: `socket(2)` and
//! `socketpair(2)` of any family but `AF_UNIX` fail with `EACCES`, and so does
//! `io_uring_setup(2)` (io_uring can create sockets without the `socket` system call, out of
//! seccomp's sight). Every other system call is allowed: this filter is about the network,
//! not a general system-call allowlist.
//!
//! It is installed on every thread of the process (`SECCOMP_FILTER_FLAG_TSYNC`) and inherited
//! by every thread started later. A system call made through another architecture's ABI (32-bit
//! `int 0x80` on x86-64, where `socketcall` would bypass the rule) kills the process.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use super::SandboxError;

/// Installs the filter (see the module docs).
pub(super) fn deny_sockets() -> Result<(), SandboxError> {
    let program = socket_filter()?;
    seccompiler::apply_filter_all_threads(&program)
        .map_err(|e| SandboxError::Seccomp(format!("cannot install the socket filter: {e}")))
}

fn socket_filter() -> Result<BpfProgram, SandboxError> {
    let err = |e: seccompiler::BackendError| SandboxError::Seccomp(e.to_string());
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|e| SandboxError::Seccomp(format!("unsupported architecture: {e}")))?;
    // `domain != AF_UNIX`, compared on the low 32 bits (the argument is an int).
    let not_unix = SeccompRule::new(vec![
        SeccompCondition::new(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Ne,
            libc::AF_UNIX as u64,
        )
        .map_err(err)?,
    ])
    .map_err(err)?;
    let rules = BTreeMap::from([
        (libc::SYS_socket, vec![not_unix.clone()]),
        (libc::SYS_socketpair, vec![not_unix]),
        // No rule: whatever the arguments.
        (libc::SYS_io_uring_setup, Vec::new()),
    ]);
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EACCES as u32),
        arch,
    )
    .map_err(err)?;
    BpfProgram::try_from(filter).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a forked child (one thread, so the test process stays unfiltered): UDP and TCP
    /// sockets fail with EACCES after the filter, Unix sockets still open.
    #[test]
    fn the_filter_denies_inet_sockets_and_keeps_unix_ones() {
        // Built before the fork: the child only makes system calls, no allocation.
        let program = socket_filter().unwrap();
        // SAFETY: the child runs only async-signal-safe system calls, then `_exit`s.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let code = child_checks(&program);
            // SAFETY: leaving the forked child without running the parent's exit handlers.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waiting for the child forked above; `status` is a valid out-pointer.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "child status {status}");
        let meaning = [
            "passed",
            "the filter could not be installed",
            "a UDP socket opened",
            "a TCP socket opened",
            "a Unix socket was refused",
            "an IPv6 socket opened",
        ];
        let code = libc::WEXITSTATUS(status) as usize;
        assert_eq!(code, 0, "{}", meaning.get(code).unwrap_or(&"unknown"));
    }

    fn child_checks(program: &BpfProgram) -> i32 {
        if seccompiler::apply_filter_all_threads(program).is_err() {
            return 1;
        }
        let denied = |domain, kind| {
            // SAFETY: socket(2) with constant arguments; a descriptor it returns is leaked
            // into a child that exits at once.
            let fd = unsafe { libc::socket(domain, kind, 0) };
            fd < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EACCES)
        };
        if !denied(libc::AF_INET, libc::SOCK_DGRAM) {
            return 2;
        }
        if !denied(libc::AF_INET, libc::SOCK_STREAM) {
            return 3;
        }
        // SAFETY: as above.
        if unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) } < 0 {
            return 4;
        }
        if !denied(libc::AF_INET6, libc::SOCK_DGRAM) {
            return 5;
        }
        0
    }
}
