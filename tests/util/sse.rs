//! Server-sent events as the tests read them: a whole SSE body split into its JSON messages,
//! or a live stream parsed as the events arrive.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The JSON messages of an SSE body, in order.
pub fn sse_messages(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .filter_map(|d| serde_json::from_str(&d).ok())
        .collect()
}

/// An SSE response read incrementally: a thread parses events as they arrive.
#[derive(Debug)]
pub struct SseStream {
    rx: std::sync::mpsc::Receiver<Value>,
}

impl SseStream {
    /// Starts reading `response`'s body as a stream of SSE `data:` messages.
    pub fn new(response: reqwest::blocking::Response) -> SseStream {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut data = String::new();
            for line in BufReader::new(response).lines().map_while(Result::ok) {
                if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                } else if line.is_empty() && !data.is_empty() {
                    let message = std::mem::take(&mut data);
                    match serde_json::from_str(&message) {
                        Ok(v) => {
                            if tx.send(v).is_err() {
                                return;
                            }
                        }
                        Err(e) => panic!("SSE data is not JSON ({e}): {message}"),
                    }
                }
            }
        });
        SseStream { rx }
    }

    /// The next message, or `None` when the stream ended or nothing came within `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<Value> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Every message until the stream ends (bounded by `timeout` in total).
    pub fn rest(&self, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut all = Vec::new();
        while let Some(v) = self.next(deadline.saturating_duration_since(Instant::now())) {
            all.push(v);
        }
        all
    }
}

/// The lines of `reader` (a response body, a child's stdout) on a channel, read by a thread
/// until it ends or the receiver is dropped.
pub fn lines(reader: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}
