//! Server-Sent Events responses: a request's response stream, resumable streams, and the
//! session stream of `GET`.
//!
//! In a stateful session every message on a POST response stream is recorded in the session's
//! event log under an id, so a client whose stream broke (or that the server closed on
//! purpose, SEP-1699 polling) can `GET` with `Last-Event-ID` and receive the rest. A client
//! disconnect then does not cancel the call: the protocol (2025-03-26 to 2025-11-25) says a
//! disconnect is not a cancellation, and the result waits in the log. Without a session
//! nobody can resume, so a disconnect cancels the call.
//!
//! Every write to a connected client waits for room (`send().await`), so a slow client slows
//! the stream, and through the request's bounded outbound channel the tool itself; only a
//! closed body means the client is gone. The response is written after every message the
//! tool's sink accepted before it. The session `GET` stream, which has no tool to slow down,
//! keeps a bounded backlog instead and counts what it drops.

use std::collections::VecDeque;
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
use crate::mcp::sink::{DropReason, Drops, Outbound};

/// The `retry:` hint (ms) sent with the priming event.
pub(crate) const RETRY_MS: u64 = 1000;
/// How often an idle long-lived stream gets a comment, so dead connections are noticed.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How many messages a session `GET` stream holds for a client that is not reading before it
/// drops the oldest (its producers are not tools and cannot be slowed down).
pub(crate) const SESSION_BACKLOG: usize = 1024;

/// A `message` event carrying one JSON-RPC message, with an id when resumable.
pub(crate) fn event(json: &str, id: Option<&str>) -> Bytes {
    let mut s = String::with_capacity(json.len() + EVENT_OVERHEAD);
    write_event(&mut s, json, id);
    Bytes::from(s)
}

/// What [`write_event`] adds to a message without an id, and a little room for one.
pub(crate) const EVENT_OVERHEAD: usize = 40;

/// Appends one `message` event with `json` as its data (and `id`, if any) to `out`.
pub(crate) fn write_event(out: &mut String, json: &str, id: Option<&str>) {
    if let Some(id) = id {
        out.push_str("id: ");
        out.push_str(id);
        out.push('\n');
    }
    out.push_str("event: message\ndata: ");
    out.push_str(json);
    out.push_str("\n\n");
}

/// An SSE response around `body`.
pub(crate) fn response(body: Body) -> Response {
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

/// The sending half of a response body.
type BodyTx = mpsc::Sender<Result<Bytes, Infallible>>;

/// A body fed by a channel, and the sending half.
fn channel_body() -> (BodyTx, Body) {
    let (tx, rx) = mpsc::channel(64);
    (tx, Body::from_stream(ReceiverStream(rx)))
}

/// How a request's stream behaves.
#[derive(Debug)]
pub(crate) struct StreamMode {
    /// The session whose event log records the stream, when the stream is resumable.
    pub(crate) resumable: Option<Arc<Session>>,
    /// Send a priming event (empty data, an id and `retry:`) first (2025-11-25 and later).
    pub(crate) priming: bool,
    /// Set when the client goes away and the stream is not resumable.
    pub(crate) cancel: Arc<AtomicBool>,
    /// Counts what the stream could not deliver.
    pub(crate) drops: Drops,
}

/// The handler's future, producing the serialized response.
pub(crate) type Work = Pin<Box<dyn Future<Output = String> + Send>>;

/// Streams `first`, everything else `rx` carries, then the result of `work`.
pub(crate) fn request_stream(
    work: Work,
    first: Outbound,
    rx: mpsc::Receiver<Outbound>,
    mode: StreamMode,
) -> Response {
    let (body_tx, body) = channel_body();
    let StreamMode {
        resumable,
        priming,
        cancel,
        drops,
    } = mode;
    let log = resumable.map(|s| {
        let n = lock(&s).open();
        (s, n)
    });
    let writer = Writer {
        out: Some(body_tx),
        log,
        drops,
    };
    tokio::spawn(writer.run(work, first, rx, priming, cancel));
    response(body)
}

/// Writes one request's stream: to the client while it is connected, and to the session's
/// event log when the stream is resumable.
struct Writer {
    /// The response body; `None` once the client is gone or the tool closed the stream.
    out: Option<BodyTx>,
    /// The session and stream number, when resumable.
    log: Option<(Arc<Session>, u64)>,
    drops: Drops,
}

impl Writer {
    async fn run(
        mut self,
        mut work: Work,
        first: Outbound,
        mut rx: mpsc::Receiver<Outbound>,
        priming: bool,
        cancel: Arc<AtomicBool>,
    ) {
        if let (true, Some((_, n)), Some(tx)) = (priming, &self.log, &self.out) {
            let prime = format!("id: {}\nretry: {RETRY_MS}\ndata: \n\n", event_id(*n, 0));
            if tx.send(Ok(Bytes::from(prime))).await.is_err() {
                self.out = None;
            }
        }
        let resumable = self.log.is_some();
        let mut result = None;
        let mut next = Some(first);
        loop {
            match next.take() {
                Some(Outbound::Message(msg)) => {
                    // Keep polling the handler while the client is slow: its timeout must
                    // still fire (and cancel a tool that waits for room) meanwhile.
                    let emit = self.emit(&msg);
                    tokio::pin!(emit);
                    loop {
                        tokio::select! {
                            biased;
                            () = &mut emit => break,
                            r = &mut work, if result.is_none() => result = Some(r),
                        }
                    }
                }
                // The tool asked to end the HTTP stream; the call goes on and the client
                // resumes with Last-Event-ID. Without a log there is nothing to resume.
                Some(Outbound::CloseStream) if resumable => self.out = None,
                Some(Outbound::CloseStream) | None => {}
            }
            if self.out.is_none() && !resumable {
                cancel.store(true, Ordering::Relaxed);
                return;
            }
            if let Some(result) = result.take() {
                return self.finish(&mut rx, &result).await;
            }
            // The handler first, so a tool that never stops sending still meets its timeout;
            // `finish` then writes whatever it sent before the response.
            next = tokio::select! {
                biased;
                r = &mut work => {
                    result = Some(r);
                    None
                }
                Some(m) = rx.recv() => Some(m),
                () = closed(&self.out) => {
                    self.out = None;
                    None
                }
            };
        }
    }

    /// Writes what the tool sent before it returned, then the response.
    async fn finish(mut self, rx: &mut mpsc::Receiver<Outbound>, result: &str) {
        // The handler has returned, so everything its sink accepted is in the channel. Closing
        // it first bounds the drain: a timed-out tool that keeps sending is refused from now.
        rx.close();
        while let Some(m) = rx.recv().await {
            if let Outbound::Message(msg) = m {
                self.emit(&msg).await;
            }
        }
        self.emit(result).await;
        if let Some((s, n)) = &self.log {
            lock(s).finish(*n);
        }
    }

    /// Records a message in the session log (when resumable) and sends it to the client (if
    /// connected) and to a resumed reader (if one follows), waiting for room in each.
    async fn emit(&mut self, msg: &str) {
        let (id, follower) = match &self.log {
            Some((s, n)) => {
                let r = lock(s).record(*n, msg, self.out.is_some());
                self.drops.count(DropReason::ReplayLog, r.lost);
                (Some(event_id(*n, r.seq)), r.follower.map(|f| (f, r.seq)))
            }
            None => (None, None),
        };
        if let Some(tx) = &self.out
            && tx.send(Ok(event(msg, id.as_deref()))).await.is_err()
        {
            self.out = None;
        }
        if let Some((f, seq)) = follower {
            // A reader that went away is forgotten by the log on the next record.
            let _ = f.send((seq, msg.to_string())).await;
        }
    }
}

/// Resolves when the body's receiver is gone; never when there is no body.
async fn closed(out: &Option<BodyTx>) {
    match out {
        Some(tx) => tx.closed().await,
        None => std::future::pending().await,
    }
}

fn lock(s: &Session) -> std::sync::MutexGuard<'_, crate::mcp::events::EventLog> {
    s.events.lock().unwrap_or_else(|e| e.into_inner())
}

/// The replay of a resumed stream: missed events, then live ones until the response.
pub(crate) fn resumed_stream(stream: u64, resumed: Resumed) -> Response {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        for (seq, msg) in resumed.missed {
            let id = event_id(stream, seq);
            if tx.send(Ok(event(&msg, Some(&id)))).await.is_err() {
                return;
            }
        }
        let Some(mut live) = resumed.live else {
            return;
        };
        loop {
            let (seq, msg) = tokio::select! {
                e = live.recv() => match e {
                    Some(e) => e,
                    None => return,
                },
                () = tx.closed() => return,
            };
            let id = event_id(stream, seq);
            if tx.send(Ok(event(&msg, Some(&id)))).await.is_err() {
                return;
            }
        }
    });
    response(body)
}

/// The session's stream for messages not tied to a request (`GET`), with keep-alives. A
/// client that stops reading gets the newest [`SESSION_BACKLOG`] messages when it resumes
/// reading; older ones are dropped and counted.
pub(crate) fn session_stream(mut rx: mpsc::UnboundedReceiver<String>, drops: Drops) -> Response {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(KEEP_ALIVE);
        tick.tick().await;
        let mut backlog: VecDeque<Bytes> = VecDeque::new();
        loop {
            tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => {
                        if backlog.len() >= SESSION_BACKLOG {
                            backlog.pop_front();
                            drops.count(DropReason::SessionStream, 1);
                        }
                        backlog.push_back(event(&m, None));
                    }
                    // The session ended the stream: hand over what fits, without waiting.
                    None => {
                        let left = backlog.len();
                        let sent = backlog
                            .into_iter()
                            .take_while(|b| tx.try_send(Ok(b.clone())).is_ok())
                            .count();
                        drops.count(DropReason::SessionStream, (left - sent) as u64);
                        return;
                    }
                },
                permit = tx.reserve(), if !backlog.is_empty() => match (permit, backlog.pop_front()) {
                    (Ok(p), Some(chunk)) => p.send(Ok(chunk)),
                    _ => return,
                },
                _ = tick.tick() => {
                    if backlog.is_empty() {
                        backlog.push_back(Bytes::from_static(b": keep-alive\n\n"));
                    }
                }
                () = tx.closed() => return,
            }
        }
    });
    response(body)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use futures_util::StreamExt;

    use super::*;
    use crate::metrics::Metrics;

    fn dropped(metrics: &Metrics) -> u64 {
        metrics
            .encode()
            .lines()
            .find_map(|l| {
                l.strip_prefix("fastmcp_notifications_dropped_total{reason=\"session_stream\"} ")
            })
            .map_or(0, |v| v.parse().expect("a count"))
    }

    #[tokio::test]
    async fn a_session_stream_nobody_reads_keeps_the_newest_messages_and_counts_the_rest() {
        let metrics = Arc::new(Metrics::new());
        let (tx, rx) = mpsc::unbounded_channel();
        let body = session_stream(rx, Drops::new(Some(metrics.clone()))).into_body();
        for i in 0..3000 {
            tx.send(i.to_string()).unwrap();
        }
        // The body holds 64 chunks; the backlog the newest SESSION_BACKLOG of the rest.
        let kept = 64 + SESSION_BACKLOG;
        let deadline = Instant::now() + Duration::from_secs(10);
        while dropped(&metrics) < (3000 - kept) as u64 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(dropped(&metrics), (3000 - kept) as u64);
        let mut chunks = body.into_data_stream();
        let mut got = Vec::new();
        while got.len() < kept {
            let chunk = tokio::time::timeout(Duration::from_secs(10), chunks.next())
                .await
                .expect("a chunk in time")
                .expect("the stream goes on")
                .unwrap();
            got.push(String::from_utf8(chunk.to_vec()).unwrap());
        }
        let want: Vec<String> = (0..64)
            .chain(3000 - SESSION_BACKLOG..3000)
            .map(|i| String::from_utf8(event(&i.to_string(), None).to_vec()).unwrap())
            .collect();
        assert_eq!(got, want);
    }
}
