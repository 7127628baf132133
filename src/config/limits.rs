//! Connection and session limits: how long a connection may take to send its request, how many
//! connections and sessions the server holds at once. Resolved with the other settings in
//! [`super::Config::resolve`] (flag > `FASTMCP_*` > default); the parsers are here.

use std::time::Duration;

/// What one client may hold: time (per connection) and room (connections, sessions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Limits {
    /// A request head (request line and headers) must arrive within this, counted from the
    /// connection's accept or from the first byte of a later request on it.
    pub(crate) header_timeout: Duration,
    /// A request body must arrive within this, counted from the end of its head.
    pub(crate) body_timeout: Duration,
    /// A keep-alive connection with no request in flight is closed after this. A connection
    /// that is answering (a call running, an SSE stream open) is never idle.
    pub(crate) idle_timeout: Duration,
    /// Most connections served at once; past it new ones are refused, except a few for
    /// `/health` and `/ready` (`server::accept`). Lowered at startup to fit `RLIMIT_NOFILE`.
    pub(crate) max_connections: usize,
    /// Most stateful sessions this instance holds; `initialize` past it gets 503.
    pub(crate) max_sessions: usize,
}

/// The default `--max-sessions`.
pub(crate) const DEFAULT_MAX_SESSIONS: usize = 10_000;
/// The largest `--max-connections`: a file descriptor and some memory each.
const MAX_CONNECTIONS: usize = 1 << 20;
/// The largest `--max-sessions`: about 1 KiB each when idle.
const MAX_SESSIONS: usize = 10_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_sessions: DEFAULT_MAX_SESSIONS,
        }
    }
}

fn whole_number(s: &str, what: &str, max: usize) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number of {what} from 1 to {max}")),
    }
}

pub(super) fn parse_max_connections(s: &str) -> Result<usize, String> {
    whole_number(s, "connections", MAX_CONNECTIONS)
}

pub(super) fn parse_max_sessions(s: &str) -> Result<usize, String> {
    whole_number(s, "sessions", MAX_SESSIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::tests::resolve;

    #[test]
    fn defaults_flags_and_variables() {
        let d = resolve(&["x.so"], &[]).unwrap().limits;
        assert_eq!(d, Limits::default());
        let vars = [
            ("FASTMCP_HEADER_TIMEOUT", "2s"),
            ("FASTMCP_BODY_TIMEOUT", "3s"),
            ("FASTMCP_IDLE_TIMEOUT", "4m"),
            ("FASTMCP_MAX_CONNECTIONS", "100"),
            ("FASTMCP_MAX_SESSIONS", "5"),
        ];
        let from_env = resolve(&["x.so"], &vars).unwrap().limits;
        assert_eq!(
            from_env,
            Limits {
                header_timeout: Duration::from_secs(2),
                body_timeout: Duration::from_secs(3),
                idle_timeout: Duration::from_secs(240),
                max_connections: 100,
                max_sessions: 5,
            }
        );
        let flags = [
            "--header-timeout=500ms",
            "--body-timeout",
            "1m",
            "--idle-timeout=90",
            "--max-connections=7",
            "--max-sessions",
            "1",
            "x.so",
        ];
        let from_flags = resolve(&flags, &vars).unwrap().limits;
        assert_eq!(
            from_flags,
            Limits {
                header_timeout: Duration::from_millis(500),
                body_timeout: Duration::from_secs(60),
                idle_timeout: Duration::from_secs(90),
                max_connections: 7,
                max_sessions: 1,
            }
        );
    }

    #[test]
    fn bad_values_name_their_source() {
        let cases = [
            (
                "--header-timeout=0",
                "invalid value \"0\" for --header-timeout: must be greater than 0",
            ),
            (
                "--body-timeout=soon",
                "invalid value \"soon\" for --body-timeout: expected a duration",
            ),
            (
                "--idle-timeout=-1s",
                "invalid value \"-1s\" for --idle-timeout: expected a duration",
            ),
            (
                "--max-connections=0",
                "invalid value \"0\" for --max-connections: expected a whole number of connections from 1 to 1048576",
            ),
            (
                "--max-sessions=lots",
                "invalid value \"lots\" for --max-sessions: expected a whole number of sessions from 1 to 10000000",
            ),
        ];
        for (flag, want) in cases {
            let err = resolve(&[flag, "x.so"], &[]).unwrap_err().to_string();
            assert!(err.starts_with(want), "{flag}: {err}");
        }
        let err = resolve(&["x.so"], &[("FASTMCP_MAX_SESSIONS", "1e3")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid value \"1e3\" for FASTMCP_MAX_SESSIONS"),
            "{err}"
        );
    }
}
