//! A 2025-11-25 task that asks the client something (elicitation, sampling, roots) while it
//! runs, in a stateful session.
//!
//! The `tools/call` that started the task has been answered, so its request goes out as the
//! 2025-11-25 spec says: tagged with `io.modelcontextprotocol/related-task`, the task moved to
//! `input_required` (announced with `notifications/tasks/status` on the session) until every
//! request it has out is answered, and the request carried on the response stream of the
//! client's `tasks/result` (which a client SHOULD call on seeing `input_required`). The client
//! answers through the session like any server-to-client request, and the call resumes.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use crate::mcp::jsonrpc;
use crate::mcp::session::Session;
use crate::mcp::tasks::{Status, Tasks, wire};
use crate::plugin::{CallSink, HostRequestError};

/// The `_meta` key that ties a request to its task.
pub(super) const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";

/// Wraps a task call's sink: tags its requests with the task and counts those out.
pub(super) struct TaskInput {
    pub(super) inner: Arc<dyn CallSink>,
    pub(super) task_id: String,
    /// +1 when a request goes out, -1 when it is answered (or given up).
    pub(super) asking: UnboundedSender<i32>,
}

impl CallSink for TaskInput {
    fn notify(&self, method: &str, params: Value) {
        self.inner.notify(method, params);
    }

    fn request(
        &self,
        method: &str,
        mut params: Value,
        key: Option<&str>,
        cancel: &AtomicBool,
    ) -> Result<Value, HostRequestError> {
        if let Some(obj) = params.as_object_mut() {
            let meta = obj.entry("_meta").or_insert_with(|| json!({}));
            if let Some(meta) = meta.as_object_mut() {
                meta.insert(RELATED_TASK.into(), json!({"taskId": self.task_id}));
            }
        }
        let _ = self.asking.send(1);
        let answer = self.inner.request(method, params, key, cancel);
        let _ = self.asking.send(-1);
        answer
    }
}

/// Keeps task `id`'s status in step with its requests out: `input_required` while any is, then
/// `working` again, each change announced on the session. Ends with the call (every sender
/// gone). One tokio task applies the changes in order.
pub(super) fn spawn_status(
    tasks: Arc<Tasks>,
    id: String,
    session: Arc<Session>,
) -> UnboundedSender<i32> {
    let (tx, mut rx) = unbounded_channel::<i32>();
    tokio::spawn(async move {
        let mut out = 0i32;
        let mut shown = Status::Working;
        while let Some(delta) = rx.recv().await {
            out = (out + delta).max(0);
            let wanted = if out > 0 {
                Status::InputRequired
            } else {
                Status::Working
            };
            if wanted == shown {
                continue;
            }
            shown = wanted;
            let message = (wanted == Status::InputRequired)
                .then(|| "The task waits for the client's answer (call tasks/result).".to_string());
            let changed = tasks
                .change(&id, |r| {
                    r.status = wanted;
                    r.status_message = message.clone();
                })
                .await;
            if let Ok(Some(record)) = changed {
                let note = jsonrpc::notification(
                    "notifications/tasks/status",
                    &wire::handshake_task(&record),
                );
                session.send_standalone(note);
            }
        }
    });
    tx
}

/// Whether an outgoing message is a request (it has a method and an id), which only a
/// `tasks/result` stream may carry; notifications go on the session's stream.
pub(super) fn is_request(message: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        method: Option<&'a serde_json::value::RawValue>,
        #[serde(borrow)]
        id: Option<&'a serde_json::value::RawValue>,
    }
    serde_json::from_str::<Probe>(message).is_ok_and(|p| p.method.is_some() && p.id.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_told_from_notifications() {
        assert!(is_request(
            r#"{"jsonrpc":"2.0","id":3,"method":"elicitation/create","params":{}}"#
        ));
        assert!(!is_request(
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#
        ));
        assert!(!is_request(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#));
    }
}
