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
