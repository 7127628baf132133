//! HTTP/1.1 for the requests MCP clients send, without hyper's per-connection buffers.
//!
//! hyper keeps an 8 KiB buffer per connection for reading and another for response heads, and
//! while a call is in flight the request's header values and body pin the read buffer, so it
//! reserves a second one: about 26 KiB of the 32 an in-flight call cost (docs/performance.md).
//! This loop holds no buffer while it waits for a request or for an answer. A request head is
//! read into a buffer that grows from [`READ_CHUNK`], copied once into the allocation its
//! header values point into, and its body into another; the response head is written from a
//! buffer sized to it.
//!
//! It serves HTTP/1.1 `GET`, `POST` and `DELETE` with no body or a `Content-Length` one of at
//! most [`MAX_BODY`] bytes. Anything else (HTTP/1.0, a chunked or larger body, `Expect`,
//! `Upgrade`, another method, a head it cannot parse or longer than [`MAX_HEAD`]) ends this
//! loop with the bytes read so far, and hyper serves the rest of the connection as it served
//! all of it before: its answers, errors included, are unchanged.
//!
//! Like hyper, it reads while a request is answered to see the client hang up: an end of stream
//! drops the answer's future, which cancels the call. Bytes of pipelined requests are kept for
//! later, up to [`MAX_AHEAD`]. At shutdown an idle connection closes, and a busy one closes
//! after its response, which says `connection: close`.
//!
//! [`write`] writes the responses.

use std::convert::Infallible;
use std::future::poll_fn;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, Uri, header};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use self::write::write_response;
use super::progress::Progress;

/// How a connection's requests ended up.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The connection is done: the client closed it, an I/O error, or shutdown.
    Closed,
    /// A request this loop does not serve: hyper goes on from these bytes.
    Handoff(Vec<u8>),
}

/// What one read of the socket grows the buffer by.
const READ_CHUNK: usize = 1024;
/// The longest request head served here; a longer one goes to hyper, whose limit is larger.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// The largest request body read here; a larger one goes to hyper, which streams it to the
/// handler under `--max-body-bytes`.
pub(crate) const MAX_BODY: usize = 64 * 1024;
/// The most header fields of a request served here.
const MAX_HEADERS: usize = 48;
/// Bytes of later requests read while one is answered; past them, reading waits (and a hang-up
/// is seen when the answer is written).
const MAX_AHEAD: usize = 64 * 1024;

/// What answers the requests: the application's router ([`crate::http::App`]).
pub(crate) trait Handler:
    tower_service::Service<
        Request<Body>,
        Response = Response<Body>,
        Error = Infallible,
        Future: Send,
    > + Clone
{
}

impl<S> Handler for S where
    S: tower_service::Service<
            Request<Body>,
            Response = Response<Body>,
            Error = Infallible,
            Future: Send,
        > + Clone
{
}

/// Serves `tcp`'s requests with `router` until the connection ends or a request needs hyper.
/// Once `stopping` is set (shutdown), an idle connection closes and a busy one closes after its
/// response. Bodies longer than `max_body` (`--max-body-bytes`) go to hyper too, whose handler refuses
/// them unread.
pub(crate) async fn serve(
    tcp: &mut TcpStream,
    router: &impl Handler,
    progress: &Progress,
    stopping: &AtomicBool,
    max_body: usize,
) -> Outcome {
    let max_body = max_body.min(MAX_BODY);
    let mut buf = Vec::new();
    loop {
        let next = next_request(tcp, &mut buf, progress, stopping, max_body).await;
        let (request, keep_alive) = match next {
            Next::Request(request, keep_alive) => (request, keep_alive),
            Next::Closed => return Outcome::Closed,
            Next::Other => return Outcome::Handoff(buf),
        };
        let mut router = router.clone();
        let answer = tower_service::Service::call(&mut router, request);
        let Some(response) = answer_or_hang_up(tcp, &mut buf, answer).await else {
            return Outcome::Closed;
        };
        let close =
            !keep_alive || stopping.load(Ordering::Relaxed) || asks_close(response.headers());
        if write_response(tcp, &mut buf, response, close)
            .await
            .is_err()
        {
            return Outcome::Closed;
        }
        progress.end_request();
        if close {
            let _ = tcp.shutdown().await;
            return Outcome::Closed;
        }
    }
}

/// What the connection brings next.
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per request and taken apart at once; a box would cost an allocation"
)]
enum Next {
    /// A request to answer, and whether the connection stays open after it.
    Request(Request<Body>, bool),
    Closed,
    /// A request for hyper; its bytes are in the buffer.
    Other,
}

/// Reads until `buf` holds a whole request, which it takes from `buf`.
async fn next_request(
    tcp: &TcpStream,
    buf: &mut Vec<u8>,
    progress: &Progress,
    stopping: &AtomicBool,
    max_body: usize,
) -> Next {
    // A head ends in a newline: bytes without one cannot complete it, so a client that sends
    // its head a byte at a time costs no parse per byte. The first bytes are parsed anyway, so
    // that what is not HTTP (a TLS client hello) is answered now rather than at the timeout.
    let mut parse_now = !buf.is_empty();
    loop {
        if parse_now {
            match parse(buf, max_body) {
                Parse::Head(head) => return read_body(tcp, buf, progress, head).await,
                Parse::Partial => {}
                Parse::Other => return Next::Other,
            }
        }
        let read = if buf.is_empty() {
            // Idle: shutdown closes the connection now. Whoever sets `stopping` polls this
            // future next, as `conn::supervise` does; a flag costs no waiter per request.
            let stopped = poll_fn(|_| {
                if stopping.load(Ordering::Relaxed) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            });
            tokio::select! {
                biased;
                r = read_more(tcp, buf) => r,
                () = stopped => return Next::Closed,
            }
        } else {
            read_more(tcp, buf).await
        };
        match read {
            Ok(0) | Err(_) => return Next::Closed,
            Ok(n) => {
                progress.bytes_in();
                parse_now = buf.len() == n
                    || buf[buf.len() - n..].contains(&b'\n')
                    || buf.len() >= MAX_HEAD;
            }
        }
    }
}

/// Reads the body of `head` (the watchdog's body timeout runs meanwhile), then builds the
/// request.
async fn read_body(tcp: &TcpStream, buf: &mut Vec<u8>, progress: &Progress, head: Head) -> Next {
    progress.begin_request();
    let total = head.len + head.body_len;
    while buf.len() < total {
        match read_more(tcp, buf).await {
            Ok(0) | Err(_) => return Next::Closed,
            Ok(_) => {}
        }
    }
    progress.body_done();
    let body = if head.body_len == 0 {
        Body::empty()
    } else {
        Body::from(Bytes::copy_from_slice(&buf[head.len..total]))
    };
    buf.drain(..total);
    if buf.is_empty() {
        // Nothing of a next request: the buffer is not kept while the call runs.
        *buf = Vec::new();
    }
    Next::Request(Request::from_parts(head.parts, body), head.keep_alive)
}

/// Reads what the socket has, growing `buf` only once it is readable. `Ok(0)`: the client
/// closed its side.
async fn read_more(tcp: &TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    loop {
        tcp.readable().await?;
        buf.reserve(READ_CHUNK);
        match tcp.try_read_buf(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            r => return r,
        }
    }
}

/// A request head, parsed.
struct Head {
    parts: Parts,
    /// Bytes of the head.
    len: usize,
    body_len: usize,
    keep_alive: bool,
}

#[allow(
    clippy::large_enum_variant,
    reason = "returned once per request and taken apart at once; a box would cost an allocation"
)]
enum Parse {
    Head(Head),
    Partial,
    Other,
}

/// Parses the head at the start of `buf`, if it is one this loop serves.
fn parse(buf: &[u8], max_body: usize) -> Parse {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut fields);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => return Parse::Partial,
        _ => return Parse::Other,
    };
    let method = match req.method {
        Some("POST") => Method::POST,
        Some("GET") => Method::GET,
        Some("DELETE") => Method::DELETE,
        _ => return Parse::Other,
    };
    let Some(path) = req.path.filter(|p| p.starts_with('/')) else {
        return Parse::Other;
    };
    if req.version != Some(1) {
        return Parse::Other;
    }
    // One allocation for the whole head; the URI and header values are slices of it.
    let bytes = Bytes::copy_from_slice(&buf[..len]);
    let base = buf.as_ptr() as usize;
    let slice = |s: &[u8]| {
        let at = s.as_ptr() as usize - base;
        bytes.slice(at..at + s.len())
    };
    let Ok(uri) = Uri::from_maybe_shared(slice(path.as_bytes())) else {
        return Parse::Other;
    };
    let Some(fields) = Fields::read(req.headers, slice, max_body) else {
        return Parse::Other;
    };
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.method = method;
    parts.uri = uri;
    parts.headers = fields.map;
    Parse::Head(Head {
        parts,
        len,
        body_len: fields.body_len,
        keep_alive: fields.keep_alive,
    })
}

/// A head's header fields, and what they say about framing.
struct Fields {
    map: HeaderMap,
    body_len: usize,
    keep_alive: bool,
}

impl Fields {
    /// `None` when a field needs hyper: a body that is chunked, too large or announced twice,
    /// `Expect`, `Upgrade`, or a name or value `http` rejects.
    fn read(
        fields: &[httparse::Header<'_>],
        slice: impl Fn(&[u8]) -> Bytes,
        max_body: usize,
    ) -> Option<Fields> {
        let mut map = HeaderMap::with_capacity(fields.len());
        let mut body_len = None;
        let mut keep_alive = true;
        for field in fields {
            let name = HeaderName::from_bytes(field.name.as_bytes()).ok()?;
            if name == header::TRANSFER_ENCODING
                || name == header::EXPECT
                || name == header::UPGRADE
            {
                return None;
            }
            if name == header::CONTENT_LENGTH {
                if body_len.is_some() {
                    return None;
                }
                body_len = Some(content_length(field.value).filter(|n| *n <= max_body)?);
            }
            if name == header::CONNECTION {
                for token in field.value.split(|b| *b == b',') {
                    let token = token.trim_ascii();
                    if token.eq_ignore_ascii_case(b"close") {
                        keep_alive = false;
                    } else if token.eq_ignore_ascii_case(b"upgrade") {
                        return None;
                    }
                }
            }
            let value = HeaderValue::from_maybe_shared(slice(field.value)).ok()?;
            map.append(name, value);
        }
        Some(Fields {
            map,
            body_len: body_len.unwrap_or(0),
            keep_alive,
        })
    }
}

/// A `Content-Length` of at most [`MAX_BODY`]: digits only, as RFC 9110 has it.
fn content_length(value: &[u8]) -> Option<usize> {
    if value.is_empty() || value.len() > 7 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = value
        .iter()
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
    (n <= MAX_BODY).then_some(n)
}

/// Whether the handler's response closes the connection.
fn asks_close(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
}

/// Awaits `answer`, reading meanwhile: `None` when the client hung up (the answer is dropped).
async fn answer_or_hang_up(
    tcp: &TcpStream,
    buf: &mut Vec<u8>,
    answer: impl Future<Output = Result<Response<Body>, Infallible>>,
) -> Option<Response<Body>> {
    tokio::pin!(answer);
    loop {
        tokio::select! {
            biased;
            r = &mut answer => return match r {
                Ok(response) => Some(response),
                Err(never) => match never {},
            },
            r = read_more(tcp, buf), if buf.len() < MAX_AHEAD => match r {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            },
        }
    }
}

mod write;

#[cfg(test)]
mod tests;
