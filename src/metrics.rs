//! Prometheus metrics in the OpenMetrics text format, with the official `prometheus-client`.
//!
//! Every family is registered once in [`Metrics::new`]; recording is a lookup in a family's
//! map plus an atomic add, so it is cheap enough for every request. Label values are bounded:
//! JSON-RPC methods outside the MCP set are counted as `other` (a client cannot grow the
//! series set by inventing methods), tool call outcomes are one of `ok`, `error`, `panic`,
//! `timeout`, and tool and plugin names come from loaded plugins only.
//!
//! Series (all prefixed `fastmcp_`):
//! - `requests_total{method, status}`: JSON-RPC messages by method and HTTP status.
//! - `tool_calls_total{tool, outcome}` and `tool_call_duration_seconds{tool}` (histogram).
//! - `sessions_active`: live sessions (stateful mode).
//! - `plugin_generation{plugin}`: the generation number serving each plugin.
//! - `plugin_reloads_total{plugin, result}`: reloads that swapped (`ok`) or `failed`.
//! - `build_info{version}`: always 1.
//! - `blocking_queue_wait_seconds{plugin}` (histogram): how long a call waited for one of its
//!   plugin's worker threads (`--max-blocking-calls`).
//! - `blocking_calls{plugin, state}`: calls of the serving generation's worker threads that are
//!   `running`, `queued` or `stuck` (overran the tool timeout and still running).
//! - `notifications_dropped_total{reason}`: messages for a client that were not delivered
//!   (`runtime_thread`, `cancelled`, `session_stream`, `replay_log`, `task_without_stream`; see
//!   `mcp::sink::DropReason`).

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// The content type of [`Metrics::encode`]'s output.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Tool latency buckets, in seconds: 100 µs to 60 s.
pub(crate) const LATENCY_BUCKETS: [f64; 18] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];

/// The method labels we keep; anything else is `other`.
const METHODS: [&str; 21] = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/roots/list_changed",
    // Pseudo-methods for what is not a JSON-RPC request: a client's answer to a server
    // request, a GET that opens a stream, a DELETE that ends a session.
    "response",
    "GET",
    "DELETE",
    "other",
];

/// `method` if it is one we keep as a label, else `other`.
pub(crate) fn method_label(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

/// `outcome` if it is one of `ok`, `error`, `panic`, `timeout`, else `error`.
pub(crate) fn outcome_label(outcome: &str) -> &'static str {
    match outcome {
        "ok" => "ok",
        "panic" => "panic",
        "timeout" => "timeout",
        // A 2026-07-28 round that ends by asking the client is not a failure.
        "input_required" => "input_required",
        _ => "error",
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolOutcomeLabels {
    tool: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    plugin: String,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DropLabels {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BlockingLabels {
    plugin: String,
    state: &'static str,
}

/// What one plugin's worker threads are doing, for [`Metrics::set_blocking_calls`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BlockingCalls {
    /// Calls running on a worker thread.
    pub(crate) running: usize,
    /// Calls waiting for a worker thread.
    pub(crate) queued: usize,
    /// Running calls that overran the tool timeout.
    pub(crate) stuck: usize,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

type HistogramFamily = Family<ToolLabels, Histogram, fn() -> Histogram>;

/// Refreshes gauges from the server's state right before an encode.
type ScrapeHook = Box<dyn Fn(&Metrics) + Send + Sync>;

/// The server's metrics. Share it as `Arc<Metrics>`; every method takes `&self`.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    tool_calls: Family<ToolOutcomeLabels, Counter>,
    tool_latency: HistogramFamily,
    sessions: Gauge,
    generations: Family<PluginLabels, Gauge>,
    reloads: Family<ReloadLabels, Counter>,
    notifications_dropped: Family<DropLabels, Counter>,
    queue_wait: Family<PluginLabels, Histogram, fn() -> Histogram>,
    blocking_calls: Family<BlockingLabels, Gauge>,
    /// Gauges that are cheaper to read at scrape time than to track (sessions, generations).
    on_scrape: OnceLock<ScrapeHook>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("registry", &self.registry)
            .field("on_scrape", &self.on_scrape.get().is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

impl Metrics {
    /// Registers every family.
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("fastmcp");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "MCP messages received, by JSON-RPC method and HTTP status",
            requests.clone(),
        );
        let tool_calls = Family::<ToolOutcomeLabels, Counter>::default();
        registry.register(
            "tool_calls",
            "Tool calls, by tool and outcome (ok, error, panic, timeout)",
            tool_calls.clone(),
        );
        let tool_latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "tool_call_duration",
            "Time from a tool call's start to its result",
            Unit::Seconds,
            tool_latency.clone(),
        );
        let sessions = Gauge::default();
        registry.register(
            "sessions_active",
            "Live MCP sessions (stateful mode)",
            sessions.clone(),
        );
        let generations = Family::<PluginLabels, Gauge>::default();
        registry.register(
            "plugin_generation",
            "The generation number serving each plugin (grows with every reload)",
            generations.clone(),
        );
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "plugin_reloads",
            "Plugin reloads, by plugin and result (ok, failed)",
            reloads.clone(),
        );
        let notifications_dropped = Family::<DropLabels, Counter>::default();
        registry.register(
            "notifications_dropped",
            "Messages for a client that were not delivered, by reason",
            notifications_dropped.clone(),
        );
        let queue_wait: Family<PluginLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "blocking_queue_wait",
            "Time a call waited for one of its plugin's worker threads",
            Unit::Seconds,
            queue_wait.clone(),
        );
        let blocking_calls = Family::<BlockingLabels, Gauge>::default();
        registry.register(
            "blocking_calls",
            "Calls of each plugin's worker threads: running, queued, stuck (overran the tool timeout)",
            blocking_calls.clone(),
        );
        let build = Info::new(BuildLabels {
            version: env!("CARGO_PKG_VERSION"),
        });
        registry.register("build", "The fastmcp version serving", build);
        Metrics {
            registry,
            requests,
            tool_calls,
            tool_latency,
            sessions,
            generations,
            reloads,
            notifications_dropped,
            queue_wait,
            blocking_calls,
            on_scrape: OnceLock::new(),
        }
    }

    /// Sets the function that refreshes gauges before each [`Metrics::encode`] (once; later
    /// calls are ignored and return `false`). Typically it reads the session count and the
    /// serving generations from the service.
    pub(crate) fn on_scrape(&self, refresh: impl Fn(&Metrics) + Send + Sync + 'static) -> bool {
        self.on_scrape.set(Box::new(refresh)).is_ok()
    }

    /// Counts one message to the MCP endpoint. `method` outside the MCP set counts as `other`.
    pub(crate) fn record_request(&self, method: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method_label(method),
                status,
            })
            .inc();
    }

    /// Counts one finished call of a served tool and records its latency.
    pub(crate) fn record_tool_call(&self, tool: &str, outcome: &str, elapsed: Duration) {
        self.tool_calls
            .get_or_create(&ToolOutcomeLabels {
                tool: tool.to_owned(),
                outcome: outcome_label(outcome),
            })
            .inc();
        self.tool_latency
            .get_or_create(&ToolLabels {
                tool: tool.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Sets the number of live sessions.
    pub(crate) fn set_sessions(&self, n: usize) {
        self.sessions.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Sets the generation serving `plugin`.
    pub(crate) fn set_generation(&self, plugin: &str, generation: u64) {
        self.generations
            .get_or_create(&PluginLabels {
                plugin: plugin.to_owned(),
            })
            .set(i64::try_from(generation).unwrap_or(i64::MAX));
    }

    /// Replaces every `plugin_generation` series with these (plugin, generation) pairs, so a
    /// plugin that is no longer served (or was renamed by a reload) disappears.
    pub(crate) fn set_generations<'a>(&self, serving: impl IntoIterator<Item = (&'a str, u64)>) {
        self.generations.clear();
        for (plugin, generation) in serving {
            self.set_generation(plugin, generation);
        }
    }

    /// Counts one reload of `plugin` that swapped in a new generation (`ok`) or failed.
    pub(crate) fn record_reload(&self, plugin: &str, ok: bool) {
        self.reloads
            .get_or_create(&ReloadLabels {
                plugin: plugin.to_owned(),
                result: if ok { "ok" } else { "failed" },
            })
            .inc();
    }

    /// Counts `n` messages for a client that were dropped for `reason`.
    pub(crate) fn record_notifications_dropped(&self, reason: &'static str, n: u64) {
        self.notifications_dropped
            .get_or_create(&DropLabels { reason })
            .inc_by(n);
    }

    /// Records queue waits of `plugin`'s worker threads: resolves the plugin's histogram once,
    /// so each observation is one lock and no allocation.
    pub(crate) fn queue_wait_recorder(&self, plugin: &str) -> Box<dyn Fn(Duration) + Send + Sync> {
        let histogram = self
            .queue_wait
            .get_or_create(&PluginLabels {
                plugin: plugin.to_owned(),
            })
            .clone();
        Box::new(move |waited| histogram.observe(waited.as_secs_f64()))
    }

    /// Replaces every `blocking_calls` series with these plugins' (at scrape time).
    pub(crate) fn set_blocking_calls<'a>(
        &self,
        per_plugin: impl IntoIterator<Item = (&'a str, BlockingCalls)>,
    ) {
        self.blocking_calls.clear();
        for (plugin, calls) in per_plugin {
            for (state, n) in [
                ("running", calls.running),
                ("queued", calls.queued),
                ("stuck", calls.stuck),
            ] {
                self.blocking_calls
                    .get_or_create(&BlockingLabels {
                        plugin: plugin.to_owned(),
                        state,
                    })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
    }

    /// Everything, in the OpenMetrics text format (ends with `# EOF`).
    pub(crate) fn encode(&self) -> String {
        if let Some(refresh) = self.on_scrape.get() {
            refresh(self);
        }
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The `GET /metrics` response: the encoded metrics with the OpenMetrics content type.
pub(crate) fn render(metrics: &Metrics) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.encode()).into_response()
}

/// `GET /metrics`.
pub(crate) async fn handler(State(metrics): State<Arc<Metrics>>) -> Response {
    render(&metrics)
}

#[cfg(test)]
mod tests;
