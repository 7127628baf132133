//! One-shot commands run to completion (the `fastmcp` binary or any other tool), bounded in
//! time, with what they printed collected.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::bin;

/// How a finished `fastmcp` command ended and what it printed.
#[derive(Debug)]
pub struct Finished {
    /// How it ended (a signal, for example).
    pub status: std::process::ExitStatus,
    /// The exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

/// Runs `fastmcp ARGS` to completion (killed and failed after `timeout`).
pub fn run_bin(args: &[&str], env: &[(&str, &str)], timeout: Duration) -> Finished {
    let mut cmd = Command::new(bin());
    cmd.args(args).env_remove("PORT").env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_command(cmd, &format!("fastmcp {}", args.join(" ")), timeout)
}

/// Runs `cmd` to completion with no stdin, collecting what it prints (killed and failed after
/// `timeout`); `what` names it in that failure.
pub fn run_command(cmd: Command, what: &str, timeout: Duration) -> Finished {
    run_command_with_input(cmd, what, None, timeout)
}

/// [`run_command`] writing `input` (when given) to the command's stdin, then closing it.
pub fn run_command_with_input(
    mut cmd: Command,
    what: &str,
    input: Option<&str>,
    timeout: Duration,
) -> Finished {
    use std::io::{Read, Write};
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn `{what}`: {e}"));
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_string();
        // A thread, so a command that stops reading cannot block the test; dropping the pipe
        // closes stdin.
        std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
    }
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let Some(status) = exit_within(&mut child, timeout) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "`{what}` did not finish within {timeout:?}; stderr:\n{}",
            err.join().unwrap_or_default()
        );
    };
    Finished {
        status,
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Waits (bounded, polling) for `child` to exit; `None` if it still runs after `timeout`.
pub fn exit_within(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// The row of a table printed on stdout (as `fastmcp inspect` prints one) whose first word is
/// `name`; panics with the whole output when there is none.
pub fn table_row(stdout: &str, name: &str) -> String {
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name}:\n{stdout}"))
        .to_string()
}
