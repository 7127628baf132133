//! The per-request [`CallSink`]: how a running tool reaches the client that called it.
//!
//! Progress goes out only when the request carried a `progressToken` (which the sink adds);
//! log messages only at or above the session's level. Requests to the client (sampling,
//! elicitation, roots) go out on the request's own stream and the worker thread waits for the
//! answer, which arrives as a separate POST and is routed through the session.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rmcp::model::ProgressToken;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::jsonrpc;
use super::session::Session;
use crate::plugin::{CallSink, HostRequestError};

/// What a request sends towards its client besides the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A JSON-RPC notification or request, serialized.
    Message(String),
    /// End the HTTP response stream now (the call goes on; the client resumes with
    /// `Last-Event-ID`). Sent by a tool through the `fastmcp/closeStream` notification.
    CloseStream,
}

/// The notification method a tool sends to end its response stream early (SEP-1699 polling).
pub const CLOSE_STREAM: &str = "fastmcp/closeStream";

/// How often a worker waiting for a client answer checks for cancellation.
const ANSWER_POLL: Duration = Duration::from_millis(50);

/// Routes one call's notifications and requests.
#[derive(Debug)]
pub struct RequestSink {
    /// The session of the request (a throwaway one in stateless mode).
    pub session: Arc<Session>,
    /// The request's response stream; `None` when nothing can be sent.
    pub outbound: Option<UnboundedSender<Outbound>>,
    /// The request's `_meta.progressToken`.
    pub progress_token: Option<ProgressToken>,
    /// Whether the client can be asked things (stateful mode with a live stream).
    pub can_request: bool,
    /// For protocol 2026-07-28: answers from the client's retry instead of live requests.
    pub modern: Option<Arc<ModernCall>>,
    /// Where `notifications/resources/updated` goes: every session and listener subscribed to
    /// the URI, not just this request's client.
    pub updates: Option<tokio::sync::mpsc::UnboundedSender<String>>,
}

/// The client input of one 2026-07-28 call round (multi round-trip requests).
#[derive(Debug, Default)]
pub struct ModernCall {
    /// Answers from earlier rounds, in the order the tool asks.
    pub answers: Vec<Value>,
    /// The client's declared capabilities (`sampling`, `elicitation`, `roots`).
    pub client_capabilities: Option<Value>,
    next: std::sync::atomic::AtomicUsize,
    /// Requests the tool made that have no answer yet: `(key, {"method","params"})`.
    pub asked: std::sync::Mutex<Vec<(String, Value)>>,
}

impl ModernCall {
    /// A round with these answers.
    pub fn new(answers: Vec<Value>, client_capabilities: Option<Value>) -> ModernCall {
        ModernCall {
            answers,
            client_capabilities,
            ..ModernCall::default()
        }
    }

    fn request(&self, method: &str, params: Value) -> Result<Value, HostRequestError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        if let Some(answer) = self.answers.get(i) {
            return Ok(answer.clone());
        }
        let capability = match method {
            "sampling/createMessage" => "sampling",
            "elicitation/create" => "elicitation",
            "roots/list" => "roots",
            other => {
                return Err(HostRequestError::Unsupported(format!(
                    "{other} cannot be sent to the client in protocol 2026-07-28"
                )));
            }
        };
        let declared = self
            .client_capabilities
            .as_ref()
            .and_then(|c| c.get(capability))
            .is_some_and(|v| !v.is_null());
        if !declared {
            return Err(HostRequestError::Unsupported(format!(
                "the client did not declare the {capability} capability"
            )));
        }
        let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
        asked.push((
            format!("r{i}"),
            serde_json::json!({"method": method, "params": params}),
        ));
        Err(HostRequestError::InputRequired)
    }
}

impl RequestSink {
    fn send(&self, message: String) -> bool {
        match &self.outbound {
            Some(tx) => tx.send(Outbound::Message(message)).is_ok(),
            None => false,
        }
    }
}

impl CallSink for RequestSink {
    fn notify(&self, method: &str, mut params: Value) {
        match method {
            "notifications/progress" => {
                let Some(token) = &self.progress_token else {
                    return;
                };
                if let Some(obj) = params.as_object_mut() {
                    obj.insert("progressToken".into(), token.0.clone().into_json_value());
                }
            }
            "notifications/resources/updated" => {
                if let (Some(tx), Some(uri)) =
                    (&self.updates, params.get("uri").and_then(Value::as_str))
                {
                    let _ = tx.send(uri.to_string());
                }
                return;
            }
            CLOSE_STREAM => {
                if let Some(tx) = &self.outbound {
                    let _ = tx.send(Outbound::CloseStream);
                }
                return;
            }
            "notifications/message" => {
                let level = params
                    .get("level")
                    .and_then(Value::as_str)
                    .unwrap_or("info");
                if !self.session.wants_log(level) {
                    return;
                }
            }
            _ => {}
        }
        self.send(jsonrpc::notification(method, &params));
    }

    fn request(
        &self,
        method: &str,
        params: Value,
        cancel: &AtomicBool,
    ) -> Result<Value, HostRequestError> {
        if let Some(modern) = &self.modern {
            return modern.request(method, params);
        }
        if !self.can_request {
            return Err(HostRequestError::Unsupported(format!(
                "{method} needs a session: in stateless mode the server has no way to send a \
                 request to the client and receive its answer"
            )));
        }
        let (id, rx) = self.session.register_pending();
        if !self.send(jsonrpc::request(&id, method, &params)) {
            self.session.forget_pending(&id);
            return Err(HostRequestError::Cancelled);
        }
        loop {
            match rx.recv_timeout(ANSWER_POLL) {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => return Err(HostRequestError::Client(e)),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if cancel.load(Ordering::Relaxed) {
                        self.session.forget_pending(&id);
                        return Err(HostRequestError::Cancelled);
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(HostRequestError::Cancelled);
                }
            }
        }
    }
}
