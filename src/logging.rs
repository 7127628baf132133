//! The one place that installs the tracing subscriber.
//!
//! Logs always go to stderr (stdout belongs to the stdio transport), human-readable by default
//! or one JSON object per line. Events carry fields (`plugin`, `generation`, `tool`,
//! `session`); request bodies, arguments and headers are never logged, so secrets are not.
//! Lines are written by a background thread (a slow or blocked stderr must not stall a request
//! on the runtime); the returned [`LogGuard`] flushes them when dropped at exit.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Keeps the background log writer running; dropping it flushes what is still buffered.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard(#[allow(dead_code)] tracing_appender::non_blocking::WorkerGuard);

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogGuard")
    }
}

/// Log lines the background writer buffers before a logging thread waits for stderr.
const LOG_BUFFER_LINES: usize = 4096;

/// Installs the global subscriber with `filter` (a list of `target=level` directives and a
/// default level, such as `info` or `warn,fastmcp=debug`: [`Targets`], which needs no regex
/// engine at startup, unlike `EnvFilter`). The configuration refuses a filter that is not
/// made of levels and `target=level` directives before this runs (`verbose`, which `Targets`
/// would take as a target name and so turn all other logging off); a filter that still fails
/// here falls back to `info` with a warning. Keep the returned guard until the program ends.
pub fn init(format: LogFormat, filter: &str) -> LogGuard {
    init_buffered(format, filter, LOG_BUFFER_LINES)
}

/// [`init`] with a buffer of `lines` log lines: an isolated plugin's child, which logs little,
/// keeps a small one (its slots are allocated and touched up front: 4096 are ~136 KiB, a third
/// of what the child may use).
pub fn init_buffered(format: LogFormat, filter: &str, lines: usize) -> LogGuard {
    // The file watcher's own INFO lines (inotify bookkeeping) are noise to our users.
    let filter = if filter.contains("notify") {
        filter.to_string()
    } else {
        format!("{filter},notify=warn")
    };
    let filter = filter.as_str();
    let (targets, bad) = match filter.parse::<Targets>() {
        Ok(f) => (f, None),
        Err(e) => (Targets::new().with_default(tracing::Level::INFO), Some(e)),
    };
    // Not lossy: when the buffer is full, requests wait rather than lines disappear. The
    // default buffer (128,000 lines) is allocated and touched up front: 4 MiB of an idle
    // server's 12. A few thousand lines absorb any burst a healthy stderr cannot keep up with.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(lines)
        .lossy(false)
        .finish(std::io::stderr());
    let layer = tracing_subscriber::fmt::layer().with_writer(writer);
    let registry = tracing_subscriber::registry().with(targets);
    let installed = match format {
        LogFormat::Json => registry.with(layer.json().flatten_event(true)).try_init(),
        LogFormat::Pretty => registry
            .with(layer.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())))
            .try_init(),
    };
    if installed.is_ok()
        && let Some(e) = bad
    {
        tracing::warn!(filter, error = %e, "invalid log filter (FASTMCP_LOG/RUST_LOG); using info");
    }
    LogGuard(guard)
}
