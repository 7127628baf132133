//! How a child ends when it passes a limit, and how the host names that end.
//!
//! - CPU: [`CpuWatch::kill_on_overrun`](super::CpuWatch::kill_on_overrun) writes one line to
//!   stderr and raises `SIGXCPU` (the signal the kernel itself uses for CPU limits), falling
//!   back to exit code [`EXIT_CPU_LIMIT`] should the signal not end the process.
//! - Memory in a cgroup: the kernel's OOM killer sends `SIGKILL`; `memory.events` counts it
//!   ([`super::cgroup::oom_kills`]).
//! - Memory under `RLIMIT_AS`: an allocation fails and Rust aborts (`SIGABRT`) after writing
//!   "memory allocation of N bytes failed".

use std::process::ExitStatus;
use std::time::Duration;

use super::{Overrun, Policy};

/// The exit code of a child that passed its CPU limit and survived `SIGXCPU` (128 + 24).
pub const EXIT_CPU_LIMIT: i32 = 152;

/// Why a child ended, when it was a limit of `policy`: `CPU limit of 2s per call exceeded`
/// or `memory limit of 512MiB exceeded`. `stderr_tail` is the end of what the child wrote,
/// `oom_killed` whether its cgroup counted an OOM kill. `None`: not a limit (a crash or an
/// exit the caller describes itself).
pub fn describe_exit(
    status: ExitStatus,
    stderr_tail: &str,
    oom_killed: bool,
    policy: &Policy,
) -> Option<String> {
    use std::os::unix::process::ExitStatusExt;
    let signal = status.signal();
    let cpu_killed = signal == Some(libc::SIGXCPU) || status.code() == Some(EXIT_CPU_LIMIT);
    if let Some(limit) = policy.cpu_limit
        && cpu_killed
    {
        return Some(format!(
            "CPU limit of {} per call exceeded",
            format_duration(limit)
        ));
    }
    let limit = policy.memory_limit?;
    let out_of_memory = match signal {
        Some(libc::SIGKILL) => oom_killed,
        Some(libc::SIGABRT) => stderr_tail.contains("memory allocation of"),
        _ => false,
    };
    out_of_memory.then(|| format!("memory limit of {} exceeded", format_bytes(limit)))
}

/// The child's end when a call passes its CPU limit. Never returns.
pub(super) fn die_of_cpu_limit(overrun: &Overrun) -> ! {
    eprintln!(
        "fastmcp: call {} used {} of CPU time, over the limit of {}; stopping the plugin process",
        overrun.call,
        format_duration(overrun.used),
        format_duration(overrun.limit)
    );
    #[cfg(unix)]
    // SAFETY: plain signal-state calls on this thread with valid arguments: no core file,
    // the default action for SIGXCPU (terminate), SIGXCPU unblocked here, then raised here.
    unsafe {
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        libc::signal(libc::SIGXCPU, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGXCPU);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(libc::SIGXCPU);
    }
    std::process::exit(EXIT_CPU_LIMIT)
}

/// `2s`, `1500ms`, `2m`: the way the flags are written.
fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `512MiB`, `1GiB`, or bytes.
fn format_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n.is_multiple_of(1 << 30) => format!("{}GiB", n >> 30),
        n if n >= 1 << 20 && n.is_multiple_of(1 << 20) => format!("{}MiB", n >> 20),
        n if n >= 1 << 10 && n.is_multiple_of(1 << 10) => format!("{}KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn limits_are_named_and_other_ends_are_not() {
        let mut policy = Policy::new("/p.so");
        policy.cpu_limit = Some(Duration::from_secs(2));
        policy.memory_limit = Some(512 << 20);
        let signalled = |s: i32| ExitStatus::from_raw(s);
        let exited = |c: i32| ExitStatus::from_raw(c << 8);
        assert_eq!(
            describe_exit(signalled(libc::SIGXCPU), "", false, &policy).as_deref(),
            Some("CPU limit of 2s per call exceeded")
        );
        assert_eq!(
            describe_exit(exited(EXIT_CPU_LIMIT), "", false, &policy).as_deref(),
            Some("CPU limit of 2s per call exceeded")
        );
        assert_eq!(
            describe_exit(signalled(libc::SIGKILL), "", true, &policy).as_deref(),
            Some("memory limit of 512MiB exceeded")
        );
        let abort = "memory allocation of 1073741824 bytes failed\n";
        assert_eq!(
            describe_exit(signalled(libc::SIGABRT), abort, false, &policy).as_deref(),
            Some("memory limit of 512MiB exceeded")
        );
        assert_eq!(
            describe_exit(signalled(libc::SIGKILL), "", false, &policy),
            None
        );
        assert_eq!(
            describe_exit(signalled(libc::SIGSEGV), abort, true, &policy),
            None
        );
        assert_eq!(describe_exit(exited(1), "", false, &policy), None);
        let unlimited = Policy::new("/p.so");
        assert_eq!(
            describe_exit(signalled(libc::SIGXCPU), "", false, &unlimited),
            None
        );
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_bytes(1000), "1000 bytes");
    }
}
