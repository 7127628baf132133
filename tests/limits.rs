//! Connection and session limits (issue 14 items 1, 2 and 8): header, body and idle timeouts,
//! a slowloris flood under a low open-files limit, `--max-connections` with its reserve for the
//! probes, `--max-sessions`, and the shutdown cut-off with its exit code.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{self, Server, SseStream, plugins, rpc, rss_kib, tool_call};

const WAIT: Duration = Duration::from_secs(20);
/// Slack on every "closed after the timeout" bound: scheduling on a busy 2-core machine.
const SLACK: Duration = Duration::from_secs(3);

/// `127.0.0.1:PORT`.
pub(crate) fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

pub(crate) fn connect(server: &Server) -> TcpStream {
    let addr = addr(server).parse().expect("an address");
    TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect")
}

/// Reads (and discards) until the server closes `conn` or `deadline` passes; the time it
/// took, or `None` if it was still open.
fn closed_by(conn: &mut TcpStream, started: Instant, deadline: Instant) -> Option<Duration> {
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        conn.set_read_timeout(Some(left)).unwrap();
        match conn.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // A reset is a close too (the server had unread bytes of ours).
            Err(_) => return Some(started.elapsed()),
        }
    }
}

/// Whether `conn` is still open after `wait` (nothing to read, no EOF).
fn still_open(conn: &mut TcpStream, wait: Duration) -> bool {
    let started = Instant::now();
    closed_by(conn, started, started + wait).is_none()
}

/// The status line and the rest of one response, read until its head and `Content-Length`
/// body are in (responses here are small and not chunked).
pub(crate) fn read_response(conn: &mut TcpStream) -> Option<(u16, String)> {
    conn.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status = head.split(' ').nth(1)?.parse().ok()?;
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            if buf.len() >= end + 4 + length {
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]);
                return Some((status, body.to_string()));
            }
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// `fastmcp dev` under `ulimit -n 256` (soft and hard), with JSON logs.
fn spawn_with_256_files(extra: &[&str]) -> Server {
    let plugin = plugins().calculator.to_str().expect("UTF-8 path");
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "ulimit -n 256 && exec \"$@\"",
        "sh",
        util::bin(),
        "dev",
        plugin,
    ])
    .args(["--watch=false", "--port", "0"])
    .args(extra);
    util::json_logs(&mut cmd);
    let server = util::spawn_command(cmd);
    server.wait_ready();
    server
}

/// GET `path` on a fresh connection with a short timeout; the status, if any.
fn get_status(server: &Server, path: &str) -> Option<u16> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let r = client.get(format!("{}{path}", server.base)).send().ok()?;
    Some(r.status().as_u16())
}

#[test]
fn slowloris_under_256_open_files_leaves_ready_answering_and_is_closed_after_the_header_timeout() {
    let server = spawn_with_256_files(&["--header-timeout", "1s", "--idle-timeout", "2s"]);
    let nofile = &server.log_events("open-files limit (RLIMIT_NOFILE)")[0];
    assert_eq!(
        (nofile["soft"].as_u64(), nofile["hard"].as_u64()),
        (Some(256), Some(256))
    );
    // The connection limit was lowered to fit 256 descriptors.
    let max = server.log_events("listening")[0]["max_connections"]
        .as_u64()
        .expect("max_connections");
    assert!(max < 256 - 8, "{max}");
    let pid = server.child.id();
    let rss_before = rss_kib(pid);

    // 300 connections: half send nothing, half half a header.
    let mut held = Vec::new();
    for i in 0..300 {
        let mut c = connect(&server);
        if i % 2 == 1 {
            let _ = c.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty");
        }
        held.push(c);
    }
    let flooded = Instant::now();
    // /ready answers over a fresh connection: at once from the probes' reserve, or after the
    // header timeout closed the slow ones.
    let ready = (0..15).any(|_| {
        let ok = get_status(&server, "/ready") == Some(200);
        if !ok {
            std::thread::sleep(Duration::from_millis(300));
        }
        ok
    });
    assert!(ready, "/ready never answered; log:\n{}", server.log_text());
    assert!(flooded.elapsed() < Duration::from_secs(1) + SLACK);

    let deadline = flooded + Duration::from_secs(1) + SLACK;
    let open = held
        .iter_mut()
        .filter_map(|c| closed_by(c, flooded, deadline).is_none().then_some(()))
        .count();
    assert_eq!(open, 0, "connections the server did not close");
    assert_eq!(get_status(&server, "/health"), Some(200));
    let grown = rss_kib(pid).saturating_sub(rss_before);
    assert!(grown < 20 * 1024, "RSS grew by {grown} KiB");
    assert!(
        server.log_events("cannot accept connections").is_empty(),
        "accept failed: {}",
        server.log_text()
    );
}

fn serve_with_timeouts() -> Server {
    let timeouts = [
        "--header-timeout=1s",
        "--body-timeout=1s",
        "--idle-timeout=2s",
    ];
    util::serve(&plugins().test_plugin, &timeouts)
}

#[test]
fn a_body_that_never_finishes_is_cut_after_the_body_timeout() {
    let server = serve_with_timeouts();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\n",
        addr(&server)
    );
    let short = format!("{head}Content-Length: 1000\r\n\r\n{{\"jsonrpc\":");
    let unfinished_chunks = format!("{head}Transfer-Encoding: chunked\r\n\r\n5\r\n{{\"jso\r\n");
    for request in [short, unfinished_chunks] {
        let mut c = connect(&server);
        c.write_all(request.as_bytes()).unwrap();
        let sent = Instant::now();
        let took = closed_by(&mut c, sent, sent + Duration::from_secs(1) + SLACK);
        let took = took.unwrap_or_else(|| panic!("still open: {request:?}"));
        assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    }
    // The server is fine.
    assert_eq!(get_status(&server, "/ready"), Some(200));
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_and_an_open_stream_is_not() {
    let server = serve_with_timeouts();
    let mut c = connect(&server);
    let get = format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", addr(&server));
    c.write_all(get.as_bytes()).unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(200));
    let answered = Instant::now();
    let took = closed_by(&mut c, answered, answered + Duration::from_secs(2) + SLACK);
    let took = took.expect("the idle connection was not closed");
    // The idle timeout (2 s), not the header timeout (1 s).
    assert!(took >= Duration::from_millis(1500), "closed after {took:?}");

    // A session's GET stream with nothing to say for longer than every timeout stays open.
    let session = server.initialize();
    let mut stream = connect(&server);
    let get = format!(
        "GET /mcp HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nMcp-Session-Id: {session}\r\n\r\n",
        addr(&server)
    );
    stream.write_all(get.as_bytes()).unwrap();
    let mut head = [0u8; 12];
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    assert!(still_open(&mut stream, Duration::from_secs(4)));

    // So does a call that takes longer than the body and idle timeouts, silently.
    let r = server.call(
        &tool_call(2, "sleep", json!({"ms": 3000, "steps": 1})),
        Some(&session),
    );
    assert_eq!(util::text_of(&r), "slept 3000 ms", "{r}");
}

/// `n` open keep-alive connections that each took one of the server's places: each answered
/// a `tools/list` (a connection given a probes-only place gets 503 and is closed). A
/// connection the client closed a moment ago (the readiness check's) can still hold a place
/// until the server reads its end, so a few tries may be refused.
fn normal_connections(server: &Server, n: usize) -> Vec<TcpStream> {
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{}",
        addr(server),
        rpc(1, "tools/list", json!({})).to_string().len(),
        rpc(1, "tools/list", json!({})),
    );
    let mut held = Vec::new();
    for _ in 0..20 {
        if held.len() == n {
            return held;
        }
        let mut c = connect(server);
        c.write_all(request.as_bytes()).unwrap();
        match read_response(&mut c).map(|r| r.0) {
            Some(200) => held.push(c),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    panic!("only {} of {n} connections got a place", held.len());
}

#[test]
fn past_max_connections_new_connections_are_refused_fast_while_the_probes_answer() {
    let server = util::serve(
        &plugins().calculator,
        &["--max-connections=4", "--header-timeout=30s", "--stateless"],
    );
    let held = normal_connections(&server, 4);
    // Past the limit, a few connections are kept for the probes; the endpoint is 503.
    assert_eq!(get_status(&server, "/health"), Some(200));
    assert_eq!(get_status(&server, "/ready"), Some(200));
    let r = util::client()
        .post(server.mcp())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(rpc(1, "tools/list", json!({})).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"]["code"], -32000, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("connection limit")
    );
    // With the reserve taken too, a new connection is closed at once, unanswered.
    let reserve: Vec<TcpStream> = (0..8).map(|_| connect(&server)).collect();
    let mut refused = connect(&server);
    let _ = refused.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let tried = Instant::now();
    let took = closed_by(&mut refused, tried, tried + Duration::from_secs(10));
    let took = took.expect("the connection past the reserve was not closed");
    assert!(took < Duration::from_secs(2), "closed after {took:?}");
    let refusal = "connection limit reached: new connections are closed at once";
    assert!(server.wait_log(refusal, 1, WAIT), "{}", server.log_text());
    // Places come back when connections close.
    drop((held, reserve));
    assert!(util::eventually(WAIT, || {
        server.call(&rpc(2, "tools/list", json!({})), None)["result"]["tools"].is_array()
    }));
}

fn initialize(server: &Server, id: i64) -> reqwest::blocking::Response {
    server.post(
        &rpc(id, "initialize", util::initialize_params("2025-06-18")),
        None,
    )
}

#[test]
fn past_max_sessions_initialize_is_503_until_a_session_ends() {
    let server = util::serve(&plugins().calculator, &["--max-sessions=5"]);
    let sessions: Vec<String> = (0..5).map(|_| server.initialize()).collect();
    let rss_before = rss_kib(server.child.id());
    for id in 0..300 {
        let r = initialize(&server, 100 + id);
        assert_eq!(r.status(), 503);
        assert!(r.headers().get("mcp-session-id").is_none());
        let body: Value = r.json().unwrap();
        assert_eq!(body["id"], 100 + id, "{body}");
        assert_eq!(body["error"]["code"], -32000, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("the server is full (5 sessions)"),
            "{message}"
        );
    }
    assert_eq!(util::ready(&server).1["sessions"], 5);
    // One warning for the store filling up, not one per refusal.
    let full = "session limit reached: initialize gets 503 until sessions end";
    assert!(server.wait_log(full, 1, WAIT));
    assert_eq!(server.log_events(full).len(), 1);
    let grown = rss_kib(server.child.id()).saturating_sub(rss_before);
    assert!(grown < 10 * 1024, "RSS grew by {grown} KiB");

    let deleted = server.delete_session(&sessions[0], &[]);
    assert_eq!(deleted.status(), 204);
    assert_eq!(initialize(&server, 1).status(), 200);
    assert_eq!(initialize(&server, 2).status(), 503);
}

/// The JSON-RPC error of a cut-off call.
fn assert_shutting_down(message: &Value, id: i64) {
    assert_eq!(message["id"], id, "{message}");
    assert_eq!(message["error"]["code"], -32000, "{message}");
    assert_eq!(
        message["error"]["message"], "server shutting down",
        "{message}"
    );
}

#[test]
fn calls_cut_off_by_the_shutdown_timeout_get_an_error_and_the_exit_code_is_3() {
    let mut server = util::serve(
        &plugins().test_plugin,
        &["--shutdown-timeout=1s", "--metrics"],
    );
    let session = server.initialize();
    // Streaming: a progress event every 100 ms for a minute.
    let r = server.post(
        &tool_call(1, "sleep", json!({"ms": 60000, "steps": 600})),
        Some(&session),
    );
    assert_eq!(util::content_type(&r), "text/event-stream");
    let streaming = SseStream::new(r);
    assert!(streaming.next(WAIT).is_some(), "no progress");
    // Not streaming yet: nothing is sent before the end of its one step.
    let url = server.mcp();
    let quiet = std::thread::spawn(move || {
        util::client()
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", session)
            .body(tool_call(2, "sleep", json!({"ms": 60000, "steps": 1})).to_string())
            .send()
            .expect("an answer")
    });
    let running = r#"fastmcp_blocking_calls{plugin="test-plugin",state="running"} 2"#;
    assert!(
        util::eventually(WAIT, || server
            .get_with("/metrics", &[])
            .text()
            .is_ok_and(|m| m.contains(running))),
        "the two calls never ran"
    );

    server.terminate();
    let rest = streaming.rest(WAIT);
    assert_shutting_down(rest.last().expect("an event before the stream ended"), 1);
    let quiet = quiet.join().unwrap();
    assert_eq!(quiet.status(), 503);
    assert_shutting_down(&quiet.json().unwrap(), 2);
    server.assert_exits(3, WAIT);
    let warned =
        server.log_events("requests still running after the shutdown timeout; exiting anyway");
    assert_eq!(warned[0]["calls_cut_off"], 2, "{warned:?}");
}

#[test]
fn a_shutdown_that_cuts_nothing_off_exits_0() {
    let mut server = util::serve(&plugins().test_plugin, &["--shutdown-timeout=5s"]);
    let session = server.initialize();
    let r = server.post(
        &tool_call(1, "sleep", json!({"ms": 500, "steps": 5})),
        Some(&session),
    );
    let call = SseStream::new(r);
    assert!(call.next(WAIT).is_some());
    server.terminate();
    let rest = call.rest(WAIT);
    assert_eq!(
        util::text_of(rest.last().expect("the result")),
        "slept 500 ms"
    );
    server.assert_exits(0, WAIT);
}
