//! Validated configuration: what the program uses, resolved as flags > environment > defaults.
//!
//! [`crate::cli`] hands over raw strings; here each setting is picked from the first source
//! that has it (`--port`, then `FASTMCP_PORT`, then `PORT`, then the default) and parsed, so a
//! bad value is reported with the name of the flag or variable it came from. An empty
//! environment variable counts as unset. The environment is passed in as (name, value) pairs so
//! that tests never touch the process environment.

use std::fmt;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli;

/// A setting that could not be used. `main` prints it as `error: {err}` and exits with code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A flag or variable has a value we cannot use.
    #[error("invalid value {value:?} for {name}: {reason}")]
    Invalid {
        /// Where the value came from: `--port`, `FASTMCP_PORT`, `PORT`, …
        name: String,
        /// The value as given.
        value: String,
        /// What is wrong with it, and what would be right.
        reason: String,
    },
    /// `fastmcp dev` was given nothing to serve.
    #[error(
        "no plugin given: `fastmcp dev` needs at least one PLUGIN (a built .so/.dylib, a plugin crate directory or its Cargo.toml)"
    )]
    NoPlugins,
    /// The environment could not be read at all.
    #[error("cannot read the environment: {0}")]
    Env(String),
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] for `value` of `name` (a flag or variable name).
    pub fn invalid(name: &str, value: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            name: name.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

/// How MCP messages reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// MCP Streamable HTTP on `host:port` + `endpoint`.
    HttpStream,
    /// Newline-delimited JSON-RPC on stdin/stdout (logs go to stderr).
    Stdio,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// One PLUGIN argument, classified by its shape (existence is checked later by the loader).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// A built shared library, loaded as is.
    Library(PathBuf),
    /// A plugin crate, built with cargo before it is loaded (and rebuilt when it changes).
    Crate {
        /// The crate's `Cargo.toml`.
        manifest_path: PathBuf,
    },
}

/// Everything `fastmcp dev` needs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// What to serve, in the order given.
    pub plugins: Vec<PluginSource>,
    /// Cargo profile for [`PluginSource::Crate`]s: as given, except `debug` becomes `dev`.
    pub profile: String,
    /// HTTP or stdio.
    pub transport: Transport,
    /// Address to bind (an IPv6 address without brackets).
    pub host: String,
    /// Port to bind; 0 lets the OS pick one.
    pub port: u16,
    /// Path of the MCP endpoint; starts with `/` and is none of the health routes.
    pub endpoint: String,
    /// Serve without sessions.
    pub stateless: bool,
    /// Accepted `Host` names, lowercased; empty = loopback names only; `*` = any.
    pub allowed_hosts: Vec<String>,
    /// Accepted `Origin`s, lowercased without trailing slash; empty = loopback only; `*` = any.
    pub allowed_origins: Vec<String>,
    /// Time limit of one tool call; never zero.
    pub tool_timeout: Duration,
    /// Request body cap; never zero.
    pub max_body_bytes: usize,
    /// A session without requests for this long is dropped; never zero.
    pub session_idle_timeout: Duration,
    /// How long shutdown waits for in-flight requests before it gives up on them.
    pub shutdown_timeout: Duration,
    /// Pretty or JSON logs.
    pub log_format: LogFormat,
    /// A `tracing_subscriber::EnvFilter` directive string, already checked to parse.
    pub log_filter: String,
    /// Rebuild and reload plugins when their files change.
    pub watch: bool,
}

impl Default for Config {
    /// The defaults, with no plugins.
    fn default() -> Self {
        Self {
            plugins: Vec::new(),
            profile: "release".into(),
            transport: Transport::HttpStream,
            host: "127.0.0.1".into(),
            port: 8080,
            endpoint: "/mcp".into(),
            stateless: false,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            tool_timeout: Duration::from_secs(60),
            max_body_bytes: 4 * 1024 * 1024,
            session_idle_timeout: Duration::from_secs(30 * 60),
            shutdown_timeout: Duration::from_secs(10),
            log_format: LogFormat::Pretty,
            log_filter: "info".into(),
            watch: true,
        }
    }
}

/// The `FASTMCP_*` variables, as read by `envy` (names lowercased, prefix stripped).
#[derive(Debug, Default, Deserialize)]
struct RawEnv {
    transport: Option<String>,
    host: Option<String>,
    port: Option<String>,
    endpoint: Option<String>,
    stateless: Option<String>,
    allowed_hosts: Option<String>,
    allowed_origins: Option<String>,
    tool_timeout: Option<String>,
    max_body_bytes: Option<String>,
    session_idle_timeout: Option<String>,
    shutdown_timeout: Option<String>,
    log_format: Option<String>,
    log: Option<String>,
    watch: Option<String>,
    profile: Option<String>,
}

/// The unprefixed variables we honour as fallbacks (`PORT` is what PaaS platforms set).
#[derive(Debug, Default, Deserialize)]
struct PlainEnv {
    port: Option<String>,
    rust_log: Option<String>,
}

fn read_env(
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(RawEnv, PlainEnv), ConfigError> {
    let vars: Vec<_> = env
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let plain_vars = vars
        .iter()
        .filter(|(k, _)| k == "PORT" || k == "RUST_LOG")
        .cloned();
    let raw = envy::prefixed("FASTMCP_").from_iter(vars.iter().cloned());
    let plain = envy::from_iter(plain_vars);
    raw.and_then(|raw| Ok((raw, plain?)))
        .map_err(|e| ConfigError::Env(e.to_string()))
}

/// The process environment as (name, value) pairs; non-UTF-8 names are skipped, values converted lossily.
pub fn env_vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
        .collect()
}

/// Parses the value of the first source that has one (sources in priority order: flag, then
/// variables), or returns `default` when none has. Errors name the source.
fn get<T, const N: usize>(
    sources: [(String, Option<String>); N],
    default: T,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    match sources
        .into_iter()
        .find_map(|(name, value)| Some((name, value?)))
    {
        None => Ok(default),
        Some((name, value)) => parse(&value).map_err(|r| ConfigError::invalid(&name, &value, r)),
    }
}

/// `--tool-timeout` and `FASTMCP_TOOL_TIMEOUT` for the field `tool_timeout`.
fn flag_and_var(field: &str) -> (String, String) {
    let flag = format!("--{}", field.replace('_', "-"));
    (flag, format!("FASTMCP_{}", field.to_ascii_uppercase()))
}

/// A bool whose flag may be bare; its error explains that a bare flag swallows the next word.
fn parse_flag_bool(flag: &str) -> impl Fn(&str) -> Result<bool, String> {
    move |s| {
        parse_bool(s).map_err(|reason| {
            format!(
                "{reason}; a bare {flag} takes the next word as its value, \
                 so write {flag}=true before a PLUGIN"
            )
        })
    }
}

impl Config {
    /// Resolves flags > `env` > defaults. `env` is the process environment as (name, value)
    /// pairs, so tests can pass their own.
    pub fn resolve(
        args: cli::DevArgs,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let (e, plain) = read_env(env)?;
        let d = Config::default();
        // `--x-y` beats `FASTMCP_X_Y` beats the default; the names come from the field name.
        macro_rules! setting {
            ($field:ident, $parse:expr) => {{
                let (flag, var) = flag_and_var(stringify!($field));
                get([(flag, args.$field), (var, e.$field)], d.$field, $parse)?
            }};
        }
        macro_rules! bool_setting {
            ($field:ident) => {{
                let (flag, var) = flag_and_var(stringify!($field));
                match args.$field {
                    Some(v) => get([(flag.clone(), Some(v))], d.$field, parse_flag_bool(&flag))?,
                    None => get([(var, e.$field)], d.$field, parse_bool)?,
                }
            }};
        }
        let port_sources = [
            ("--port".into(), args.port),
            ("FASTMCP_PORT".into(), e.port),
            ("PORT".into(), plain.port),
        ];
        let log_sources = [
            ("FASTMCP_LOG".into(), e.log),
            ("RUST_LOG".into(), plain.rust_log),
        ];
        let config = Config {
            transport: setting!(transport, parse_transport),
            host: setting!(host, parse_host),
            port: get(port_sources, d.port, parse_port)?,
            endpoint: setting!(endpoint, parse_endpoint),
            stateless: bool_setting!(stateless),
            allowed_hosts: setting!(allowed_hosts, parse_allowed_hosts),
            allowed_origins: setting!(allowed_origins, parse_allowed_origins),
            tool_timeout: setting!(tool_timeout, parse_positive_duration),
            max_body_bytes: setting!(max_body_bytes, parse_body_limit),
            session_idle_timeout: setting!(session_idle_timeout, parse_positive_duration),
            shutdown_timeout: setting!(shutdown_timeout, parse_duration),
            log_format: setting!(log_format, parse_log_format),
            log_filter: get(log_sources, d.log_filter, parse_log_filter)?,
            watch: bool_setting!(watch),
            profile: setting!(profile, parse_profile),
            plugins: args
                .plugins
                .iter()
                .map(|p| PluginSource::from_arg(p))
                .collect(),
        };
        // Checked last: `dev --watch x.so` reads x.so as the value of --watch, and that error says so.
        if config.plugins.is_empty() {
            return Err(ConfigError::NoPlugins);
        }
        Ok(config)
    }

    /// [`Config::resolve`] with the process environment.
    pub fn from_env_and_args(args: cli::DevArgs) -> Result<Config, ConfigError> {
        Self::resolve(args, env_vars())
    }
}

/// The cargo profile for `inspect`/`call`: `--profile`, then `FASTMCP_PROFILE`, then `release`.
pub fn resolve_profile(
    flag: Option<String>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<String, ConfigError> {
    let (e, _) = read_env(env)?;
    let sources = [
        ("--profile".into(), flag),
        ("FASTMCP_PROFILE".into(), e.profile),
    ];
    get(sources, "release".into(), parse_profile)
}

/// The `--args` of `fastmcp call`: a JSON object.
pub fn parse_tool_args(
    json: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, ConfigError> {
    match serde_json::from_str(json) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ConfigError::invalid(
            "--args",
            json,
            r#"expected a JSON object like {"a": 1}"#,
        )),
        Err(e) => Err(ConfigError::invalid(
            "--args",
            json,
            format!("not valid JSON: {e}"),
        )),
    }
}

/// What `fastmcp probe` checks, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeConfig {
    /// The full URL, for messages.
    pub url: String,
    /// Host to connect to (an IPv6 address without brackets).
    pub host: String,
    /// Port to connect to.
    pub port: u16,
    /// Path and query to GET, starting with `/`.
    pub path: String,
    /// Give up (exit 1) after this long.
    pub timeout: Duration,
}

impl ProbeConfig {
    /// `--url`, else `http://{FASTMCP_HOST}:{FASTMCP_PORT or PORT}/ready` with the server's
    /// defaults; a wildcard bind address is probed on loopback. Timeout defaults to 5s.
    pub fn resolve(
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

impl PluginSource {
    /// Classifies a PLUGIN argument: a directory means its `Cargo.toml`, a path named
    /// `Cargo.toml` is a crate, anything else is a library.
    pub fn from_arg(path: &Path) -> PluginSource {
        if path.is_dir() {
            PluginSource::Crate {
                manifest_path: path.join("Cargo.toml"),
            }
        } else if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            PluginSource::Crate {
                manifest_path: path.to_owned(),
            }
        } else {
            PluginSource::Library(path.to_owned())
        }
    }

    /// The library or manifest path.
    pub fn path(&self) -> &Path {
        match self {
            PluginSource::Library(path)
            | PluginSource::Crate {
                manifest_path: path,
            } => path,
        }
    }
}

impl fmt::Display for PluginSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.path().display().fmt(f)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::HttpStream => "http-stream",
            Transport::Stdio => "stdio",
        })
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Pretty => "pretty",
            LogFormat::Json => "json",
        })
    }
}

const BOOL_REASON: &str = "expected true or false (also 1/0, yes/no, on/off)";
const DURATION_REASON: &str = "expected a duration like 30s, 500ms, 2m, 1h or a number of seconds";
const BYTES_REASON: &str = "expected a size like 4MiB, 512KiB, 1MB or a number of bytes";

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, case-insensitive. The error is a reason
/// for [`ConfigError::invalid`].
pub fn parse_bool(s: &str) -> Result<bool, String> {
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
pub fn parse_duration(s: &str) -> Result<Duration, String> {
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
pub fn parse_bytes(s: &str) -> Result<u64, String> {
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

fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        Duration::ZERO => Err("must be greater than 0".into()),
        d => Ok(d),
    }
}

fn parse_body_limit(s: &str) -> Result<usize, String> {
    match usize::try_from(parse_bytes(s)?) {
        Ok(0) => Err("must be greater than 0".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("too large".into()),
    }
}

fn parse_port(s: &str) -> Result<u16, String> {
    s.trim()
        .parse()
        .map_err(|_| "not a port number (0-65535)".into())
}

fn parse_transport(s: &str) -> Result<Transport, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "http-stream" | "httpstream" => Ok(Transport::HttpStream),
        "stdio" => Ok(Transport::Stdio),
        _ => Err("expected http-stream (or httpStream) or stdio".into()),
    }
}

fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err("expected pretty or json".into()),
    }
}

fn parse_log_filter(s: &str) -> Result<String, String> {
    let s = s.trim();
    match tracing_subscriber::EnvFilter::builder().parse(s) {
        Ok(_) => Ok(s.to_owned()),
        Err(e) => Err(format!(
            "not a log filter like info or info,fastmcp=debug: {e}"
        )),
    }
}

/// A host name or IP address to bind; `[::1]` loses its brackets.
fn parse_host(s: &str) -> Result<String, String> {
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
fn parse_endpoint(s: &str) -> Result<String, String> {
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

fn parse_allowed_hosts(s: &str) -> Result<Vec<String>, String> {
    let is_host = |e: &str| !e.contains('/') && !e.contains(char::is_whitespace);
    parse_list(
        s,
        is_host,
        "expected comma-separated host names like example.com, or *",
    )
}

fn parse_allowed_origins(s: &str) -> Result<Vec<String>, String> {
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
fn parse_profile(s: &str) -> Result<String, String> {
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
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn dev_args(argv: &[&str]) -> cli::DevArgs {
        let argv = ["fastmcp", "dev"].iter().chain(argv);
        match Cli::try_parse_from(argv).expect("argv parses").command {
            Command::Dev(args) => args,
            other => panic!("expected dev, got {other:?}"),
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn resolve(argv: &[&str], vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::resolve(dev_args(argv), env(vars))
    }

    fn lib(path: &str) -> PluginSource {
        PluginSource::Library(path.into())
    }

    #[test]
    fn defaults() {
        let config = resolve(&["x.so"], &[("HOME", "/root")]).unwrap();
        let expected = Config {
            plugins: vec![lib("x.so")],
            ..Config::default()
        };
        assert_eq!(config, expected);
        assert_eq!(config.max_body_bytes, 4_194_304);
        assert_eq!(config.session_idle_timeout, Duration::from_secs(1800));
    }

    #[test]
    fn env_beats_defaults_and_every_flag_beats_its_env_var() {
        let vars = [
            ("FASTMCP_TRANSPORT", "stdio"),
            ("FASTMCP_HOST", "0.0.0.0"),
            ("FASTMCP_PORT", "9000"),
            ("FASTMCP_ENDPOINT", "/env"),
            ("FASTMCP_STATELESS", "on"),
            ("FASTMCP_ALLOWED_HOSTS", "Env.Example"),
            ("FASTMCP_ALLOWED_ORIGINS", "https://Env.Example/"),
            ("FASTMCP_TOOL_TIMEOUT", "5"),
            ("FASTMCP_MAX_BODY_BYTES", "1MB"),
            ("FASTMCP_SESSION_IDLE_TIMEOUT", "1h"),
            ("FASTMCP_SHUTDOWN_TIMEOUT", "0"),
            ("FASTMCP_LOG_FORMAT", "json"),
            ("FASTMCP_LOG", "debug"),
            ("RUST_LOG", "trace"),
            ("FASTMCP_WATCH", "no"),
            ("FASTMCP_PROFILE", "debug"),
        ];
        let from_env = resolve(&["x.so"], &vars).unwrap();
        let expected_env = Config {
            plugins: vec![lib("x.so")],
            profile: "dev".into(),
            transport: Transport::Stdio,
            host: "0.0.0.0".into(),
            port: 9000,
            endpoint: "/env".into(),
            stateless: true,
            allowed_hosts: vec!["env.example".into()],
            allowed_origins: vec!["https://env.example".into()],
            tool_timeout: Duration::from_secs(5),
            max_body_bytes: 1_000_000,
            session_idle_timeout: Duration::from_secs(3600),
            shutdown_timeout: Duration::ZERO,
            log_format: LogFormat::Json,
            log_filter: "debug".into(),
            watch: false,
        };
        assert_eq!(from_env, expected_env);

        let flags = [
            "--transport=http-stream",
            "--host=::1",
            "--port=0",
            "--endpoint=/flag",
            "--stateless=false",
            "--allowed-hosts=*",
            "--allowed-origins=http://localhost:3000",
            "--tool-timeout=500ms",
            "--max-body-bytes=512KiB",
            "--session-idle-timeout=2m",
            "--shutdown-timeout=3s",
            "--log-format=pretty",
            "--watch=true",
            "--profile=bench",
            "x.so",
        ];
        let from_flags = resolve(&flags, &vars).unwrap();
        let expected_flags = Config {
            profile: "bench".into(),
            transport: Transport::HttpStream,
            host: "::1".into(),
            port: 0,
            endpoint: "/flag".into(),
            stateless: false,
            allowed_hosts: vec!["*".into()],
            allowed_origins: vec!["http://localhost:3000".into()],
            tool_timeout: Duration::from_millis(500),
            max_body_bytes: 512 * 1024,
            session_idle_timeout: Duration::from_secs(120),
            shutdown_timeout: Duration::from_secs(3),
            log_format: LogFormat::Pretty,
            watch: true,
            ..expected_env
        };
        assert_eq!(from_flags, expected_flags);
    }

    #[test]
    fn port_and_log_filter_fallbacks() {
        let port = |vars: &[(&str, &str)]| resolve(&["x.so"], vars).unwrap().port;
        assert_eq!(port(&[("FASTMCP_PORT", "9000"), ("PORT", "7000")]), 9000);
        assert_eq!(port(&[("PORT", "7000")]), 7000);
        assert_eq!(
            port(&[("FASTMCP_PORT", ""), ("PORT", "7000")]),
            7000,
            "empty = unset"
        );
        let filter = |vars: &[(&str, &str)]| resolve(&["x.so"], vars).unwrap().log_filter;
        assert_eq!(
            filter(&[("RUST_LOG", "warn,fastmcp=debug")]),
            "warn,fastmcp=debug"
        );
        assert_eq!(
            filter(&[("FASTMCP_LOG", "error"), ("RUST_LOG", "warn")]),
            "error"
        );
    }

    #[test]
    fn bare_bool_flags_mean_true() {
        assert!(
            resolve(&["a.so", "b.so", "--stateless"], &[])
                .unwrap()
                .stateless
        );
        let config = resolve(&["--stateless", "true", "x.so"], &[]).unwrap();
        assert!(config.stateless);
        assert_eq!(config.plugins, [lib("x.so")]);
        assert!(
            !resolve(&["--stateless", "false", "x.so"], &[])
                .unwrap()
                .stateless
        );
        let vars = [("FASTMCP_WATCH", "false")];
        assert!(resolve(&["x.so", "--watch"], &vars).unwrap().watch);
        for (word, value) in [("TRUE", true), ("1", true), ("Yes", true), ("off", false)] {
            assert_eq!(parse_bool(word), Ok(value), "{word}");
        }
    }

    #[test]
    fn a_bare_flag_before_a_plugin_explains_itself() {
        let err = resolve(&["--watch", "x.so"], &[]).unwrap_err().to_string();
        assert!(err.starts_with(r#"invalid value "x.so" for --watch: expected true or false"#));
        assert!(err.contains("write --watch=true before a PLUGIN"), "{err}");
        let err = resolve(&["--port", "1"], &[]).unwrap_err();
        assert!(matches!(err, ConfigError::NoPlugins), "{err}");
    }

    #[test]
    fn every_bad_value_names_its_source_and_value() {
        let cases = [
            (
                "transport",
                "http",
                "expected http-stream (or httpStream) or stdio",
            ),
            ("host", "localhost:80", "without a port"),
            ("host", "http://x", "expected a host name or IP address"),
            ("port", "abc", "not a port number (0-65535)"),
            ("port", "65536", "not a port number (0-65535)"),
            ("endpoint", "mcp", "must start with `/`"),
            ("endpoint", "/ready", "reserved for the health routes"),
            ("endpoint", "/health", "reserved"),
            ("endpoint", "/metrics/", "reserved"),
            ("endpoint", "/mcp?x", "plain path"),
            (
                "stateless",
                "maybe",
                "expected true or false (also 1/0, yes/no, on/off)",
            ),
            ("watch", "2", "expected true or false"),
            (
                "allowed_hosts",
                "a.com,http://b.com",
                r#"host names like example.com, or *; "http://b.com""#,
            ),
            (
                "allowed_origins",
                "localhost:3000",
                "origins like http://localhost:3000",
            ),
            ("allowed_origins", "http://a.com/path", "no path"),
            ("tool_timeout", "0", "must be greater than 0"),
            ("tool_timeout", "10x", "expected a duration like 30s"),
            ("max_body_bytes", "0", "must be greater than 0"),
            ("max_body_bytes", "4 lots", "expected a size like 4MiB"),
            ("max_body_bytes", "99999999999GiB", "too large"),
            ("session_idle_timeout", "0s", "must be greater than 0"),
            ("shutdown_timeout", "-1", "expected a duration"),
            ("log_format", "xml", "expected pretty or json"),
            ("profile", "my profile", "expected a cargo profile name"),
        ];
        for (field, bad, reason) in cases {
            let (flag, var) = flag_and_var(field);
            let want = |name: &str| format!("invalid value {bad:?} for {name}: ");
            let err = resolve(&[&format!("{flag}={bad}"), "x.so"], &[])
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&want(&flag)) && err.contains(reason),
                "{flag}: {err}"
            );
            let err = resolve(&["x.so"], &[(&var, bad)]).unwrap_err().to_string();
            assert!(
                err.starts_with(&want(&var)) && err.contains(reason),
                "{var}: {err}"
            );
        }
        let err = resolve(&["x.so"], &[("PORT", "http")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            r#"invalid value "http" for PORT: not a port number (0-65535)"#
        );
        let err = resolve(&["x.so"], &[("RUST_LOG", "foo=loud")])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(r#"invalid value "foo=loud" for RUST_LOG: not a log filter"#));
    }

    #[test]
    fn transports() {
        for (word, transport) in [
            ("http-stream", Transport::HttpStream),
            ("httpStream", Transport::HttpStream),
            ("stdio", Transport::Stdio),
        ] {
            assert_eq!(parse_transport(word), Ok(transport), "{word}");
            assert_eq!(
                resolve(&["--transport", word, "x"], &[]).unwrap().transport,
                transport
            );
        }
    }

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

    #[test]
    fn plugin_sources_are_classified() {
        let dir = tempfile::tempdir().unwrap();
        let krate = dir.path().join("calc");
        std::fs::create_dir(&krate).unwrap();
        let manifest = krate.join("Cargo.toml");
        assert_eq!(
            PluginSource::from_arg(&krate),
            PluginSource::Crate {
                manifest_path: manifest.clone()
            }
        );
        assert_eq!(
            PluginSource::from_arg(&manifest),
            PluginSource::Crate {
                manifest_path: manifest.clone()
            }
        );
        let so = dir.path().join("libcalc.so");
        assert_eq!(
            PluginSource::from_arg(&so),
            PluginSource::Library(so.clone())
        );
        let krate = krate.to_str().unwrap();
        let config = resolve(&["a.so", krate], &[]).unwrap();
        assert_eq!(
            config.plugins,
            [
                lib("a.so"),
                PluginSource::Crate {
                    manifest_path: manifest
                }
            ]
        );
    }

    #[test]
    fn profile_and_tool_args() {
        assert_eq!(resolve_profile(None, env(&[])).unwrap(), "release");
        assert_eq!(
            resolve_profile(None, env(&[("FASTMCP_PROFILE", "debug")])).unwrap(),
            "dev"
        );
        let vars = env(&[("FASTMCP_PROFILE", "x y")]);
        assert_eq!(
            resolve_profile(Some("dev".into()), vars.clone()).unwrap(),
            "dev"
        );
        assert!(
            resolve_profile(None, vars)
                .unwrap_err()
                .to_string()
                .contains("FASTMCP_PROFILE")
        );
        assert_eq!(parse_tool_args(r#"{"a": 1}"#).unwrap()["a"], 1);
        let err = parse_tool_args("[1]").unwrap_err().to_string();
        assert!(err.starts_with(r#"invalid value "[1]" for --args: expected a JSON object"#));
        assert!(
            parse_tool_args("{")
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
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
