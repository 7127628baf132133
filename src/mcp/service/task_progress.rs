//! A task's progress where no stream carries it (2026-07-28, stateless 2025-11-25): the last
//! `notifications/progress` of the call becomes the task's `statusMessage`, so a client that
//! polls `tasks/get` sees how far the call got.
//!
//! Its log messages are not delivered: the `tools/call` was answered with the task, and neither
//! protocol has a stream for a task's notifications there (2026-07-28 sends notifications only
//! on the response stream of the request they relate to, and `tasks/get` and `tasks/update`
//! are not the call; stateless 2025-11-25 has no session stream). Each one the client's log
//! level asked for is counted in `fastmcp_notifications_dropped_total{reason="task_without_stream"}`.
//!
//! The sink only replaces a value in a `watch` channel (no allocation queue, no blocking on a
//! plugin thread); a tokio task writes the latest one to the store, skipping values that were
//! replaced before it got to them.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::Value;
use tokio::sync::watch;

use crate::mcp::sink::DropReason;
use crate::mcp::state::ProtocolState;
use crate::mcp::tasks::{Status, Tasks};
use crate::metrics::Metrics;
use crate::plugin::{CallSink, HostRequestError};

/// Wraps a call's sink, noting each progress notification and counting the log messages no
/// stream can carry.
pub(super) struct ProgressNote {
    pub(super) inner: Arc<dyn CallSink>,
    pub(super) latest: watch::Sender<Option<String>>,
    /// The task's protocol state (its log level says which messages would have gone out).
    pub(super) protocol: ProtocolState,
    pub(super) metrics: Option<Arc<Metrics>>,
}

impl CallSink for ProgressNote {
    fn notify(&self, method: &str, params: Value) {
        match method {
            "notifications/progress" => {
                self.latest.send_replace(Some(describe(&params)));
            }
            // Nothing carries a log message here: count those the client's level asked for.
            "notifications/message" => {
                let level = params
                    .get("level")
                    .and_then(Value::as_str)
                    .unwrap_or("info");
                if self.protocol.wants_log(level)
                    && let Some(m) = &self.metrics
                {
                    m.record_notifications_dropped(DropReason::TaskWithoutStream.as_str(), 1);
                }
                return;
            }
            _ => {}
        }
        self.inner.notify(method, params);
    }

    fn request(
        &self,
        method: &str,
        params: Value,
        key: Option<&str>,
        cancel: &AtomicBool,
    ) -> Result<Value, HostRequestError> {
        self.inner.request(method, params, key, cancel)
    }
}

/// `3/10: copying` from `{"progress": 3, "total": 10, "message": "copying"}`.
fn describe(params: &Value) -> String {
    let number = |key: &str| params.get(key).and_then(Value::as_f64);
    let mut text = match (number("progress"), number("total")) {
        (Some(p), Some(t)) => format!("{p}/{t}"),
        (Some(p), None) => format!("{p}"),
        _ => String::from("progress"),
    };
    if let Some(message) = params.get("message").and_then(Value::as_str) {
        text.push_str(": ");
        text.push_str(message);
    }
    text
}

/// Writes the latest progress of task `id` as its status message while it is working, until
/// every sender is gone (the call ended).
pub(super) fn spawn_writer(tasks: Arc<Tasks>, id: String) -> watch::Sender<Option<String>> {
    let (tx, mut rx) = watch::channel::<Option<String>>(None);
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let Some(note) = rx.borrow_and_update().clone() else {
                continue;
            };
            let written = tasks
                .change(&id, |r| {
                    if r.status == Status::Working {
                        r.status_message = Some(note.clone());
                    }
                })
                .await;
            if let Err(e) = written {
                tracing::debug!(task = %id, error = %e, "could not note a task's progress");
            }
        }
    });
    tx
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn progress_reads_as_a_short_status() {
        let full = json!({"progress": 3, "total": 10, "message": "copying"});
        assert_eq!(describe(&full), "3/10: copying");
        assert_eq!(describe(&json!({"progress": 0.5})), "0.5");
    }
}
