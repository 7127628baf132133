//! What `fastmcp probe` checks: the URL of the server's `/ready`, from `--url` or from the
//! same variables the server reads, and how long to wait.

use std::net::Ipv6Addr;
use std::time::Duration;

use super::parse::{parse_host, parse_port, parse_positive_duration};
use super::{Config, ConfigError, env_vars, get, read_env};
use crate::cli;

/// What `fastmcp probe` checks, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeConfig {
    /// The full URL, for messages.
    pub(crate) url: String,
    /// Host to connect to (an IPv6 address without brackets).
    pub(crate) host: String,
    /// Port to connect to.
    pub(crate) port: u16,
    /// Path and query to GET, starting with `/`.
    pub(crate) path: String,
    /// Give up (exit 1) after this long.
    pub(crate) timeout: Duration,
}

impl ProbeConfig {
    /// `--url`, else `http://{FASTMCP_HOST}:{FASTMCP_PORT or PORT}/ready` with the server's
    /// defaults; a wildcard bind address is probed on loopback. Timeout defaults to 5s.
    pub(crate) fn resolve(
        args: cli::ProbeArgs,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ProbeConfig, ConfigError> {
        let timeout = get(
            [("--timeout".into(), args.timeout)],
            Duration::from_secs(5),
            parse_positive_duration,
        )?;
        if let Some(url) = args.url {
            let (host, port, path) =
                parse_http_url(&url).map_err(|r| ConfigError::invalid("--url", &url, r))?;
            return Ok(ProbeConfig {
                url,
                host,
                port,
                path,
                timeout,
            });
        }
        let (e, plain) = read_env(env)?;
        let d = Config::default();
        let host = match get([("FASTMCP_HOST".into(), e.host)], d.host, parse_host)?.as_str() {
            "0.0.0.0" => "127.0.0.1".to_owned(),
            "::" => "::1".to_owned(),
            host => host.to_owned(),
        };
        let port_sources = [("FASTMCP_PORT".into(), e.port), ("PORT".into(), plain.port)];
        let port = get(port_sources, d.port, |s| match parse_port(s)? {
            0 => {
                Err("port 0 is picked by the OS at startup and cannot be probed; pass --url".into())
            }
            port => Ok(port),
        })?;
        let url = match host.parse::<Ipv6Addr>() {
            Ok(_) => format!("http://[{host}]:{port}/ready"),
            Err(_) => format!("http://{host}:{port}/ready"),
        };
        Ok(ProbeConfig {
            url,
            host,
            port,
            path: "/ready".into(),
            timeout,
        })
    }

    /// [`ProbeConfig::resolve`] with the process environment.
    pub fn from_env_and_args(args: cli::ProbeArgs) -> Result<ProbeConfig, ConfigError> {
        Self::resolve(args, env_vars())
    }
}

/// `http://host[:port][/path]` into (host without brackets, port, path).
fn parse_http_url(s: &str) -> Result<(String, u16, String), String> {
    const EXPECTED: &str =
        "expected an http:// URL like http://127.0.0.1:8080/ready (https is not supported)";
    let s = s.trim();
    let rest = s
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("http://"))
        .map(|_| &s[7..])
        .ok_or(EXPECTED)?;
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, path) = rest
        .find(['/', '?'])
        .map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, port) = v6.split_once(']').ok_or(EXPECTED)?;
            (host, port.strip_prefix(':'))
        }
        None => authority
            .split_once(':')
            .map_or((authority, None), |(h, p)| (h, Some(p))),
    };
    let port = port.map_or(Ok(80), |p| p.parse().map_err(|_| EXPECTED))?;
    if host.is_empty() || host.contains(['@', ' ']) {
        return Err(EXPECTED.into());
    }
    Ok((host.to_owned(), port, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn probe_targets() {
        let probe = |url: Option<&str>, vars: &[(&str, &str)]| {
            let args = cli::ProbeArgs {
                url: url.map(Into::into),
                timeout: None,
            };
            ProbeConfig::resolve(args, env(vars))
        };
        let p = probe(None, &[]).unwrap();
        assert_eq!(
            (p.url.as_str(), p.host.as_str(), p.port, p.path.as_str()),
            ("http://127.0.0.1:8080/ready", "127.0.0.1", 8080, "/ready")
        );
        assert_eq!(p.timeout, Duration::from_secs(5));
        assert_eq!(
            probe(None, &[("FASTMCP_HOST", "0.0.0.0"), ("PORT", "3000")])
                .unwrap()
                .url,
            "http://127.0.0.1:3000/ready"
        );
        assert_eq!(
            probe(None, &[("FASTMCP_HOST", "::")]).unwrap().url,
            "http://[::1]:8080/ready"
        );
        let p = probe(Some("http://[::1]:9/x?y=1"), &[]).unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.path.as_str()),
            ("::1", 9, "/x?y=1")
        );
        let p = probe(Some("HTTP://example.com"), &[]).unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.path.as_str()),
            ("example.com", 80, "/")
        );
        for bad in ["https://x/ready", "x:80", "http://:80/", "http://x:port/"] {
            let err = probe(Some(bad), &[]).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("invalid value {bad:?} for --url")),
                "{err}"
            );
        }
        let err = probe(None, &[("FASTMCP_PORT", "0")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("FASTMCP_PORT") && err.contains("pass --url"),
            "{err}"
        );
        let args = cli::ProbeArgs {
            url: None,
            timeout: Some("0".into()),
        };
        assert!(
            ProbeConfig::resolve(args, env(&[]))
                .unwrap_err()
                .to_string()
                .contains("--timeout")
        );
    }
}
