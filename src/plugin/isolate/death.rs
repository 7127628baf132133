//! How an isolated plugin's child died, in words, and its last words: the crash error its
//! calls get, the cause read from its exit status and stderr, and the thread that keeps that
//! stderr.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::lock;
use crate::plugin::CallOutcome;

/// How many of a child's last stderr lines a crash report shows.
pub(crate) const STDERR_LINES: usize = 20;

/// The outcome of a call the plugin's child took down with it.
pub(crate) fn crashed(plugin: &str, cause: &str) -> CallOutcome {
    CallOutcome::Error {
        code: -32603,
        message: format!("plugin \"{plugin}\" crashed: {cause}"),
        data: Some(json!({"plugin": plugin, "cause": cause})),
    }
}

/// How a child ended, in words: the signal's name, or the exit status; the standard
/// library's last words name a stack overflow or a failed allocation.
pub(super) fn cause(status: Option<ExitStatus>, stderr: &[String]) -> String {
    let said = |needle: &str| stderr.iter().any(|l| l.contains(needle));
    let Some(status) = status else {
        return "it ended and could not be reaped".into();
    };
    let base = match (status.signal(), status.code()) {
        (Some(sig), _) => signal_name(sig),
        (None, Some(code)) => format!("exit status {code}"),
        (None, None) => status.to_string(),
    };
    let cpu_limit = status.signal() == Some(libc::SIGXCPU)
        || status.code() == Some(crate::sandbox::EXIT_CPU_LIMIT);
    if cpu_limit {
        // `sandbox::CpuWatch` ends the child this way (`--plugin-cpu-limit`).
        format!("CPU limit per call exceeded ({base})")
    } else if said("has overflowed its stack") {
        format!("stack overflow ({base})")
    } else if said("memory allocation of") && said("failed") {
        format!("out of memory ({base})")
    } else if status.signal() == Some(libc::SIGKILL) {
        format!("{base} (killed: the kernel's OOM killer, a limit, or an operator)")
    } else {
        base
    }
}

fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGSYS => "SIGSYS",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        _ => return format!("signal {sig}"),
    };
    name.to_owned()
}

/// Reads the child's stderr line by line: each goes to the host's log (info, with the plugin
/// named), the last [`STDERR_LINES`] stay for a crash report.
pub(super) fn forward_stderr(
    pipe: std::process::ChildStderr,
    plugin: String,
    pid: u32,
    (ring, done): (Arc<Mutex<VecDeque<String>>>, Arc<AtomicBool>),
) {
    let read = move || {
        let mut lines = BufReader::new(pipe);
        let mut line = String::new();
        while matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
            let text = line.trim_end().to_owned();
            line.clear();
            tracing::info!(plugin = %plugin, pid, "{text}");
            let mut ring = lock(&ring);
            if ring.len() == STDERR_LINES {
                ring.pop_front();
            }
            ring.push_back(text);
        }
        done.store(true, Ordering::SeqCst);
    };
    let _ = std::thread::Builder::new()
        .name("fastmcp-isolated-stderr".into())
        .spawn(read);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_name_the_signal_and_what_the_runtime_said() {
        let signalled = |sig: i32| Some(ExitStatus::from_raw(sig));
        assert_eq!(cause(signalled(libc::SIGSEGV), &[]), "SIGSEGV");
        assert_eq!(
            cause(signalled(libc::SIGXCPU), &[]),
            "CPU limit per call exceeded (SIGXCPU)"
        );
        let overflow = ["thread 'x' has overflowed its stack".to_string()];
        assert_eq!(
            cause(signalled(libc::SIGABRT), &overflow),
            "stack overflow (SIGABRT)"
        );
        let oom = ["memory allocation of 1125899906842624 bytes failed".to_string()];
        assert_eq!(
            cause(signalled(libc::SIGABRT), &oom),
            "out of memory (SIGABRT)"
        );
        assert_eq!(
            cause(Some(ExitStatus::from_raw(3 << 8)), &[]),
            "exit status 3"
        );
        assert!(cause(signalled(libc::SIGKILL), &[]).starts_with("SIGKILL (killed"));
    }
}
