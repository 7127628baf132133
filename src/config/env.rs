//! Reading the environment: the `FASTMCP_*` variables and the few unprefixed ones honoured as
//! fallbacks, taken from (name, value) pairs so tests can pass their own.

use serde::Deserialize;

use super::ConfigError;

/// The `FASTMCP_*` variables, as read by `envy` (names lowercased, prefix stripped).
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawEnv {
    pub(super) transport: Option<String>,
    pub(super) host: Option<String>,
    pub(super) port: Option<String>,
    pub(super) endpoint: Option<String>,
    pub(super) stateless: Option<String>,
    pub(super) allowed_hosts: Option<String>,
    pub(super) allowed_origins: Option<String>,
    pub(super) tool_timeout: Option<String>,
    pub(super) max_blocking_calls: Option<String>,
    pub(super) max_body_bytes: Option<String>,
    pub(super) session_idle_timeout: Option<String>,
    pub(super) shutdown_timeout: Option<String>,
    pub(super) header_timeout: Option<String>,
    pub(super) body_timeout: Option<String>,
    pub(super) idle_timeout: Option<String>,
    pub(super) max_connections: Option<String>,
    pub(super) max_sessions: Option<String>,
    pub(super) max_tasks: Option<String>,
    pub(super) max_tasks_per_caller: Option<String>,
    pub(super) task_ttl: Option<String>,
    pub(super) max_task_ttl: Option<String>,
    pub(super) task_poll_interval: Option<String>,
    pub(super) log_format: Option<String>,
    pub(super) log: Option<String>,
    pub(super) watch: Option<String>,
    pub(super) inline_tools: Option<String>,
    pub(super) isolate: Option<String>,
    pub(super) isolate_crash_loop: Option<String>,
    pub(super) profile: Option<String>,
    pub(super) state_secret: Option<String>,
    pub(super) session_store: Option<String>,
    pub(super) api_key: Option<String>,
    pub(super) api_keys_file: Option<String>,
    pub(super) jwt_secret: Option<String>,
    pub(super) jwt_issuer: Option<String>,
    pub(super) jwt_audience: Option<String>,
    pub(super) oauth_issuer: Option<String>,
    pub(super) jwks_url: Option<String>,
    pub(super) oauth_audience: Option<String>,
    pub(super) public_url: Option<String>,
    pub(super) metrics: Option<String>,
    pub(super) metrics_auth: Option<String>,
    pub(super) plugin_memory_limit: Option<String>,
    pub(super) plugin_cpu_limit: Option<String>,
    pub(super) plugin_allow_net: Option<String>,
    pub(super) plugin_allow_path: Option<String>,
}

/// The unprefixed variables we honour as fallbacks (`PORT` is what PaaS platforms set).
#[derive(Debug, Default, Deserialize)]
pub(super) struct PlainEnv {
    pub(super) port: Option<String>,
    pub(super) rust_log: Option<String>,
    /// The seed's names for the API key and the JWT secret.
    pub(super) api_key: Option<String>,
    pub(super) jwt_secret: Option<String>,
}

pub(super) fn read_env(
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(RawEnv, PlainEnv), ConfigError> {
    let vars: Vec<_> = env
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let plain_vars = vars
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "PORT" | "RUST_LOG" | "API_KEY" | "JWT_SECRET"))
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
