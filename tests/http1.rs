//! Both HTTP/1 paths of the real binary over raw sockets: the requests MCP clients send are
//! served by the server's own loop, anything else by hyper from the first such request on, on
//! the same connection. A client sees the same answers either way.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::limits::connect;
use crate::util::{Server, plugins, serve};

/// One response read off a keep-alive connection.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    /// The JSON-RPC message with an `id`: the body, or the SSE event that holds it.
    fn message(&self) -> Value {
        if self.body.starts_with('{') {
            return serde_json::from_str(&self.body).expect("a JSON body");
        }
        self.body
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .find(|m| m.get("id").is_some())
            .unwrap_or_else(|| panic!("no response event in {:?}", self.body))
    }
}

/// Reads one response: the head, then a `Content-Length` or chunked body.
fn read_reply(conn: &mut BufReader<TcpStream>) -> Reply {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        conn.read_line(&mut line).expect("a response line");
        assert!(!line.is_empty(), "closed before a full head: {head:?}");
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status = head[9..12].parse().expect("a status code");
    let mut reply = Reply {
        status,
        head,
        body: String::new(),
    };
    if let Some(n) = reply.header("content-length") {
        let mut body = vec![0; n.parse().expect("a length")];
        conn.read_exact(&mut body).expect("the body");
        reply.body = String::from_utf8(body).expect("UTF-8");
    } else if reply.header("transfer-encoding").as_deref() == Some("chunked") {
        loop {
            let mut size = String::new();
            conn.read_line(&mut size).expect("a chunk size");
            let n = usize::from_str_radix(size.trim(), 16).expect("a hex size");
            let mut chunk = vec![0; n + 2];
            conn.read_exact(&mut chunk).expect("a chunk");
            if n == 0 {
                break;
            }
            reply
                .body
                .push_str(std::str::from_utf8(&chunk[..n]).expect("UTF-8"));
        }
    }
    reply
}

fn call(id: u64, tool: &str, args: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{args}}}}}"#
    )
}

/// A POST of `body` with `Content-Length`, keep-alive.
fn post(server: &Server, body: &str) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        server.base.trim_start_matches("http://"),
        body.len()
    )
}

/// The same POST with a chunked body, which the server's own loop leaves to hyper.
fn post_chunked(server: &Server, body: &str) -> String {
    let (a, b) = body.split_at(body.len() / 2);
    format!(
        "POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        server.base.trim_start_matches("http://"),
        a.len(),
        b.len()
    )
}

fn open(server: &Server) -> BufReader<TcpStream> {
    let conn = connect(server);
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    BufReader::new(conn)
}

fn send(conn: &mut BufReader<TcpStream>, bytes: &str) {
    conn.get_mut().write_all(bytes.as_bytes()).expect("write");
}

fn add(a: i64, b: i64) -> String {
    format!(r#"{{"a":{a},"b":{b}}}"#)
}

/// The text of a `tools/call` result.
fn text(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{reply:?}");
    let message = reply.message();
    message["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text result: {message}"))
        .to_owned()
}

#[test]
fn one_connection_moves_from_the_own_loop_to_hyper_and_answers_alike() {
    let server = serve(&plugins().test_plugin, &["--stateless", "true"]);
    let mut conn = open(&server);
    // The own loop: a JSON answer, then an SSE answer, on one connection.
    send(&mut conn, &post(&server, &call(1, "add", &add(2, 3))));
    let first = read_reply(&mut conn);
    assert_eq!(text(&first), "5");
    assert!(first.header("connection").is_none(), "{first:?}");
    assert!(first.header("date").is_some(), "{first:?}");
    send(&mut conn, &post(&server, &call(2, "log", r#"{"count":3}"#)));
    let streamed = read_reply(&mut conn);
    assert_eq!(
        streamed.header("content-type").as_deref(),
        Some("text/event-stream")
    );
    assert_eq!(text(&streamed), "logged 3");
    // A chunked body: hyper from here on, on the same connection.
    send(
        &mut conn,
        &post_chunked(&server, &call(3, "add", &add(4, 5))),
    );
    assert_eq!(text(&read_reply(&mut conn)), "9");
    send(&mut conn, &post(&server, &call(4, "add", &add(6, 7))));
    assert_eq!(text(&read_reply(&mut conn)), "13");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = serve(&plugins().test_plugin, &["--stateless", "true"]);
    let mut conn = open(&server);
    let three = [
        post(&server, &call(1, "io_wait", r#"{"ms":30}"#)),
        post(&server, &call(2, "add", &add(1, 1))),
        post(&server, &call(3, "log", r#"{"count":2}"#)),
    ]
    .concat();
    send(&mut conn, &three);
    assert_eq!(text(&read_reply(&mut conn)), "waited 30 ms");
    assert_eq!(text(&read_reply(&mut conn)), "2");
    assert_eq!(text(&read_reply(&mut conn)), "logged 2");
}

#[test]
fn http_1_0_and_head_requests_get_hypers_answers() {
    let server = serve(&plugins().test_plugin, &["--stateless", "true"]);
    let host = server.base.trim_start_matches("http://").to_owned();
    let mut conn = open(&server);
    send(
        &mut conn,
        &format!("GET /ready HTTP/1.0\r\nHost: {host}\r\n\r\n"),
    );
    let mut all = String::new();
    conn.read_to_string(&mut all)
        .expect("closed after an HTTP/1.0 answer");
    assert!(all.starts_with("HTTP/1.0 200 OK\r\n"), "{all}");
    assert!(all.ends_with(r#""status":"ready","total":1}"#), "{all}");

    let mut conn = open(&server);
    send(
        &mut conn,
        &format!("HEAD /health HTTP/1.1\r\nHost: {host}\r\n\r\n"),
    );
    let head = read_head_only(&mut conn);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    // The connection still serves, now through hyper.
    send(&mut conn, &post(&server, &call(1, "add", &add(20, 22))));
    assert_eq!(text(&read_reply(&mut conn)), "42");
}

/// A `HEAD` answer: its head, with no body to read whatever its `Content-Length`.
fn read_head_only(conn: &mut BufReader<TcpStream>) -> String {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        conn.read_line(&mut line).expect("a response line");
        head.push_str(&line);
        if line == "\r\n" || line.is_empty() {
            return head;
        }
    }
}
