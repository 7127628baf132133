//! The per-request [`CallSink`]: how a running tool reaches the client that called it.
//!
//! Progress goes out only when the request carried a `progressToken` (which the sink adds);
//! log messages only at or above the client's level. Requests to the client (sampling,
//! elicitation, roots) go out on the request's own stream and the worker thread waits for the
//! answer, which arrives as a separate POST and is routed through the session.
//!
//! A request's outbound channel is bounded ([`OUTBOUND_CAPACITY`]): a tool that sends faster
//! than its client reads waits for room, so it runs at the client's pace and memory stays
//! bounded. The wait never outlasts the stream (a closed channel returns at once) or the call
//! (the cancellation flag is checked every [`SEND_SLICE`]). Only a sink called on a thread of
//! this process's async runtime, which must never block, drops a message when the channel is
//! full; [`Drops`] counts that and every other undelivered message.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use rmcp::model::ProgressToken;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::{Receiver, Sender, UnboundedSender, channel};

use super::jsonrpc;
pub(crate) use super::mrtr::PerRequestCall;
use super::state::ProtocolState;
use crate::metrics::Metrics;
use crate::plugin::{CallSink, HostRequestError};

/// How many messages one request may have waiting for its client. Big enough that a tool
/// sending bursts of progress or log lines rarely waits, and that the stream's writer always
/// has a batch ready while the socket drains; small enough that a flooding tool holds at most
/// a few hundred serialized messages (tens of KiB for typical ones) before it is slowed down.
pub(crate) const OUTBOUND_CAPACITY: usize = 256;

/// How long a sender blocked on a full channel waits before checking for cancellation again.
pub(crate) const SEND_SLICE: Duration = Duration::from_millis(50);

/// What a request sends towards its client besides the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outbound {
    /// A JSON-RPC notification or request, serialized.
    Message(String),
    /// End the HTTP response stream now (the call goes on; the client resumes with
    /// `Last-Event-ID`). Sent by a tool through the `fastmcp/closeStream` notification.
    CloseStream,
}

/// The notification method a tool sends to end its response stream early (SEP-1699 polling).
pub(crate) const CLOSE_STREAM: &str = "fastmcp/closeStream";

/// How often a worker waiting for a client answer checks for cancellation.
const ANSWER_POLL: Duration = Duration::from_millis(50);

/// Why a message meant for a client was not delivered (the `reason` label of
/// `fastmcp_notifications_dropped_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// The sink ran on a thread of this process's async runtime, which must not block, and the
    /// request's channel was full.
    RuntimeThread,
    /// The call was cancelled while its channel was full.
    Cancelled,
    /// A session `GET` (or `subscriptions/listen`) stream whose client stopped reading fell
    /// too far behind.
    SessionStream,
    /// The resumable event log's per-stream cap pushed out an event nobody had received yet,
    /// so a client that resumes cannot get it.
    ReplayLog,
    /// A log message of a task whose `tools/call` was answered and that has no stream left
    /// (stateless 2025-11-25, 2026-07-28): neither protocol gives it one (`task_progress`).
    TaskWithoutStream,
}

impl DropReason {
    /// The label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DropReason::RuntimeThread => "runtime_thread",
            DropReason::Cancelled => "cancelled",
            DropReason::SessionStream => "session_stream",
            DropReason::ReplayLog => "replay_log",
            DropReason::TaskWithoutStream => "task_without_stream",
        }
    }
}

/// Counts one stream's undelivered messages in the metrics and logs the first at WARN.
/// Clones share the "already warned" flag, so a stream warns once however many handles it has.
#[derive(Debug, Clone, Default)]
pub(crate) struct Drops {
    metrics: Option<Arc<Metrics>>,
    warned: Arc<AtomicBool>,
}

impl Drops {
    /// A counter for one stream, reporting to `metrics` when they are on.
    pub(crate) fn new(metrics: Option<Arc<Metrics>>) -> Drops {
        Drops {
            metrics,
            warned: Arc::default(),
        }
    }

    /// Records `n` messages dropped for `reason`.
    pub(crate) fn count(&self, reason: DropReason, n: u64) {
        if n == 0 {
            return;
        }
        if let Some(m) = &self.metrics {
            m.record_notifications_dropped(reason.as_str(), n);
        }
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                reason = reason.as_str(),
                dropped = n,
                "messages for a client were dropped; later drops on this stream are only \
                 counted (fastmcp_notifications_dropped_total)"
            );
        }
    }
}

/// The sending half of a request's outbound channel, as the call's sink uses it.
#[derive(Debug, Clone)]
pub(crate) struct OutboundTx {
    tx: Sender<Outbound>,
    /// The call's cancellation flag: a cancelled call stops waiting for room.
    cancel: Arc<AtomicBool>,
    drops: Drops,
}

/// A request's bounded outbound channel ([`OUTBOUND_CAPACITY`]).
pub(crate) fn outbound_channel(
    cancel: Arc<AtomicBool>,
    drops: Drops,
) -> (OutboundTx, Receiver<Outbound>) {
    let (tx, rx) = channel(OUTBOUND_CAPACITY);
    (OutboundTx::new(tx, cancel, drops), rx)
}

/// Wakes the thread that waits in [`OutboundTx::send`].
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

impl OutboundTx {
    /// One call's handle on `tx` (several calls may share a channel, as over stdio).
    pub(crate) fn new(tx: Sender<Outbound>, cancel: Arc<AtomicBool>, drops: Drops) -> OutboundTx {
        OutboundTx { tx, cancel, drops }
    }

    /// Whether the stream is gone (its client left, or the response was written).
    pub(crate) fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Queues `message`, waiting for room when the channel is full. Returns whether it was
    /// queued: `false` at once when the stream is gone, after a wait slice when the call is
    /// cancelled, and at once (counted) on a thread of this process's runtime, which must
    /// not block.
    pub(crate) fn send(&self, message: Outbound) -> bool {
        let message = match self.tx.try_send(message) {
            Ok(()) => return true,
            Err(TrySendError::Closed(_)) => return false,
            Err(TrySendError::Full(m)) => m,
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            self.drops.count(DropReason::RuntimeThread, 1);
            return false;
        }
        self.wait_and_send(message)
    }

    /// Parks this (non-runtime) thread until the channel has room, in [`SEND_SLICE`]s.
    fn wait_and_send(&self, message: Outbound) -> bool {
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut reserve = std::pin::pin!(self.tx.reserve());
        loop {
            match reserve.as_mut().poll(&mut cx) {
                Poll::Ready(Ok(permit)) => {
                    permit.send(message);
                    return true;
                }
                Poll::Ready(Err(_)) => return false,
                Poll::Pending if self.cancel.load(Ordering::Relaxed) => {
                    self.drops.count(DropReason::Cancelled, 1);
                    return false;
                }
                Poll::Pending => std::thread::park_timeout(SEND_SLICE),
            }
        }
    }
}

/// Routes one call's notifications and requests.
#[derive(Debug)]
pub(crate) struct RequestSink {
    /// The client's protocol state: its log level, and its stored session, if any, which
    /// routes the answers to requests.
    pub(crate) protocol: ProtocolState,
    /// The request's response stream; `None` when nothing can be sent.
    pub(crate) outbound: Option<OutboundTx>,
    /// The request's `_meta.progressToken`.
    pub(crate) progress_token: Option<ProgressToken>,
    /// Whether the client can be asked things (a stored session with a live stream).
    pub(crate) can_request: bool,
    /// For protocol 2026-07-28: answers from the client's retry instead of live requests.
    pub(crate) per_request: Option<Arc<PerRequestCall>>,
    /// Where `notifications/resources/updated` goes: every session and listener subscribed to
    /// the URI, not just this request's client.
    pub(crate) updates: Option<UnboundedSender<String>>,
}

/// What a request's sink needs to know to turn a tool's notification into a message.
pub(crate) struct Route<'a> {
    /// The request's `_meta.progressToken`: progress goes out only with one.
    pub(crate) progress_token: Option<&'a ProgressToken>,
    /// Whether a log message of this level goes out (the session's or request's level).
    pub(crate) wants_log: &'a dyn Fn(&str) -> bool,
    /// Where `notifications/resources/updated` goes.
    pub(crate) updates: Option<&'a UnboundedSender<String>>,
}

/// A notification after [`Route::shape`].
pub(crate) enum Shaped {
    /// Send this JSON-RPC message to the client.
    Message(String),
    /// The tool asked to end its response stream now.
    CloseStream,
    /// Handled elsewhere or dropped by a filter: nothing to send.
    Done,
}

impl Route<'_> {
    /// Adds the progress token, applies the log level, and routes resource updates: the rules
    /// every sink shares.
    pub(crate) fn shape(&self, method: &str, mut params: Value) -> Shaped {
        match method {
            "notifications/progress" => {
                let Some(token) = self.progress_token else {
                    return Shaped::Done;
                };
                if let Some(obj) = params.as_object_mut() {
                    obj.insert("progressToken".into(), token.0.clone().into_json_value());
                }
            }
            "notifications/resources/updated" => {
                if let (Some(tx), Some(uri)) =
                    (self.updates, params.get("uri").and_then(Value::as_str))
                {
                    let _ = tx.send(uri.to_string());
                }
                return Shaped::Done;
            }
            CLOSE_STREAM => return Shaped::CloseStream,
            "notifications/message" => {
                let level = params
                    .get("level")
                    .and_then(Value::as_str)
                    .unwrap_or("info");
                if !(self.wants_log)(level) {
                    return Shaped::Done;
                }
            }
            _ => {}
        }
        Shaped::Message(jsonrpc::notification(method, &params))
    }
}

impl RequestSink {
    fn send(&self, message: String) -> bool {
        match &self.outbound {
            Some(tx) => tx.send(Outbound::Message(message)),
            None => false,
        }
    }

    /// Shapes a notification with this request's [`Route`] and sends it, or the stream's close.
    fn route(&self, method: &str, shape: impl FnOnce(&Route) -> Option<Shaped>) {
        // A tool that keeps logging after its client left should not pay for serializing.
        if self.outbound.as_ref().is_some_and(OutboundTx::is_closed)
            && method != "notifications/resources/updated"
        {
            return;
        }
        let route = Route {
            progress_token: self.progress_token.as_ref(),
            wants_log: &|level| self.protocol.wants_log(level),
            updates: self.updates.as_ref(),
        };
        match shape(&route) {
            Some(Shaped::Message(message)) => {
                self.send(message);
            }
            Some(Shaped::CloseStream) => {
                if let Some(tx) = &self.outbound {
                    tx.send(Outbound::CloseStream);
                }
            }
            Some(Shaped::Done) | None => {}
        }
    }
}

impl CallSink for RequestSink {
    fn notify(&self, method: &str, params: Value) {
        self.route(method, |route| Some(route.shape(method, params)));
    }

    fn notify_raw(&self, method: &str, params: &RawValue) {
        self.route(method, |route| route.shape_raw_or_parse(method, params));
    }

    fn request(
        &self,
        method: &str,
        params: Value,
        key: Option<&str>,
        cancel: &AtomicBool,
    ) -> Result<Value, HostRequestError> {
        if let Some(per_request) = &self.per_request {
            return per_request.request(method, params, key);
        }
        let session = match self.protocol.session() {
            Some(session) if self.can_request => session,
            _ => return Err(no_way_back(method)),
        };
        let (id, rx) = session.register_pending();
        if !self.send(jsonrpc::request(&id, method, &params)) {
            session.forget_pending(&id);
            return Err(HostRequestError::Cancelled);
        }
        loop {
            match rx.recv_timeout(ANSWER_POLL) {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => return Err(HostRequestError::Client(e)),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if cancel.load(Ordering::Relaxed) {
                        session.forget_pending(&id);
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

/// Why a tool's request to the client cannot be sent where there is no session.
fn no_way_back(method: &str) -> HostRequestError {
    HostRequestError::Unsupported(format!(
        "{method} needs a session: in stateless mode the server has no way to send a request \
         to the client and receive its answer"
    ))
}

/// The sink of an inline call of a tool with a context (`"inlineContext"`). The call runs on
/// an I/O thread, which must never wait, and its response is written only after it returns, so
/// its notifications are collected here, in order, and sent before the result. It runs only
/// where the client cannot be asked anything anyway (stateless requests), so requests are
/// unsupported. A call that collects many messages is slow, and the inline gate moves the tool's
/// later calls to the worker threads, where the channel's back-pressure applies.
#[derive(Debug)]
pub(crate) struct BufferedSink {
    progress_token: Option<ProgressToken>,
    updates: UnboundedSender<String>,
    messages: std::sync::Mutex<Vec<String>>,
}

impl BufferedSink {
    /// A sink for a request with this progress token; resource updates go to `updates`.
    pub(crate) fn new(
        progress_token: Option<ProgressToken>,
        updates: UnboundedSender<String>,
    ) -> Self {
        BufferedSink {
            progress_token,
            updates,
            messages: std::sync::Mutex::default(),
        }
    }

    /// Without a session, log messages go out at the default level.
    fn route(&self) -> Route<'_> {
        Route {
            progress_token: self.progress_token.as_ref(),
            wants_log: &default_level,
            updates: Some(&self.updates),
        }
    }

    /// Keeps a shaped notification for the answer. Closing the stream early means nothing when
    /// the answer comes all at once.
    fn keep(&self, shaped: Shaped) {
        if let Shaped::Message(message) = shaped {
            self.messages
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(message);
        }
    }

    /// The messages collected, oldest first.
    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.messages.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Whether a log message of `level` goes out at the default level.
fn default_level(level: &str) -> bool {
    super::session::level_index(level).is_some_and(|l| l >= super::session::DEFAULT_LOG_LEVEL)
}

impl CallSink for BufferedSink {
    fn notify(&self, method: &str, params: Value) {
        self.keep(self.route().shape(method, params));
    }

    fn notify_raw(&self, method: &str, params: &RawValue) {
        if let Some(shaped) = self.route().shape_raw_or_parse(method, params) {
            self.keep(shaped);
        }
    }

    fn request(
        &self,
        method: &str,
        _: Value,
        _: Option<&str>,
        _: &AtomicBool,
    ) -> Result<Value, HostRequestError> {
        Err(no_way_back(method))
    }
}

mod raw;
#[cfg(test)]
mod tests;
