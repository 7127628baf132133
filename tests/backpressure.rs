//! Results always arrive (issue 12, point 4): a tool that floods its client with log messages
//! is slowed to the client's pace instead of losing messages or its result. Against the real
//! binary and the test plugin's `log` tool (levels cycle debug, info, warning), over stateless
//! and stateful HTTP and over stdio; with a client that reads slowly, and one that hangs up.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{self, Server, eventually, plugins, rpc, text_of, tool_call};

/// The flood every test asks for.
const FLOOD: u32 = 100_000;
/// How long one flood may take to read, start to end.
const READ_LIMIT: Duration = Duration::from_secs(120);

/// A client whose total timeout covers a whole flood.
fn patient_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(READ_LIMIT)
        .build()
        .expect("client")
}

/// POSTs `body` to the MCP endpoint with the headers a good client sends, plus `extra`.
fn post(server: &Server, body: &Value, extra: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut req = patient_client()
        .post(server.mcp())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let r = req.body(body.to_string()).send().expect("POST /mcp");
    assert_eq!(r.status(), 200);
    r
}

/// What an SSE response carried, in order.
#[derive(Debug, Default)]
struct Seen {
    /// `N` of every `notifications/message` whose data is `message N`.
    logged: Vec<u32>,
    /// Every other JSON-RPC message.
    others: Vec<Value>,
    /// Whether anything at all came after the first message that has an `id`.
    after_response: bool,
}

impl Seen {
    fn take(&mut self, v: Value) {
        if self.others.iter().any(|o| o.get("id").is_some()) {
            self.after_response = true;
        }
        let data = v["params"]["data"].as_str().unwrap_or_default();
        match data.strip_prefix("message ") {
            Some(n) if v["method"] == "notifications/message" => {
                self.logged.push(n.parse().expect("message N"));
            }
            _ => self.others.push(v),
        }
    }

    /// The JSON-RPC response: the last message, with nothing after it.
    fn response(&self) -> &Value {
        assert!(!self.after_response, "messages after the response");
        let last = self.others.last().expect("a response");
        assert!(
            last.get("id").is_some(),
            "the stream ended without a response: {last}"
        );
        last
    }
}

/// Reads an SSE body to its end; `on_event` sees the number of messages so far.
fn read_sse(body: impl std::io::Read, mut on_event: impl FnMut(usize)) -> Seen {
    let deadline = Instant::now() + READ_LIMIT;
    let mut seen = Seen::default();
    let mut count = 0;
    for line in BufReader::new(body).lines() {
        let line = line.expect("the stream ended cleanly");
        assert!(
            Instant::now() < deadline,
            "the stream took over {READ_LIMIT:?}"
        );
        if let Some(data) = line.strip_prefix("data:")
            && !data.trim().is_empty()
        {
            let v: Value = serde_json::from_str(data.trim()).expect("SSE data is JSON");
            seen.take(v);
            count += 1;
            on_event(count);
        }
    }
    seen
}

/// The message numbers a flood of `n` sends at log level `min` (0 debug, 1 info, 2 warning).
fn expected(n: u32, min: u32) -> Vec<u32> {
    (0..n).filter(|i| i % 3 >= min).collect()
}

fn assert_flood(seen: &Seen, n: u32, min: u32) {
    let want = expected(n, min);
    assert_eq!(
        seen.logged.len(),
        want.len(),
        "how many log messages arrived"
    );
    assert!(seen.logged == want, "log messages out of order or missing");
    let response = seen.response();
    assert_eq!(text_of(response), format!("logged {n}"), "{response}");
}

/// A stateful session whose log level is `debug`, so every message of a flood is sent.
fn debug_session(server: &Server) -> String {
    let session = server.initialize();
    let r = server.call(
        &rpc(1, "logging/setLevel", json!({"level": "debug"})),
        Some(&session),
    );
    assert!(r.get("result").is_some(), "{r}");
    session
}

/// A chunked HTTP/1.1 body, decoded.
struct Chunked<R> {
    inner: R,
    /// Bytes left in the current chunk; `None` before a chunk's size line.
    left: Option<usize>,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let left = match self.left {
            Some(n) => n,
            None => {
                let mut line = String::new();
                self.inner.read_line(&mut line)?;
                let size = line.trim().split(';').next().unwrap_or_default();
                let n = usize::from_str_radix(size, 16)
                    .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
                if n == 0 {
                    self.done = true;
                    return Ok(0);
                }
                n
            }
        };
        let want = left.min(buf.len());
        let got = self.inner.read(&mut buf[..want])?;
        if got == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.left = Some(left - got).filter(|n| *n > 0);
        if self.left.is_none() {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
        }
        Ok(got)
    }
}

/// POSTs `body` over a socket with a small receive buffer (so the kernel cannot hold a flood
/// for a client that does not read) and returns the decoded SSE body.
fn post_small_window(server: &Server, body: &Value, session: &str) -> impl Read + use<> {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    let size: libc::c_int = 64 * 1024;
    // SAFETY: setsockopt on a socket we own, with a pointer to a live c_int and its size.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt SO_RCVBUF");
    stream
        .set_read_timeout(Some(READ_LIMIT))
        .expect("read timeout");
    let body = body.to_string();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         accept: application/json, text/event-stream\r\nmcp-session-id: {session}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send the request");
    let mut reader = BufReader::new(stream);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("response head");
        if line.trim().is_empty() {
            break;
        }
        head.push(line.trim().to_ascii_lowercase());
    }
    assert!(head[0].starts_with("http/1.1 200"), "{head:?}");
    assert!(
        head.contains(&"content-type: text/event-stream".to_string()),
        "{head:?}"
    );
    assert!(
        head.contains(&"transfer-encoding: chunked".to_string()),
        "{head:?}"
    );
    Chunked {
        inner: reader,
        left: None,
        done: false,
    }
}

#[test]
fn stateless_http_delivers_every_log_message_then_the_result() {
    let server = util::serve(&plugins().test_plugin, &["--stateless"]);
    // Protocol 2026-07-28 takes the log level per request: debug, so all 100,000 are sent.
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "backpressure", "version": "1"},
        "io.modelcontextprotocol/logLevel": "debug",
    });
    let body = rpc(
        1,
        "tools/call",
        json!({"name": "log", "arguments": {"count": FLOOD}, "_meta": meta}),
    );
    let r = post(
        &server,
        &body,
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "log"),
        ],
    );
    assert_eq!(util::content_type(&r), "text/event-stream");
    assert_flood(&read_sse(r, |_| {}), FLOOD, 0);

    // A 2025 stateless request has the default level (info): every info and warning message.
    let r = post(&server, &tool_call(2, "log", json!({"count": FLOOD})), &[]);
    assert_flood(&read_sse(r, |_| {}), FLOOD, 1);
}

#[test]
fn stateful_http_post_stream_delivers_every_log_message_then_the_result() {
    let server = util::serve(&plugins().test_plugin, &[]);
    let session = debug_session(&server);
    let r = post(
        &server,
        &tool_call(2, "log", json!({"count": FLOOD})),
        &[("mcp-session-id", &session)],
    );
    assert_eq!(util::content_type(&r), "text/event-stream");
    assert_flood(&read_sse(r, |_| {}), FLOOD, 0);
}

/// Regression (issue 12): a client that did not keep up with a 64-message buffer was treated
/// as gone, and lost the rest of the stream and the response.
#[test]
fn a_slow_reader_gets_everything_and_the_server_does_not_buffer_the_flood() {
    let server = util::serve(&plugins().test_plugin, &["--metrics"]);
    let session = debug_session(&server);
    let before = util::rss_kib(server.child.id());
    let r = post_small_window(
        &server,
        &tool_call(2, "log", json!({"count": FLOOD})),
        &session,
    );
    let mut during = 0;
    let mut finished_while_paused = false;
    let seen = read_sse(r, |n| {
        if n == 100 {
            std::thread::sleep(Duration::from_secs(2));
            during = util::rss_kib(server.child.id());
            // The tool waits for this client: it cannot have finished while nobody read.
            finished_while_paused = server
                .log_events("tool call")
                .iter()
                .any(|e| e["tool"] == "log");
        }
    });
    assert_flood(&seen, FLOOD, 0);
    assert!(!finished_while_paused, "the tool ran ahead of its client");
    let after = util::rss_kib(server.child.id());
    let grown = during.max(after).saturating_sub(before);
    assert!(
        grown < 64 * 1024,
        "RSS grew by {grown} KiB (from {before} KiB) while a slow client read a flood"
    );
    // Nothing had to be dropped for a client that reads, however slowly.
    let metrics = server.get_with("/metrics", &[]).text().unwrap();
    assert!(
        !metrics.contains("fastmcp_notifications_dropped_total{"),
        "{metrics}"
    );
}

/// A stateful stream the client left: the call runs on and its messages go to the event log,
/// which keeps only the newest 1024 for replay. What it had to let go is counted; a resume
/// gets the kept events and the result.
#[test]
fn a_left_stateful_stream_keeps_the_newest_events_for_replay_and_counts_the_rest() {
    let server = util::serve(&plugins().test_plugin, &["--metrics"]);
    let session = debug_session(&server);
    let r = post(
        &server,
        &tool_call(2, "log", json!({"count": 5000})),
        &[("mcp-session-id", &session)],
    );
    let mut lines = BufReader::new(r).lines();
    let first_id = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("id: ").map(str::to_string))
        .expect("an event id");
    drop(lines);
    assert!(
        server.wait_log("tool call", 1, READ_LIMIT),
        "the call did not finish after its client left"
    );
    let r = patient_client()
        .get(server.mcp())
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .header("last-event-id", &first_id)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = read_sse(r, |_| {});
    assert_eq!(text_of(seen.response()), "logged 5000");
    // The 1024 newest events: the last 1023 messages and the response.
    assert_eq!(seen.logged, (5000 - 1023..5000).collect::<Vec<_>>());
    let metrics = server.get_with("/metrics", &[]).text().unwrap();
    let dropped: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("fastmcp_notifications_dropped_total{reason=\"replay_log\"} "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no replay_log drops in {metrics}"));
    assert!(dropped > 0.0 && dropped <= 5000.0 - 1023.0, "{dropped}");
    assert!(
        !server.log_events("messages for a client were dropped; later drops on this stream are only counted (fastmcp_notifications_dropped_total)").is_empty(),
        "no WARN for the drops"
    );
}

#[test]
fn a_client_that_hangs_up_mid_flood_cancels_the_call_and_the_server_stays_healthy() {
    let server = util::serve(&plugins().test_plugin, &["--stateless"]);
    // Far more than the socket buffers hold: the tool cannot finish before the hang-up.
    let r = post(
        &server,
        &tool_call(1, "log", json!({"count": 500_000})),
        &[],
    );
    let mut lines = BufReader::new(r).lines();
    let events = lines
        .by_ref()
        .map_while(Result::ok)
        .filter(|l| l.starts_with("data:"))
        .take(50)
        .count();
    assert_eq!(events, 50);
    drop(lines);
    // The call is cancelled, and the tool's later messages go nowhere at once, so it ends
    // rather than waiting for room.
    assert!(
        eventually(READ_LIMIT, || !server
            .log_events("cancelled call finished")
            .is_empty()),
        "the call was not cancelled, or never ended, after its client hung up"
    );
    let health = util::client()
        .get(format!("{}/health", server.base))
        .send()
        .unwrap();
    assert_eq!(health.status(), 200);
    let r = post(&server, &tool_call(2, "log", json!({"count": 3})), &[]);
    let seen = read_sse(r, |_| {});
    assert_flood(&seen, 3, 1);
}

#[test]
fn stdio_delivers_every_log_message_then_the_result_in_order() {
    let mut child = util::stdio_test_plugin();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Value>(1024);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let v = serde_json::from_str(&line).expect("stdout line is JSON");
            if tx.send(v).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + READ_LIMIT;
    let next = || {
        rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a message on stdout in time")
    };
    let mut send = |v: Value| {
        writeln!(stdin, "{v}").unwrap();
        stdin.flush().unwrap();
    };
    send(rpc(1, "initialize", util::initialize_params("2025-06-18")));
    assert_eq!(next()["id"], 1);
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    send(rpc(2, "logging/setLevel", json!({"level": "debug"})));
    assert_eq!(next()["id"], 2);
    send(tool_call(3, "log", json!({"count": FLOOD})));
    let mut seen = Seen::default();
    while !seen.others.iter().any(|o| o.get("id").is_some()) {
        seen.take(next());
    }
    assert_flood(&seen, FLOOD, 0);
    let _ = child.kill();
    let _ = child.wait();
}
