//! The one place that installs the tracing subscriber.
//!
//! Logs always go to stderr (stdout belongs to the stdio transport), human-readable by default
//! or one JSON object per line. Events carry fields (`plugin`, `generation`, `tool`,
//! `session`); request bodies, arguments and headers are never logged, so secrets are not.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber with `filter` (an `EnvFilter` directive such as `info` or
/// `fastmcp=debug`). An invalid filter falls back to `info` with a warning.
pub fn init(format: LogFormat, filter: &str) {
    // The file watcher's own INFO lines (inotify bookkeeping) are noise to our users.
    let filter = if filter.contains("notify") {
        filter.to_string()
    } else {
        format!("{filter},notify=warn")
    };
    let filter = filter.as_str();
    let (env_filter, bad) = match EnvFilter::try_new(filter) {
        Ok(f) => (f, None),
        Err(e) => (EnvFilter::new("info"), Some(e)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
    if installed.is_ok()
        && let Some(e) = bad
    {
        tracing::warn!(filter, error = %e, "invalid log filter (FASTMCP_LOG/RUST_LOG); using info");
    }
}
