//! The value parsers behind [`super::Config`]: each takes the text of one flag or variable and
//! returns the value or a reason, which the caller wraps in
//! [`ConfigError::invalid`](super::ConfigError::invalid) with the name of the source.

use std::net::Ipv6Addr;
use std::time::Duration;

use super::{LogFormat, Transport};

const BOOL_REASON: &str = "expected true or false (also 1/0, yes/no, on/off)";
const DURATION_REASON: &str = "expected a duration like 30s, 500ms, 2m, 1h or a number of seconds";
const BYTES_REASON: &str = "expected a size like 4MiB, 512KiB, 1MB or a number of bytes";

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, case-insensitive. The error is a reason
/// for [`ConfigError::invalid`](super::ConfigError::invalid).
pub(crate) fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(BOOL_REASON.into()),
    }
}

/// Splits `"512 KiB"` into `(512, "kib")`.
fn number_and_unit(s: &str) -> Option<(u64, String)> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let number = s[..digits].parse().ok()?;
    Some((number, s[digits..].trim().to_ascii_lowercase()))
}

/// `500ms`, `30s`, `2m`, `1h`, or a bare number of seconds. Zero is allowed here.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let (n, unit) = number_and_unit(s).ok_or(DURATION_REASON)?;
    let secs = |factor: u64| n.checked_mul(factor).map(Duration::from_secs);
    match unit.as_str() {
        "ms" => Some(Duration::from_millis(n)),
        "" | "s" | "sec" | "secs" => secs(1),
        "m" | "min" | "mins" => secs(60),
        "h" => secs(3600),
        _ => None,
    }
    .ok_or_else(|| DURATION_REASON.into())
}

/// A number of bytes, optionally with a unit: `B`, `KB`/`MB`/`GB` (powers of 1000),
/// `KiB`/`MiB`/`GiB` or `K`/`M`/`G` (powers of 1024); case-insensitive. Zero is allowed here.
pub(crate) fn parse_bytes(s: &str) -> Result<u64, String> {
    let (n, unit) = number_and_unit(s).ok_or(BYTES_REASON)?;
    let factor: u64 = match unit.as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000 * 1000,
        "gb" => 1000 * 1000 * 1000,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => return Err(BYTES_REASON.into()),
    };
    n.checked_mul(factor).ok_or_else(|| "too large".into())
}

pub(super) fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        Duration::ZERO => Err("must be greater than 0".into()),
        d => Ok(d),
    }
}

pub(super) fn parse_body_limit(s: &str) -> Result<usize, String> {
    match usize::try_from(parse_bytes(s)?) {
        Ok(0) => Err("must be greater than 0".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("too large".into()),
    }
}

/// The largest `--max-blocking-calls`: a thread each, so a typo cannot ask for a million.
pub(super) const MAX_BLOCKING_CALLS: usize = 4096;

pub(super) fn parse_max_blocking_calls(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_BLOCKING_CALLS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number of calls from 1 to {MAX_BLOCKING_CALLS}"
        )),
    }
}

pub(super) fn parse_port(s: &str) -> Result<u16, String> {
    s.trim()
        .parse()
        .map_err(|_| "not a port number (0-65535)".into())
}

pub(super) fn parse_transport(s: &str) -> Result<Transport, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "http-stream" | "httpstream" => Ok(Transport::HttpStream),
        "stdio" => Ok(Transport::Stdio),
        _ => Err("expected http-stream (or httpStream) or stdio".into()),
    }
}

pub(super) fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err("expected pretty or json".into()),
    }
}

/// A log filter: comma-separated directives, each a level (the default) or `target=level`,
/// such as `info` or `warn,fastmcp::calls=debug`.
///
/// Stricter than `Targets` alone, which takes any other word as the name of a target to log at
/// every level, with everything else off: `verbose`, `debg` or `info;debug` would silently turn
/// off all logging, compile errors of the dev loop included.
pub(super) fn parse_log_filter(s: &str) -> Result<String, String> {
    let s = s.trim();
    let invalid = |why: String| format!("not a log filter like info or info,fastmcp=debug: {why}");
    for directive in s.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let (target, level) = match directive.split_once('=') {
            Some((target, level)) => (Some(target.trim()), level.trim()),
            None => (None, directive),
        };
        if let Some(target) = target
            && !is_log_target(target)
        {
            return Err(invalid(format!(
                "{target:?} is not a target (a module path like fastmcp::calls)"
            )));
        }
        // `LevelFilter` reads an empty level as `error`; a directive must name one.
        if level.is_empty()
            || level
                .parse::<tracing::level_filters::LevelFilter>()
                .is_err()
        {
            return Err(invalid(format!(
                "{directive:?} is neither a level (trace, debug, info, warn, error, off) \
                 nor target=level"
            )));
        }
    }
    match s.parse::<tracing_subscriber::filter::Targets>() {
        Ok(_) => Ok(s.to_owned()),
        Err(e) => Err(invalid(e.to_string())),
    }
}

/// A module path: words of letters, digits, `_` and `-`, separated by `::`.
fn is_log_target(target: &str) -> bool {
    target.split("::").all(|word| {
        !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

/// A host name or IP address to bind; `[::1]` loses its brackets.
pub(super) fn parse_host(s: &str) -> Result<String, String> {
    let s = s.trim();
    let unbracketed = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(s);
    if unbracketed.parse::<Ipv6Addr>().is_ok() {
        return Ok(unbracketed.to_owned());
    }
    if s.is_empty() || s.contains(['/', '[', ']']) || s.contains(char::is_whitespace) {
        return Err("expected a host name or IP address like 127.0.0.1 or 0.0.0.0".into());
    }
    if s.contains(':') {
        return Err(
            "expected a host name or IP address without a port (the port is a separate setting)"
                .into(),
        );
    }
    Ok(s.to_owned())
}

/// The MCP endpoint path: must not shadow the health routes.
pub(super) fn parse_endpoint(s: &str) -> Result<String, String> {
    let s = s.trim();
    if !s.starts_with('/') {
        return Err("must start with `/`, like /mcp".into());
    }
    if s.contains(['?', '#']) || s.contains(char::is_whitespace) {
        return Err("must be a plain path, without query, fragment or spaces".into());
    }
    if matches!(s.trim_end_matches('/'), "/health" | "/ready" | "/metrics") {
        return Err("is reserved for the health routes (/health, /ready, /metrics)".into());
    }
    Ok(s.to_owned())
}

/// Splits a comma-separated list, trimming and lowercasing entries and dropping empty ones.
fn parse_list(
    s: &str,
    check: impl Fn(&str) -> bool,
    expected: &str,
) -> Result<Vec<String>, String> {
    let entries = s
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty());
    entries
        .map(|e| {
            if check(&e) {
                Ok(e)
            } else {
                Err(format!("{expected}; {e:?} is not one"))
            }
        })
        .collect()
}

pub(super) fn parse_allowed_hosts(s: &str) -> Result<Vec<String>, String> {
    let is_host = |e: &str| !e.contains('/') && !e.contains(char::is_whitespace);
    parse_list(
        s,
        is_host,
        "expected comma-separated host names like example.com, or *",
    )
}

pub(super) fn parse_allowed_origins(s: &str) -> Result<Vec<String>, String> {
    let s = s
        .split(',')
        .map(|e| e.trim().trim_end_matches('/'))
        .collect::<Vec<_>>()
        .join(",");
    let is_origin = |e: &str| {
        e == "*"
            || e.split_once("://").is_some_and(|(scheme, authority)| {
                !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                    && !authority.is_empty()
                    && !authority.contains(['/', '?', '#'])
                    && !authority.contains(char::is_whitespace)
            })
    };
    parse_list(
        &s,
        is_origin,
        "expected comma-separated origins like http://localhost:3000 (scheme://host[:port], no path), or *",
    )
}

/// A cargo profile name; `debug` is cargo's `dev` (whose output dir is `target/debug`).
pub(super) fn parse_profile(s: &str) -> Result<String, String> {
    match s.trim() {
        "debug" => Ok("dev".into()),
        p if !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Ok(p.into())
        }
        _ => Err("expected a cargo profile name like release or dev".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        for (text, ms) in [
            ("30s", 30_000),
            ("500ms", 500),
            ("2m", 120_000),
            ("7", 7_000),
            ("1h", 3_600_000),
            (" 5 s ", 5_000),
            ("0", 0),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for bad in ["", "s", "1.5s", "-1s", "10d", "99999999999999999999"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        for (text, bytes) in [
            ("1024", 1024),
            ("4MiB", 4 << 20),
            ("512KiB", 512 << 10),
            ("1MB", 1_000_000),
            ("2k", 2048),
            ("1 gb", 1_000_000_000),
            ("10B", 10),
        ] {
            assert_eq!(parse_bytes(text), Ok(bytes), "{text}");
        }
        for bad in ["", "MiB", "1.5MiB", "-4", "4TiB"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_are_lowercased_and_trimmed() {
        assert_eq!(
            parse_allowed_hosts(" A.com , ,b.COM:8080 ").unwrap(),
            ["a.com", "b.com:8080"]
        );
        assert_eq!(parse_allowed_hosts("").unwrap(), Vec::<String>::new());
        let origins =
            parse_allowed_origins("HTTP://LocalHost:3000/, https://[::1]:8443,*").unwrap();
        assert_eq!(
            origins,
            ["http://localhost:3000", "https://[::1]:8443", "*"]
        );
    }
}
