//! One HTTP/1 connection: hyper parses requests and writes responses, and a watchdog bounds how
//! long the client may take. hyper's own `header_read_timeout` starts as soon as a keep-alive
//! connection goes idle, so it cannot tell a slow request head (10 s) from an idle keep-alive
//! connection (60 s); the watchdog reads a few timestamps instead, which the connection's task
//! writes as it goes:
//!
//! - header: from the accept, or from the first byte of a later request, until the head is in;
//! - body: from the end of the head until the body is read or the handler answers;
//! - idle: from the end of a response until the first byte of the next request.
//!
//! A request being answered (a call running, an SSE stream open) has no deadline: the tool
//! timeout bounds calls, and streams end with their call, their session or shutdown. A
//! connection past its deadline is closed without a response.
//!
//! Everything here runs on the connection's own task (hyper polls the handler and both bodies
//! there), so a request costs a few uncontended atomic stores and two clock reads: no
//! allocation, no lock. The watchdog sleeps once per connection and wakes at most every
//! `min(timeouts)`.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use super::gated::Gated;
use crate::http::cutoff::Cutoff;
use crate::http::error::HttpError;

/// What every connection of one server needs, shared by the accept loop.
#[derive(Debug)]
pub(crate) struct Common {
    pub(crate) router: crate::http::App,
    pub(crate) timeouts: Timeouts,
    /// Becomes true at shutdown: connections finish their request and close.
    pub(crate) stop: watch::Receiver<bool>,
    pub(crate) cutoff: Arc<Cutoff>,
}

/// The three timeouts of a connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) header: Duration,
    pub(crate) body: Duration,
    pub(crate) idle: Duration,
}

impl Timeouts {
    /// The timeouts of a connection admitted past the limit for `/health` and `/ready` only:
    /// at most 2 s each, so a flood cannot hold the few places kept for probes for long.
    fn for_probes(self) -> Timeouts {
        let cap = Duration::from_secs(2);
        Timeouts {
            header: self.header.min(cap),
            body: self.body.min(cap),
            idle: self.idle.min(cap),
        }
    }

    fn shortest(&self) -> Duration {
        self.header.min(self.body).min(self.idle)
    }
}

/// What a connection is doing, as the watchdog sees it. Times are milliseconds since `born`,
/// plus one, so 0 can mean "not yet".
#[derive(Debug)]
struct Progress {
    born: Instant,
    /// Requests handed to the handler whose response body is not finished.
    busy: AtomicU32,
    /// The accept, the start of the request in flight, or the end of the last response.
    since: AtomicU64,
    /// The first byte of the next request's head; 0 = none yet.
    head_from: AtomicU64,
    /// The request in flight has its body read, or the handler answered.
    body_done: AtomicBool,
    /// No request yet: the header timeout runs from the accept.
    fresh: AtomicBool,
}

/// Which timeout a connection has to meet next.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Header,
    Body,
    Idle,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            born: Instant::now(),
            busy: AtomicU32::new(0),
            since: AtomicU64::new(1),
            head_from: AtomicU64::new(0),
            body_done: AtomicBool::new(true),
            fresh: AtomicBool::new(true),
        }
    }

    fn now(&self) -> u64 {
        self.born.elapsed().as_millis() as u64 + 1
    }

    fn instant(&self, ms: u64) -> Instant {
        self.born + Duration::from_millis(ms.saturating_sub(1))
    }

    /// Bytes arrived: the first of a request's head starts its header timeout.
    fn bytes_in(&self) {
        if self.busy.load(Ordering::Relaxed) == 0
            && !self.fresh.load(Ordering::Relaxed)
            && self.head_from.load(Ordering::Relaxed) == 0
        {
            self.head_from.store(self.now(), Ordering::Relaxed);
        }
    }

    /// hyper parsed a head and calls the handler.
    fn begin_request(&self) {
        self.busy.fetch_add(1, Ordering::Relaxed);
        self.fresh.store(false, Ordering::Relaxed);
        self.head_from.store(0, Ordering::Relaxed);
        self.body_done.store(false, Ordering::Relaxed);
        self.since.store(self.now(), Ordering::Relaxed);
    }

    fn body_done(&self) {
        self.body_done.store(true, Ordering::Relaxed);
    }

    /// The response body was written (or dropped).
    fn end_request(&self) {
        self.since.store(self.now(), Ordering::Relaxed);
        self.busy.fetch_sub(1, Ordering::Relaxed);
    }

    /// When the connection must have made progress, and what progress; `None` while it is
    /// answering.
    fn due(&self, t: &Timeouts) -> Option<(u64, Phase)> {
        let since = self.since.load(Ordering::Relaxed);
        if self.busy.load(Ordering::Relaxed) > 0 {
            return (!self.body_done.load(Ordering::Relaxed))
                .then(|| (since + ms(t.body), Phase::Body));
        }
        let head_from = self.head_from.load(Ordering::Relaxed);
        if head_from != 0 {
            Some((head_from + ms(t.header), Phase::Header))
        } else if self.fresh.load(Ordering::Relaxed) {
            Some((since + ms(t.header), Phase::Header))
        } else {
            Some((since + ms(t.idle), Phase::Idle))
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 4)
}

/// Serves one connection until it closes, times out, or shutdown closes it. With
/// `probes_only`, it answers one request, and only `/health` and `/ready` reach the router.
pub(crate) async fn serve(tcp: TcpStream, common: &Common, probes_only: bool) {
    // An SSE answer goes out in several writes; with Nagle's algorithm each one after the first
    // waits for the client's delayed ACK (~40 ms on a reused connection).
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
    let progress = Arc::new(Progress::new());
    let timeouts = if probes_only {
        common.timeouts.for_probes()
    } else {
        common.timeouts
    };
    let io = TokioIo::new(Io {
        tcp,
        progress: progress.clone(),
    });
    let service = ConnService {
        router: common.router.clone(),
        progress: progress.clone(),
        probes_only,
    };
    let mut builder = http1::Builder::new();
    builder.header_read_timeout(None).keep_alive(!probes_only);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    // The branches besides the connection are polled only when they woke the task (`Gated`),
    // not on every wake of the socket.
    let tick = timeouts.shortest();
    let sleep = Gated::new(tokio::time::sleep(tick));
    tokio::pin!(sleep);
    let mut stop = common.stop.clone();
    let stopping = Gated::new(async move {
        let _ = stop.wait_for(|stop| *stop).await;
    });
    tokio::pin!(stopping);
    let mut stopped = false;
    let cut = Gated::new(common.cutoff.wait());
    tokio::pin!(cut);
    let mut cut_seen = false;
    loop {
        tokio::select! {
            biased;
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = &mut sleep => {
                let now = progress.now();
                let due = progress.due(&timeouts);
                if let Some((at, phase)) = due
                    && at <= now
                {
                    tracing::debug!(?phase, "connection closed: too slow");
                    return;
                }
                // Woken at least every `tick`: a deadline set meanwhile is never earlier.
                let next = due.map_or(now + ms(tick), |(at, _)| at.min(now + ms(tick)));
                sleep.as_mut().repoll().reset(progress.instant(next));
            }
            () = &mut stopping, if !stopped => {
                stopped = true;
                conn.as_mut().graceful_shutdown();
            }
            // Polls the connection again, so a handler waiting on `Cutoff::fired` sees it.
            () = &mut cut, if !cut_seen => cut_seen = true,
        }
    }
}

/// The socket, noting when bytes arrive.
struct Io {
    tcp: TcpStream,
    progress: Arc<Progress>,
}

impl AsyncRead for Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.progress.bytes_in();
        }
        r
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// The router, with the request and response bodies reporting their progress.
#[derive(Clone)]
struct ConnService {
    router: crate::http::App,
    progress: Arc<Progress>,
    probes_only: bool,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, req: Request<Incoming>) -> ResponseFuture {
        self.progress.begin_request();
        let progress = self.progress.clone();
        if self.probes_only && !matches!(req.uri().path(), "/health" | "/ready") {
            return ResponseFuture {
                kind: Kind::Ready {
                    response: Some(at_limit()),
                },
                progress: Some(progress),
            };
        }
        // Boxed, as `axum::serve` boxes the bare body.
        let req = req.map(|inner| {
            axum::body::Body::new(TimedBody {
                inner,
                progress: progress.clone(),
            })
        });
        let mut router = self.router.clone();
        ResponseFuture {
            kind: Kind::Route {
                inner: tower_service::Service::call(&mut router, req),
            },
            progress: Some(progress),
        }
    }
}

/// 503 for a request past the connection limit that is not a probe.
fn at_limit() -> axum::response::Response {
    let mut r = HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable: the server is at its connection limit; try again later",
    )
    .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

pin_project_lite::pin_project! {
    /// The router's answer, its body tracked.
    struct ResponseFuture {
        #[pin]
        kind: Kind,
        progress: Option<Arc<Progress>>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind {
        Route { #[pin] inner: crate::http::edge::EdgeFuture<axum::routing::future::RouteFuture<Infallible>> },
        Ready { response: Option<axum::response::Response> },
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<TrackedBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.kind.project() {
            KindProj::Route { inner } => match inner.poll(cx) {
                Poll::Ready(Ok(r)) => r,
                Poll::Ready(Err(never)) => match never {},
                Poll::Pending => return Poll::Pending,
            },
            KindProj::Ready { response } => response.take().unwrap_or_else(at_limit),
        };
        let progress = this.progress.take().expect("polled after completion");
        progress.body_done();
        Poll::Ready(Ok(response.map(|inner| TrackedBody { inner, progress })))
    }
}

/// A request body that notes when it has been read to the end.
struct TimedBody {
    inner: Incoming,
    progress: Arc<Progress>,
}

impl hyper::body::Body for TimedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(r, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.progress.body_done();
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that ends the request, for the watchdog, when it is dropped: hyper drops
/// it once written, or with the connection.
pub(crate) struct TrackedBody {
    inner: Body,
    progress: Arc<Progress>,
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        self.progress.end_request();
    }
}

impl hyper::body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header: Duration::from_millis(100),
        body: Duration::from_millis(200),
        idle: Duration::from_millis(300),
    };

    fn phase(p: &Progress) -> Option<(u64, &'static str)> {
        p.due(&T).map(|(at, phase)| {
            let name = match phase {
                Phase::Header => "header",
                Phase::Body => "body",
                Phase::Idle => "idle",
            };
            (at, name)
        })
    }

    #[test]
    fn each_phase_has_its_deadline() {
        let p = Progress::new();
        // Fresh: the head is due a header timeout after the accept, bytes or not.
        assert_eq!(phase(&p), Some((101, "header")));
        p.bytes_in();
        assert_eq!(phase(&p), Some((101, "header")));
        p.begin_request();
        let start = p.since.load(Ordering::Relaxed);
        assert_eq!(phase(&p), Some((start + 200, "body")));
        p.body_done();
        assert_eq!(phase(&p), None, "answering is not idle");
        p.end_request();
        let end = p.since.load(Ordering::Relaxed);
        assert_eq!(phase(&p), Some((end + 300, "idle")));
        std::thread::sleep(Duration::from_millis(3));
        p.bytes_in();
        let first = p.head_from.load(Ordering::Relaxed);
        assert!(first > end);
        assert_eq!(phase(&p), Some((first + 100, "header")));
        p.begin_request();
        assert_eq!(p.head_from.load(Ordering::Relaxed), 0);
    }
}
