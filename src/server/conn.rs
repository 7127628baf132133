//! One HTTP/1 connection: [`h1`] serves the requests MCP clients send, hyper serves the rest of
//! a connection from the first request `h1` leaves to it, and a watchdog bounds how long the
//! client may take. hyper's own `header_read_timeout` starts as soon as a keep-alive
//! connection goes idle, so it cannot tell a slow request head (10 s) from an idle keep-alive
//! connection (60 s); the watchdog reads a few timestamps instead ([`super::progress`]), which
//! the connection's task writes as it goes:
//!
//! - header: from the accept, or from the first byte of a later request, until the head is in;
//! - body: from the end of the head until the body is read or the handler answers;
//! - idle: from the end of a response until the first byte of the next request.
//!
//! A request being answered (a call running, an SSE stream open) has no deadline: the tool
//! timeout bounds calls, and streams end with their call, their session or shutdown. A
//! connection past its deadline is closed without a response.
//!
//! Everything here runs on the connection's own task (`h1`, or hyper, polls the handler and
//! both bodies there). The watchdog sleeps once per connection and wakes at most every
//! `min(timeouts)`.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::gated::Gated;
use super::h1;
use super::progress::{Progress, Timeouts, ms};
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
    /// `--max-body-bytes`.
    pub(crate) max_body: usize,
}

/// Serves one connection until it closes, times out, or shutdown closes it: [`h1`] serves its
/// requests until one needs hyper, which serves the rest. With `probes_only`, hyper answers
/// one request, and only `/health` and `/ready` reach the router.
pub(crate) async fn serve(mut tcp: TcpStream, common: &Common, probes_only: bool) {
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
    let mut read = Vec::new();
    if !probes_only {
        let stopping = AtomicBool::new(false);
        let own = h1::serve(
            &mut tcp,
            &common.router,
            &progress,
            &stopping,
            common.max_body,
        );
        tokio::pin!(own);
        let graceful = |_: Pin<&mut _>| stopping.store(true, Ordering::Relaxed);
        match supervise(own, &progress, timeouts, common, graceful).await {
            Some(h1::Outcome::Handoff(bytes)) => read = bytes,
            Some(h1::Outcome::Closed) | None => return,
        }
    }
    let io = TokioIo::new(Io {
        tcp,
        read,
        at: 0,
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
    if let Some(Err(e)) = supervise(conn, &progress, timeouts, common, |conn| {
        conn.graceful_shutdown();
    })
    .await
    {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Polls `conn` until it ends (its output) or misses a deadline of `progress` (`None`: dropped,
/// which closes the socket). At shutdown, `graceful` tells it to finish and close.
async fn supervise<F: Future>(
    mut conn: Pin<&mut F>,
    progress: &Progress,
    timeouts: Timeouts,
    common: &Common,
    mut graceful: impl FnMut(Pin<&mut F>),
) -> Option<F::Output> {
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
            r = conn.as_mut() => return Some(r),
            () = &mut sleep => {
                let now = progress.now();
                let due = progress.due(&timeouts);
                if let Some((at, phase)) = due
                    && at <= now
                {
                    tracing::debug!(?phase, "connection closed: too slow");
                    return None;
                }
                // Woken at least every `tick`: a deadline set meanwhile is never earlier.
                let next = due.map_or(now + ms(tick), |(at, _)| at.min(now + ms(tick)));
                sleep.as_mut().repoll().reset(progress.instant(next));
            }
            () = &mut stopping, if !stopped => {
                stopped = true;
                graceful(conn.as_mut());
            }
            // Polls the connection again, so a handler waiting on `Cutoff::fired` sees it.
            () = &mut cut, if !cut_seen => cut_seen = true,
        }
    }
}

/// The socket, noting when bytes arrive, after the bytes [`h1`] read before it handed over.
struct Io {
    tcp: TcpStream,
    read: Vec<u8>,
    at: usize,
    progress: Arc<Progress>,
}

impl AsyncRead for Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.at < self.read.len() {
            let n = buf.remaining().min(self.read.len() - self.at);
            buf.put_slice(&self.read[self.at..self.at + n]);
            self.at += n;
            if self.at == self.read.len() {
                self.read = Vec::new();
                self.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
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
