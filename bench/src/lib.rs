//! Shared pieces of the benchmarks: a minimal keep-alive HTTP/1.1 client for JSON POSTs,
//! process helpers, and statistics. Kept dependency-free so the load generator costs little.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A keep-alive connection that POSTs JSON and reads `Content-Length` responses.
#[derive(Debug)]
pub struct Conn {
    reader: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    /// Connects to `addr` (`127.0.0.1:PORT`).
    pub fn connect(addr: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn {
            reader: BufReader::new(stream),
            host: addr.to_string(),
        })
    }

    /// POSTs `body` to `path` with the MCP headers; returns (status, body).
    pub fn post(&mut self, path: &str, body: &str) -> std::io::Result<(u16, String)> {
        let r = self.post_with(path, body, &[])?;
        Ok((r.status, r.body))
    }

    /// POSTs `body` to `path` with the MCP headers plus `extra` ones (e.g. `Mcp-Session-Id`);
    /// returns the whole reply, headers included.
    pub fn post_with(
        &mut self,
        path: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> std::io::Result<Reply> {
        self.post_version(path, body, "2025-06-18", extra)
    }

    /// [`Conn::post_with`] declaring protocol `version` in `MCP-Protocol-Version`.
    pub fn post_version(
        &mut self,
        path: &str,
        body: &str,
        version: &str,
        extra: &[(&str, &str)],
    ) -> std::io::Result<Reply> {
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: {version}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        for (k, v) in extra {
            req.push_str(k);
            req.push_str(": ");
            req.push_str(v);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.reader.get_mut().write_all(req.as_bytes())?;
        self.read_response()
    }

    fn read_response(&mut self) -> std::io::Result<Reply> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut len = None;
        let mut headers = Vec::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    len = v.parse::<usize>().ok();
                }
                headers.push((k, v.to_string()));
            }
        }
        let len = len.ok_or_else(|| std::io::Error::other("no content-length (streamed reply)"))?;
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body)?;
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// An HTTP response read by [`Conn`].
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The workspace root (the bench crate's parent).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One `GET /ready` on a fresh connection: the status code, or `None` if nothing answered.
pub fn ready_status(addr: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(
        format!("GET /ready HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .ok()?;
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.split_whitespace().nth(1).and_then(|c| c.parse().ok())
}

/// Waits (bounded) until `GET /ready` on `addr` answers 200.
pub fn wait_ready(addr: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if ready_status(addr) == Some(200) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// Kills a child process when dropped.
#[derive(Debug)]
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a command to completion, panicking with its name if it fails.
pub fn run(cmd: &mut Command) {
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed: {status}");
}

/// The p-th percentile (0..=100) of sorted values.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
