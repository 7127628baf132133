//! The floor of `bench/io.sh`'s memory figure: what an in-flight call costs on tokio with no
//! HTTP library at all. One task per connection reads a request into a buffer sized to it,
//! parses the JSON-RPC body with serde_json, awaits `tokio::time::sleep` for the call's `ms`
//! and writes `waited N ms` in the same response shape as the ceiling. Keep-alive; requests
//! must carry `Content-Length` (wrk's do). Nothing else of HTTP: no chunked bodies, no
//! pipelining guarantees, no timeouts. It is a measuring stick, not a server.
//!
//! Its RSS per in-flight call is what the runtime (a task, a timer, a socket registration) and
//! the request's bytes cost; the ceiling's minus this one is what hyper and axum add.
//!
//! Run: `floor_io PORT` (listens on 127.0.0.1 only). `GET /ready` answers 200.

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request head or body larger than this closes the connection.
const MAX_REQUEST: usize = 64 * 1024;

#[derive(Deserialize)]
struct WaitRequest {
    id: serde_json::Value,
    params: WaitParams,
}

#[derive(Deserialize)]
struct WaitParams {
    arguments: WaitArguments,
}

#[derive(Deserialize)]
struct WaitArguments {
    ms: u64,
}

/// Where the head ends and how long the body is, once the whole head is in `buf`.
fn parse_head(buf: &[u8]) -> Option<(usize, usize, bool)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let is_get = head.starts_with("GET ");
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    Some((end, length, is_get))
}

fn response(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn answer(request: &[u8], is_get: bool) -> Vec<u8> {
    if is_get {
        return response(r#"{"status":"ready"}"#);
    }
    let Ok(req) = serde_json::from_slice::<WaitRequest>(request) else {
        return response(
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
        );
    };
    let ms = req.params.arguments.ms.min(60_000);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    let reply = serde_json::json!({
        "jsonrpc": "2.0",
        "id": req.id,
        "result": {"content": [{"type": "text", "text": format!("waited {ms} ms")}]},
    });
    response(&reply.to_string())
}

async fn connection(mut tcp: TcpStream) -> std::io::Result<()> {
    let mut scratch = [0u8; 2048];
    let mut buf = Vec::new();
    loop {
        let n = tcp.read(&mut scratch).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&scratch[..n]);
        while let Some((head, length, is_get)) = parse_head(&buf) {
            if head + length > MAX_REQUEST {
                return Ok(());
            }
            if buf.len() < head + length {
                break;
            }
            let out = answer(&buf[head..head + length], is_get).await;
            buf.drain(..head + length);
            tcp.write_all(&out).await?;
        }
        if buf.len() > MAX_REQUEST {
            return Ok(());
        }
        if buf.is_empty() {
            buf = Vec::new();
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(connection(tcp));
    }
}
