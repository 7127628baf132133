//! Writing a response: the head from a buffer sized to it, a body of known length after it
//! (in the same write when small), any other body chunked. While it waits on the body (an SSE
//! stream may wait long between events) it reads the socket, to see the client hang up.

use std::cell::RefCell;
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Response, header};
use http_body_util::BodyExt as _;
use hyper::body::Body as _;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::{MAX_AHEAD, read_more};

/// Response bodies of up to this size go out in one write with their head.
const ONE_WRITE: usize = 16 * 1024;

/// How a response body is framed.
#[derive(Clone, Copy)]
enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// Writes `response`; an error means the connection is unusable.
pub(super) async fn write_response(
    tcp: &mut TcpStream,
    buf: &mut Vec<u8>,
    response: Response<Body>,
    close: bool,
) -> io::Result<()> {
    let (parts, mut body) = response.into_parts();
    let status = parts.status;
    let framing = if status.is_informational() || status.as_u16() == 204 || status.as_u16() == 304 {
        Framing::None
    } else {
        match body.size_hint().exact() {
            Some(n) => Framing::Length(n),
            None => Framing::Chunked,
        }
    };
    let inline = match framing {
        Framing::Length(n) if n as usize <= ONE_WRITE => n as usize,
        _ => 0,
    };
    let mut out = Vec::with_capacity(head_size(&parts.headers) + inline);
    write_head(&mut out, &parts, framing, close);
    match framing {
        Framing::None => tcp.write_all(&out).await,
        Framing::Length(n) => {
            let mut sent = 0u64;
            while let Some(data) = next_data(tcp, buf, &mut body).await? {
                sent += data.len() as u64;
                if sent > n {
                    return Err(io::Error::other("response body longer than its length"));
                }
                if out.len() + data.len() <= out.capacity() {
                    out.extend_from_slice(&data);
                } else {
                    tcp.write_all(&out).await?;
                    out.clear();
                    tcp.write_all(&data).await?;
                }
            }
            tcp.write_all(&out).await?;
            if sent == n {
                Ok(())
            } else {
                Err(io::Error::other("response body shorter than its length"))
            }
        }
        Framing::Chunked => {
            tcp.write_all(&out).await?;
            while let Some(data) = next_data(tcp, buf, &mut body).await? {
                if data.is_empty() {
                    continue;
                }
                out.clear();
                chunk_size(&mut out, data.len());
                out.extend_from_slice(&data);
                out.extend_from_slice(b"\r\n");
                tcp.write_all(&out).await?;
            }
            tcp.write_all(b"0\r\n\r\n").await
        }
    }
}

/// A chunk's size line: the size in hex, then CRLF.
pub(super) fn chunk_size(out: &mut Vec<u8>, n: usize) {
    let digits = (usize::BITS - n.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(b"0123456789abcdef"[(n >> (i * 4)) & 0xf]);
    }
    out.extend_from_slice(b"\r\n");
}

/// The body's next data, reading meanwhile to see the client hang up (an SSE stream may wait
/// long between events). Trailers are dropped.
async fn next_data(
    tcp: &TcpStream,
    buf: &mut Vec<u8>,
    body: &mut Body,
) -> io::Result<Option<Bytes>> {
    loop {
        let frame = tokio::select! {
            biased;
            frame = body.frame() => frame,
            r = read_more(tcp, buf), if buf.len() < MAX_AHEAD => match r {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Err(e) => return Err(e),
                Ok(_) => continue,
            },
        };
        match frame {
            None => return Ok(None),
            Some(Err(e)) => return Err(io::Error::other(e)),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// Bytes of the head [`write_head`] writes, give or take.
fn head_size(headers: &HeaderMap) -> usize {
    let fields: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    // Status line, framing, date, connection, the final CRLF.
    fields + 128
}

fn write_head(
    out: &mut Vec<u8>,
    parts: &axum::http::response::Parts,
    framing: Framing,
    close: bool,
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(parts.status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(parts.status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut dated = false;
    for (name, value) in &parts.headers {
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::CONNECTION
        {
            continue;
        }
        dated |= name == header::DATE;
        field(out, name.as_str().as_bytes(), value.as_bytes());
    }
    match framing {
        Framing::None => {}
        Framing::Length(n) => {
            field(
                out,
                b"content-length",
                itoa::Buffer::new().format(n).as_bytes(),
            );
        }
        Framing::Chunked => field(out, b"transfer-encoding", b"chunked"),
    }
    if close {
        field(out, b"connection", b"close");
    }
    if !dated {
        DATE.with_borrow_mut(|date| field(out, b"date", date.now()));
    }
    out.extend_from_slice(b"\r\n");
}

fn field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

thread_local! {
    /// The `Date` value, formatted once a second per I/O thread.
    static DATE: RefCell<Date> = const { RefCell::new(Date { second: u64::MAX, text: String::new() }) };
}

struct Date {
    second: u64,
    text: String,
}

impl Date {
    fn now(&mut self) -> &[u8] {
        let now = SystemTime::now();
        let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if second != self.second {
            self.second = second;
            self.text = httpdate::fmt_http_date(now);
        }
        self.text.as_bytes()
    }
}
