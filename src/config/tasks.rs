//! Task limits ([`TaskLimits`]: `--max-tasks`, `--max-tasks-per-caller`, `--task-ttl`,
//! `--max-task-ttl`, `--task-poll-interval`): how many tasks the server holds and how long they
//! live. Resolved with the other settings in [`super::Config::resolve`] (flag > `FASTMCP_*` >
//! default); the parsers and the check that ties them together are here.

use std::time::Duration;

use super::ConfigError;
use super::parse::parse_positive_duration;

/// The largest `--max-tasks` (and `--max-tasks-per-caller`): a stored record each.
const MAX_TASKS: usize = 10_000_000;
/// The longest TTL a flag may grant: tasks are for long calls, not for storage.
const LONGEST_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// The longest poll interval a flag may suggest.
const LONGEST_POLL: Duration = Duration::from_secs(3600);

/// Bounds on tasks (`--max-tasks`, `--max-tasks-per-caller`, `--task-ttl`, `--max-task-ttl`,
/// `--task-poll-interval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskLimits {
    /// Live tasks one owner may hold.
    pub(crate) per_owner: usize,
    /// Live tasks in all.
    pub(crate) total: usize,
    /// The TTL of a task whose client asked for none (always, with 2026-07-28).
    pub(crate) default_ttl: Duration,
    /// The longest TTL granted; a longer request is cut to this.
    pub(crate) max_ttl: Duration,
    /// The `pollInterval` suggested to clients.
    pub(crate) poll_interval: Duration,
}

impl Default for TaskLimits {
    fn default() -> Self {
        TaskLimits {
            per_owner: 100,
            total: 10_000,
            default_ttl: Duration::from_secs(3600),
            max_ttl: Duration::from_secs(24 * 3600),
            poll_interval: Duration::from_millis(500),
        }
    }
}

pub(super) fn parse_max_tasks(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_TASKS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number of tasks from 1 to {MAX_TASKS}"
        )),
    }
}

pub(super) fn parse_task_ttl(s: &str) -> Result<Duration, String> {
    let ttl = parse_positive_duration(s)?;
    if ttl > LONGEST_TTL {
        return Err("must be at most 30 days".into());
    }
    // TTLs travel in whole milliseconds.
    if ttl < Duration::from_millis(1) {
        return Err("must be at least 1ms".into());
    }
    Ok(ttl)
}

pub(super) fn parse_poll_interval(s: &str) -> Result<Duration, String> {
    let poll = parse_positive_duration(s)?;
    if poll > LONGEST_POLL {
        return Err("must be at most 1h".into());
    }
    Ok(poll)
}

/// The checks between settings: the default TTL within the longest, one caller's share within
/// the total. Named by the flags, whichever source each value came from.
pub(super) fn check(limits: &TaskLimits) -> Result<(), ConfigError> {
    if limits.default_ttl > limits.max_ttl {
        return Err(ConfigError::invalid(
            "--task-ttl",
            &format!("{:?}", limits.default_ttl),
            format!(
                "must not exceed --max-task-ttl ({:?}): the default TTL is one the server grants",
                limits.max_ttl
            ),
        ));
    }
    if limits.per_owner > limits.total {
        return Err(ConfigError::invalid(
            "--max-tasks-per-caller",
            &limits.per_owner.to_string(),
            format!("must not exceed --max-tasks ({})", limits.total),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::tests::resolve;

    #[test]
    fn defaults_flags_and_variables() {
        assert_eq!(
            resolve(&["x.so"], &[]).unwrap().tasks,
            TaskLimits::default()
        );
        let vars = [
            ("FASTMCP_MAX_TASKS", "50"),
            ("FASTMCP_MAX_TASKS_PER_CALLER", "5"),
            ("FASTMCP_TASK_TTL", "10m"),
            ("FASTMCP_MAX_TASK_TTL", "2h"),
            ("FASTMCP_TASK_POLL_INTERVAL", "2s"),
        ];
        let want = TaskLimits {
            per_owner: 5,
            total: 50,
            default_ttl: Duration::from_secs(600),
            max_ttl: Duration::from_secs(7200),
            poll_interval: Duration::from_secs(2),
        };
        assert_eq!(resolve(&["x.so"], &vars).unwrap().tasks, want);
        let flags = [
            "--max-tasks-per-caller=2",
            "--task-poll-interval",
            "250ms",
            "x.so",
        ];
        let got = resolve(&flags, &vars).unwrap().tasks;
        assert_eq!(
            got,
            TaskLimits {
                per_owner: 2,
                poll_interval: Duration::from_millis(250),
                ..want
            }
        );
    }

    #[test]
    fn bad_values_and_contradictions_name_their_flags() {
        let cases = [
            (
                "--max-tasks=0",
                "invalid value \"0\" for --max-tasks: expected a whole number of tasks from 1 to 10000000",
            ),
            (
                "--max-tasks-per-caller=many",
                "invalid value \"many\" for --max-tasks-per-caller: expected a whole number",
            ),
            (
                "--task-ttl=0",
                "invalid value \"0\" for --task-ttl: must be greater than 0",
            ),
            (
                "--max-task-ttl=90d",
                "invalid value \"90d\" for --max-task-ttl: expected a duration",
            ),
            (
                "--max-task-ttl=1000h",
                "invalid value \"1000h\" for --max-task-ttl: must be at most 30 days",
            ),
            (
                "--task-poll-interval=2h",
                "invalid value \"2h\" for --task-poll-interval: must be at most 1h",
            ),
        ];
        for (flag, want) in cases {
            let err = resolve(&[flag, "x.so"], &[]).unwrap_err().to_string();
            assert!(err.starts_with(want), "{flag}: {err}");
        }
        let err = resolve(&["--task-ttl=3h", "--max-task-ttl=2h", "x.so"], &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--task-ttl") && err.contains("--max-task-ttl"),
            "{err}"
        );
        let err = resolve(&["x.so"], &[("FASTMCP_MAX_TASKS", "3")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "invalid value \"100\" for --max-tasks-per-caller: must not exceed --max-tasks (3)"
            ),
            "{err}"
        );
        let err = resolve(&["x.so"], &[("FASTMCP_TASK_TTL", "soon")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid value \"soon\" for FASTMCP_TASK_TTL"),
            "{err}"
        );
    }
}
