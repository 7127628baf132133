//! Turning how a plugin request ended into what the client gets: a tool's result (checked
//! against the protocol and the tool's `outputSchema`) or error result, a protocol error, and
//! the per-call log line and metrics.

use std::time::Duration;

use rmcp::model::{ErrorCode, ErrorData};

use super::{Reply, Service, error_result};
use crate::plugin::manifest::ToolEntry;
use crate::plugin::reply::check_tool_result;
use crate::plugin::schema::Schema;
use crate::plugin::{CallOutcome, Generation};

/// The log target of the line per tool call, at debug level:
/// `FASTMCP_LOG=info,fastmcp::calls=debug` shows them.
pub(crate) const CALL_LOG_TARGET: &str = "fastmcp::calls";

/// How a plugin request ended, before its reply is checked.
pub(super) enum CallEnd {
    /// The plugin returned (a result, an error, a panic, ...).
    Returned(CallOutcome),
    /// It was still running when the tool timeout passed.
    TimedOut(Duration),
    /// The server shut down before the plugin answered.
    ShutDown,
}

impl Service {
    /// A tool call's reply and its outcome label (for the log and `/metrics`). A tool's own
    /// failure, panic or timeout is an error *result*, not a protocol error.
    /// The plugin's result is checked first ([`crate::plugin::reply`]): a malformed one is the
    /// protocol error -32603, never forwarded.
    pub(super) fn tool_reply(
        &self,
        tool: &str,
        end: CallEnd,
        checks: &ReplyChecks<'_>,
    ) -> (Reply, &'static str) {
        match end {
            CallEnd::Returned(CallOutcome::Ok(raw)) => match check_tool_result(&raw, checks.output)
            {
                Ok(shape) => {
                    let label = if shape.is_error { "error" } else { "ok" };
                    (Ok(raw), label)
                }
                Err(problem) => (
                    Err(invalid_reply(checks.plugin, "tools/call", &problem)),
                    "invalid",
                ),
            },
            CallEnd::Returned(CallOutcome::Panic(msg)) => {
                (Ok(error_result(&panic_text(tool, &msg))), "panic")
            }
            CallEnd::TimedOut(after) => (
                Ok(error_result(&format!(
                    "Tool \"{tool}\" timed out after {}",
                    humanize(after)
                ))),
                "timeout",
            ),
            other => (self.outcome_error(other), "error"),
        }
    }

    /// The per-call log line (debug level: it would cost more than the call) and metrics.
    pub(super) fn record_call(
        &self,
        tool: &str,
        generation: &Generation,
        session: Option<&str>,
        elapsed: Duration,
        label: &'static str,
        inline: bool,
    ) {
        tracing::debug!(
            target: CALL_LOG_TARGET,
            tool,
            plugin = %generation.manifest.name,
            generation = generation.id,
            session = session.unwrap_or("-"),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            outcome = label,
            inline,
            "tool call"
        );
        if let Some(m) = &self.options.metrics {
            m.record_tool_call(tool, label, elapsed);
        }
    }

    pub(super) fn outcome_error(&self, end: CallEnd) -> Reply {
        Err(match end {
            CallEnd::Returned(CallOutcome::Ok(_)) => success_is_not_an_error(),
            CallEnd::Returned(CallOutcome::Error {
                code,
                message,
                data,
            }) => ErrorData::new(ErrorCode(code), message, data),
            CallEnd::Returned(CallOutcome::Panic(msg)) => {
                ErrorData::internal_error(format!("The plugin panicked: {msg}"), None)
            }
            CallEnd::Returned(CallOutcome::Cancelled) => {
                ErrorData::new(ErrorCode(-32800), "Request cancelled", None)
            }
            CallEnd::Returned(CallOutcome::InputRequired) => ErrorData::internal_error(
                "The call needs input from the client that this protocol version cannot carry",
                None,
            ),
            CallEnd::Returned(CallOutcome::Invalid(msg)) => {
                tracing::error!(reason = %msg, "plugin broke the ABI contract");
                ErrorData::internal_error("The plugin returned an invalid reply", None)
            }
            CallEnd::TimedOut(after) => {
                ErrorData::internal_error(format!("Timed out after {}", humanize(after)), None)
            }
            CallEnd::ShutDown => ErrorData::internal_error("The server is shutting down", None),
        })
    }
}

/// What a tool's result is checked against.
pub(super) struct ReplyChecks<'a> {
    /// The plugin's name, for the log.
    pub(super) plugin: &'a str,
    /// The tool's compiled `outputSchema`.
    pub(super) output: Option<&'a Schema>,
}

impl<'a> ReplyChecks<'a> {
    pub(super) fn of(entry: &'a ToolEntry, generation: &'a Generation) -> Self {
        ReplyChecks {
            plugin: &generation.manifest.name,
            output: entry.output_check.as_deref(),
        }
    }
}

/// The error a client gets for a reply that broke the protocol, logged with what was wrong.
pub(super) fn invalid_reply(plugin: &str, method: &str, problem: &str) -> ErrorData {
    tracing::error!(
        plugin,
        method,
        problem,
        "the plugin returned an invalid reply"
    );
    ErrorData::internal_error("The plugin returned an invalid reply", None)
}

fn success_is_not_an_error() -> ErrorData {
    ErrorData::internal_error("unexpected success", None)
}

/// The text of a panicked tool's error result: the plugin's message when it already says what
/// panicked (the SDK's does), else one naming the tool.
pub(crate) fn panic_text(tool: &str, message: &str) -> String {
    if message.contains("panicked") {
        message.to_string()
    } else {
        format!("Tool \"{tool}\" panicked: {message}")
    }
}

/// `1.5s`, `60s`, `250ms`.
pub(crate) fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
