//! Server-Sent Events responses: a request's response stream, resumable streams, and the
//! session stream of `GET`.
//!
//! In a stateful session every message on a POST response stream is recorded in the session's
//! event log under an id, so a client whose stream broke (or that the server closed on
//! purpose, SEP-1699 polling) can `GET` with `Last-Event-ID` and receive the rest. A client
//! disconnect then does not cancel the call: the protocol (2025-03-26 to 2025-11-25) says a
//! disconnect is not a cancellation, and the result waits in the log. Without a session
//! nobody can resume, so a disconnect cancels the call.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use crate::mcp::Session;
use crate::mcp::events::{Resumed, event_id};
use crate::mcp::sink::Outbound;

/// The `retry:` hint (ms) sent with the priming event.
pub const RETRY_MS: u64 = 1000;
/// How often an idle long-lived stream gets a comment, so dead connections are noticed.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A `message` event carrying one JSON-RPC message, with an id when resumable.
pub fn event(json: &str, id: Option<&str>) -> Bytes {
    let mut s = String::with_capacity(json.len() + 40);
    if let Some(id) = id {
        s.push_str("id: ");
        s.push_str(id);
        s.push('\n');
    }
    s.push_str("event: message\ndata: ");
    s.push_str(json);
    s.push_str("\n\n");
    Bytes::from(s)
}

/// An SSE response around `body`.
pub fn response(body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        body,
    )
        .into_response()
}

/// Adapts an mpsc receiver to a `Stream` for a response body.
struct ReceiverStream<T>(mpsc::Receiver<T>);

impl<T> futures_util::Stream for ReceiverStream<T> {
    type Item = T;
    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}

/// A body fed by a channel, and the sending half.
fn channel_body() -> (mpsc::Sender<Result<Bytes, Infallible>>, Body) {
    let (tx, rx) = mpsc::channel(64);
    (tx, Body::from_stream(ReceiverStream(rx)))
}

/// How a request's stream behaves.
#[derive(Debug)]
pub struct StreamMode {
    /// The session whose event log records the stream, when the stream is resumable.
    pub resumable: Option<Arc<Session>>,
    /// Send a priming event (empty data, an id and `retry:`) first (2025-11-25 and later).
    pub priming: bool,
    /// Set when the client goes away and the stream is not resumable.
    pub cancel: Arc<AtomicBool>,
}

/// Streams `first`, everything else `rx` carries, then the result of `work`.
pub fn request_stream(
    work: Pin<Box<dyn Future<Output = String> + Send>>,
    first: Outbound,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
    mode: StreamMode,
) -> Response {
    let (body_tx, body) = channel_body();
    tokio::spawn(async move {
        let StreamMode {
            resumable,
            priming,
            cancel,
        } = mode;
        let stream = resumable.as_ref().map(|s| lock(s).open());
        let mut out = Some(body_tx);
        // Records a message in the session log (when resumable) and sends it (if connected).
        let emit = |out: &mut Option<mpsc::Sender<Result<Bytes, Infallible>>>, msg: &str| {
            let id = match (&resumable, stream) {
                (Some(s), Some(n)) => Some(event_id(n, lock(s).record(n, msg))),
                _ => None,
            };
            let chunk = event(msg, id.as_deref());
            if let Some(tx) = out
                && tx.try_send(Ok(chunk)).is_err()
            {
                // Full or gone: a client that cannot keep up is treated as gone.
                *out = None;
            }
        };
        if let (true, Some(n), Some(tx)) = (priming, stream, &out) {
            let prime = format!("id: {}\nretry: {RETRY_MS}\ndata: \n\n", event_id(n, 0));
            let _ = tx.try_send(Ok(Bytes::from(prime)));
        }
        let mut work = work;
        let mut pending = Some(first);
        loop {
            if let Some(m) = pending.take() {
                match m {
                    Outbound::Message(msg) => emit(&mut out, &msg),
                    // The tool asked to end the HTTP stream; the call goes on and the client
                    // resumes with Last-Event-ID. Without a log there is nothing to resume.
                    Outbound::CloseStream if resumable.is_some() => out = None,
                    Outbound::CloseStream => {}
                }
            }
            if out.is_none() && resumable.is_none() {
                cancel.store(true, Ordering::Relaxed);
                return;
            }
            tokio::select! {
                result = &mut work => {
                    while let Ok(m) = rx.try_recv() {
                        if let Outbound::Message(msg) = m {
                            emit(&mut out, &msg);
                        }
                    }
                    emit(&mut out, &result);
                    if let (Some(s), Some(n)) = (&resumable, stream) {
                        lock(s).finish(n);
                    }
                    return;
                }
                Some(m) = rx.recv() => pending = Some(m),
                () = closed(&out) => out = None,
            }
        }
    });
    response(body)
}

/// Resolves when the body's receiver is gone; never when there is no body.
async fn closed(out: &Option<mpsc::Sender<Result<Bytes, Infallible>>>) {
    match out {
        Some(tx) => tx.closed().await,
        None => std::future::pending().await,
    }
}

fn lock(s: &Session) -> std::sync::MutexGuard<'_, crate::mcp::events::EventLog> {
    s.events.lock().unwrap_or_else(|e| e.into_inner())
}

/// The replay of a resumed stream: missed events, then live ones until the response.
pub fn resumed_stream(stream: u64, resumed: Resumed) -> Response {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        for (seq, msg) in resumed.missed {
            let id = event_id(stream, seq);
            if tx.send(Ok(event(&msg, Some(&id)))).await.is_err() {
                return;
            }
        }
        if let Some(mut live) = resumed.live {
            while let Some((seq, msg)) = live.recv().await {
                let id = event_id(stream, seq);
                if tx.send(Ok(event(&msg, Some(&id)))).await.is_err() {
                    return;
                }
            }
        }
    });
    response(body)
}

/// The session's stream for messages not tied to a request (`GET`), with keep-alives.
pub fn session_stream(mut rx: mpsc::UnboundedReceiver<String>) -> Response {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(KEEP_ALIVE);
        tick.tick().await;
        loop {
            let chunk = tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => event(&m, None),
                    None => return,
                },
                _ = tick.tick() => Bytes::from_static(b": keep-alive\n\n"),
                () = tx.closed() => return,
            };
            if tx.send(Ok(chunk)).await.is_err() {
                return;
            }
        }
    });
    response(body)
}
