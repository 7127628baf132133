//! Where a running call sends what its tool asks of the client: notifications and requests
//! (sampling, elicitation, roots). The MCP layer implements [`CallSink`]; the plugin's
//! callbacks (`super::callbacks`) and its pending async calls (`super::pending`) only forward
//! to it, so this module sits below both and below `super::generation`.

use std::sync::atomic::AtomicBool;

use serde_json::Value;
use serde_json::value::RawValue;

/// A notification as a plugin writes it (`{"method","params"}`), borrowed: its params go on
/// as text ([`CallSink::notify_raw`]), from the plugin's callback and over an isolated
/// child's socket alike.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct NoteRef<'a> {
    #[serde(borrow)]
    pub(crate) method: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) params: Option<&'a RawValue>,
}

/// Where a running call sends what the tool asks of the client. Implemented by the MCP layer.
pub trait CallSink: Send + Sync {
    /// A notification related to the call (`notifications/progress`, `notifications/message`,
    /// ...). The implementation adds the progress token, applies the log level, or drops it.
    fn notify(&self, method: &str, params: Value);
    /// [`notify`](Self::notify) with the params as the plugin wrote them (checked JSON). Sinks
    /// that pass notifications on as text override it to skip a parse and a re-serialization
    /// (a progress notification cost ~18k instructions that way); the default parses.
    fn notify_raw(&self, method: &str, params: &RawValue) {
        if let Ok(params) = serde_json::from_str(params.get()) {
            self.notify(method, params);
        }
    }
    /// A request to the client (`sampling/createMessage`, `elicitation/create`, `roots/list`).
    /// Blocks the worker thread until the client answers or `cancel` is set. `key` is the name
    /// the plugin gave the request (protocol 2026-07-28 asks the client under it).
    fn request(
        &self,
        method: &str,
        params: Value,
        key: Option<&str>,
        cancel: &AtomicBool,
    ) -> Result<Value, HostRequestError>;
}

/// Why a request from a tool to the client did not produce an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum HostRequestError {
    /// There is no way to reach the client here (stateless mode, `fastmcp call`).
    Unsupported(String),
    /// The call was cancelled while waiting.
    Cancelled,
    /// Protocol 2026-07-28: the answer must come with the client's retry.
    InputRequired,
    /// The client answered with a JSON-RPC error (`{"code","message","data"?}`).
    Client(Value),
}

/// A sink that reaches nobody: notifications are dropped and requests unsupported.
#[derive(Debug, Default)]
pub struct NullSink;

impl CallSink for NullSink {
    fn notify(&self, _: &str, _: Value) {}
    fn notify_raw(&self, _: &str, _: &RawValue) {}
    fn request(
        &self,
        method: &str,
        _: Value,
        _: Option<&str>,
        _: &AtomicBool,
    ) -> Result<Value, HostRequestError> {
        Err(HostRequestError::Unsupported(format!(
            "{method} is not available here: there is no client connection to send it on"
        )))
    }
}
