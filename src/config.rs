//! Validated configuration: what the program uses, resolved as flags > environment > defaults.
//!
//! [`crate::cli`] hands over raw strings; here each setting is picked from the first source
//! that has it (`--port`, then `FASTMCP_PORT`, then `PORT`, then the default) and parsed, so a
//! bad value is reported with the name of the flag or variable it came from. An empty
//! environment variable counts as unset. The environment is passed in as (name, value) pairs so
//! that tests never touch the process environment.
//!
//! - `parse`: the value parsers (booleans, durations, sizes, hosts, ports, endpoints, lists);
//!   [`parse_bool`] and [`parse_duration`] are re-exported here.
//! - `env`: the `FASTMCP_*` variables and the unprefixed fallbacks, read from (name, value) pairs.
//! - `settings`: one setting from the first of its sources, and the settings that hold secrets.
//! - `probe`: what `fastmcp probe` checks ([`ProbeConfig`]).
//! - `limits`: connection timeouts and the connection and session caps ([`Limits`]).
//! - `sandbox`: the sandbox and limits of isolated plugins ([`SandboxSettings`]).
//! - `tests`: the resolvers' tests (precedence, fallbacks, error messages).

mod env;
mod isolation;
mod limits;
mod parse;
mod probe;
mod sandbox;
mod settings;
mod tasks;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::auth::{AuthConfig, AuthSources};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli;
pub(crate) use crate::plugin::isolate::{CrashLoop, Isolation};
pub use env::env_vars;
use env::read_env;
pub use isolation::resolve_isolate;
use isolation::{check_isolated_names, parse_crash_loop};
pub(crate) use limits::{DEFAULT_MAX_SESSIONS, Limits};
use parse::{
    parse_allowed_hosts, parse_allowed_origins, parse_body_limit, parse_endpoint, parse_host,
    parse_log_filter, parse_log_format, parse_max_blocking_calls, parse_port,
    parse_positive_duration, parse_profile, parse_transport,
};
pub(crate) use parse::{parse_bool, parse_duration};
pub use probe::ProbeConfig;
pub(crate) use sandbox::SandboxSettings;
pub(crate) use settings::Secret;
use settings::{flag_and_var, get, parse_flag_bool, secret_setting, session_store_setting};
pub(crate) use tasks::TaskLimits;

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
    /// The authentication settings cannot be used (the message never contains a secret).
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthConfigError),
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] for `value` of `name` (a flag or variable name).
    pub(crate) fn invalid(name: &str, value: &str, reason: impl Into<String>) -> Self {
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
pub(crate) enum PluginSource {
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
    pub(crate) plugins: Vec<PluginSource>,
    /// Cargo profile for [`PluginSource::Crate`]s: as given, except `debug` becomes `dev`.
    pub(crate) profile: String,
    /// HTTP or stdio.
    pub transport: Transport,
    /// Address to bind (an IPv6 address without brackets).
    pub host: String,
    /// Port to bind; 0 lets the OS pick one.
    pub port: u16,
    /// Path of the MCP endpoint; starts with `/` and is none of the health routes.
    pub(crate) endpoint: String,
    /// Serve without sessions.
    pub(crate) stateless: bool,
    /// Accepted `Host` names, lowercased; empty = loopback names only; `*` = any.
    pub(crate) allowed_hosts: Vec<String>,
    /// Accepted `Origin`s, lowercased without trailing slash; empty = loopback only; `*` = any.
    pub(crate) allowed_origins: Vec<String>,
    /// Time limit of one tool call; never zero.
    pub(crate) tool_timeout: Duration,
    /// Most calls of one plugin generation on its worker threads at once; 1 to 4096.
    pub(crate) max_blocking_calls: usize,
    /// Request body cap; never zero.
    pub(crate) max_body_bytes: usize,
    /// A session without requests for this long is dropped; never zero.
    pub(crate) session_idle_timeout: Duration,
    /// How long shutdown waits for in-flight requests before it gives up on them.
    pub(crate) shutdown_timeout: Duration,
    /// Connection timeouts and the connection and session caps.
    pub(crate) limits: Limits,
    /// How many tasks the server holds and how long they live.
    pub(crate) tasks: TaskLimits,
    /// Pretty or JSON logs.
    pub log_format: LogFormat,
    /// A `tracing_subscriber::filter::Targets` directive string, already checked to parse.
    pub log_filter: String,
    /// Rebuild and reload plugins when their files change.
    pub(crate) watch: bool,
    /// Run tools the plugin marks `inline` on the thread that read the request.
    pub(crate) inline_tools: bool,
    /// Which plugins run in supervised child processes (`--isolate`).
    pub(crate) isolate: Isolation,
    /// When an isolated plugin's crashes make a loop that stops its restarts.
    pub(crate) isolate_crash_loop: CrashLoop,
    /// Key sealing 2026-07-28 `requestState` (random per process when absent).
    pub(crate) state_secret: Option<Secret>,
    /// `redis://...` to share stateful sessions between instances; `None` keeps them in memory.
    /// A secret because the URL may carry a password.
    pub(crate) session_store: Option<Secret>,
    /// Who may use the MCP endpoint (off by default).
    pub(crate) auth: AuthConfig,
    /// Serve `GET /metrics`.
    pub(crate) metrics: bool,
    /// `/metrics` needs the MCP endpoint's credentials when authentication is on.
    pub(crate) metrics_auth: bool,
    /// `--plugin-*`: what isolated plugins may do, and their memory and CPU limits.
    pub(crate) sandbox: SandboxSettings,
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
            max_blocking_calls: crate::plugin::pool::DEFAULT_MAX_BLOCKING_CALLS,
            max_body_bytes: 4 * 1024 * 1024,
            session_idle_timeout: Duration::from_secs(30 * 60),
            shutdown_timeout: Duration::from_secs(10),
            limits: Limits::default(),
            tasks: TaskLimits::default(),
            log_format: LogFormat::Pretty,
            log_filter: "info".into(),
            watch: true,
            inline_tools: true,
            isolate: Isolation::None,
            isolate_crash_loop: CrashLoop::default(),
            state_secret: None,
            session_store: None,
            auth: AuthConfig::default(),
            metrics: false,
            metrics_auth: true,
            sandbox: SandboxSettings::default(),
        }
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
        // The same for the fields of `limits`.
        macro_rules! limit {
            ($field:ident, $parse:expr) => {{
                let (flag, var) = flag_and_var(stringify!($field));
                get(
                    [(flag, args.$field), (var, e.$field)],
                    d.limits.$field,
                    $parse,
                )?
            }};
        }
        // The same for the fields of `tasks`, whose flags are named for the user.
        macro_rules! task_limit {
            ($flag:ident, $field:ident, $parse:expr) => {{
                let (flag, var) = flag_and_var(stringify!($flag));
                get([(flag, args.$flag), (var, e.$flag)], d.tasks.$field, $parse)?
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
        // Secrets are picked from their sources here, not parsed with `get`: its errors quote the
        // value.
        let mut auth_sources = AuthSources {
            api_key: args.api_key.or(e.api_key).or(plain.api_key),
            api_keys_file: args.api_keys_file.or(e.api_keys_file).map(PathBuf::from),
            jwt_secret: args.jwt_secret.or(e.jwt_secret).or(plain.jwt_secret),
            jwt_issuer: args.jwt_issuer.or(e.jwt_issuer),
            jwt_audience: args.jwt_audience.or(e.jwt_audience),
            oauth_issuer: args.oauth_issuer.or(e.oauth_issuer),
            jwks_url: args.jwks_url.or(e.jwks_url),
            oauth_audience: args.oauth_audience.or(e.oauth_audience),
            public_url: args.public_url.or(e.public_url),
            endpoint: String::new(),
        };
        let mut config = Config {
            transport: setting!(transport, parse_transport),
            host: setting!(host, parse_host),
            port: get(port_sources, d.port, parse_port)?,
            endpoint: setting!(endpoint, parse_endpoint),
            stateless: bool_setting!(stateless),
            allowed_hosts: setting!(allowed_hosts, parse_allowed_hosts),
            allowed_origins: setting!(allowed_origins, parse_allowed_origins),
            tool_timeout: setting!(tool_timeout, parse_positive_duration),
            max_blocking_calls: setting!(max_blocking_calls, parse_max_blocking_calls),
            max_body_bytes: setting!(max_body_bytes, parse_body_limit),
            session_idle_timeout: setting!(session_idle_timeout, parse_positive_duration),
            shutdown_timeout: setting!(shutdown_timeout, parse_duration),
            limits: Limits {
                header_timeout: limit!(header_timeout, parse_positive_duration),
                body_timeout: limit!(body_timeout, parse_positive_duration),
                idle_timeout: limit!(idle_timeout, parse_positive_duration),
                max_connections: limit!(max_connections, limits::parse_max_connections),
                max_sessions: limit!(max_sessions, limits::parse_max_sessions),
            },
            tasks: TaskLimits {
                per_owner: task_limit!(max_tasks_per_caller, per_owner, tasks::parse_max_tasks),
                total: task_limit!(max_tasks, total, tasks::parse_max_tasks),
                default_ttl: task_limit!(task_ttl, default_ttl, tasks::parse_task_ttl),
                max_ttl: task_limit!(max_task_ttl, max_ttl, tasks::parse_task_ttl),
                poll_interval: task_limit!(
                    task_poll_interval,
                    poll_interval,
                    tasks::parse_poll_interval
                ),
            },
            log_format: setting!(log_format, parse_log_format),
            log_filter: get(log_sources, d.log_filter, parse_log_filter)?,
            watch: bool_setting!(watch),
            inline_tools: bool_setting!(inline_tools),
            isolate: setting!(isolate, Isolation::parse),
            isolate_crash_loop: setting!(isolate_crash_loop, parse_crash_loop),
            session_store: session_store_setting([
                ("--session-store".into(), args.session_store),
                ("FASTMCP_SESSION_STORE".into(), e.session_store),
            ])?,
            metrics: bool_setting!(metrics),
            metrics_auth: bool_setting!(metrics_auth),
            sandbox: SandboxSettings::resolve(
                sandbox::RawSandbox {
                    memory_limit: args.plugin_memory_limit,
                    cpu_limit: args.plugin_cpu_limit,
                    allow_net: args.plugin_allow_net,
                    allow_paths: args.plugin_allow_path,
                },
                sandbox::RawSandbox {
                    memory_limit: e.plugin_memory_limit,
                    cpu_limit: e.plugin_cpu_limit,
                    allow_net: e.plugin_allow_net,
                    allow_paths: e.plugin_allow_path.into_iter().collect(),
                },
            )?,
            auth: AuthConfig::default(),
            state_secret: secret_setting([
                ("--state-secret".into(), args.state_secret),
                ("FASTMCP_STATE_SECRET".into(), e.state_secret),
            ])?,
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
        tasks::check(&config.tasks)?;
        check_isolated_names(&config)?;
        auth_sources.endpoint = config.endpoint.clone();
        config.auth = AuthConfig::from_sources(auth_sources)?;
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

impl PluginSource {
    /// Classifies a PLUGIN argument: a directory means its `Cargo.toml`, a path named
    /// `Cargo.toml` is a crate, anything else is a library.
    pub(crate) fn from_arg(path: &Path) -> PluginSource {
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
    pub(crate) fn path(&self) -> &Path {
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
