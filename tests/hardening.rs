//! Hardening against hostile or sloppy clients (issue 14), against the real binary: `HEAD` on
//! the endpoint and a second `GET` stream; duplicate `Host`/`Origin`; API-key and JWT callers in
//! separate name spaces; a JSON-RPC error body on every error the HTTP front answers; no temp
//! directory left behind; log filters that are not filters stop the program.
//!
//! Requests whose method, headers or framing a client library would fix up go over a raw
//! [`TcpStream`].

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::auth::jwt;
use crate::util::{self, Server, plugins, rpc, text_of, tool_call};

const LIST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
/// Needs no session in either mode.
const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"hardening","version":"1"}}}"#;
const JSON_POST: [(&str, &str); 2] = [
    ("content-type", "application/json"),
    ("accept", "application/json, text/event-stream"),
];
const WAIT: Duration = Duration::from_secs(10);

/// A response read off the wire.
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC error code of the body, `None` when the body is not a JSON-RPC error.
    fn code(&self) -> Option<i64> {
        let v: Value = serde_json::from_str(&self.body).ok()?;
        (v["jsonrpc"] == "2.0" && v["id"].is_null()).then_some(())?;
        v["error"]["code"].as_i64()
    }
}

/// Sends `method path` with exactly these headers (plus `Host`, unless given, and `Connection:
/// close`) and `body`, and reads the response. A `HEAD` response must have no body at all.
fn raw(server: &Server, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Raw {
    let addr = server.base.trim_start_matches("http://");
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(WAIT)).unwrap();
    conn.write_all(request.as_bytes()).expect("send");
    read_response(&mut conn, method == "HEAD")
}

fn read_response(conn: &mut TcpStream, head: bool) -> Raw {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).expect("a response head");
        assert!(
            n > 0,
            "closed before the head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let text = String::from_utf8_lossy(&buf[..end]).to_string();
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut raw = Raw {
        status,
        headers,
        body: String::new(),
    };
    assert_ne!(raw.header("transfer-encoding"), Some("chunked"), "{raw:?}");
    let want = if head {
        0
    } else {
        raw.header("content-length")
            .map_or(0, |v| v.parse().unwrap())
    };
    while buf.len() < end + want {
        let n = conn.read(&mut chunk).expect("the body");
        assert!(n > 0, "closed in the body: {raw:?}");
        buf.extend_from_slice(&chunk[..n]);
    }
    if head {
        // `Connection: close`: whatever follows the head up to EOF would be a body.
        let _ = conn.read_to_end(&mut buf);
    }
    raw.body = String::from_utf8_lossy(&buf[end..]).to_string();
    raw
}

/// The session's `GET` stream, line by line; `None` once it ended.
fn open_stream(server: &Server, session: &str) -> Receiver<Option<String>> {
    let r = server.get_stream(Some(session), &[]);
    assert_eq!(r.status(), 200);
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(Some(line)).is_err() {
                return;
            }
        }
        let _ = tx.send(None);
    });
    rx
}

/// Waits (bounded) for a line containing `needle`; false if the stream ended or time ran out.
fn hears(stream: &Receiver<Option<String>>, needle: &str) -> bool {
    let deadline = Instant::now() + WAIT;
    while let Ok(Some(line)) =
        stream.recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        if line.contains(needle) {
            return true;
        }
    }
    false
}

/// Waits (bounded) for the stream to end.
fn ends(stream: &Receiver<Option<String>>) -> bool {
    let deadline = Instant::now() + WAIT;
    loop {
        match stream.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Some(_)) => continue,
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn head_on_the_endpoint_is_405_and_leaves_the_get_stream_alone() {
    let s = util::serve(&plugins().test_plugin, &[]);
    let watcher = s.initialize();
    let sub = rpc(1, "resources/subscribe", json!({"uri": "test://watched"}));
    assert_eq!(s.call(&sub, Some(&watcher))["result"], json!({}));
    let first = open_stream(&s, &watcher);
    let sse = [
        ("accept", "text/event-stream"),
        ("mcp-session-id", watcher.as_str()),
    ];
    let head = raw(&s, "HEAD", "/mcp", &sse, "");
    assert_eq!(head.status, 405, "{head:?}");
    assert_eq!(head.header("allow"), Some("GET, POST, DELETE"));
    assert_eq!(head.header("content-type"), Some("application/json"));
    assert_eq!(head.body, "", "a HEAD response has no body");

    // Regression (issue 14): HEAD ran the GET handler and ended this stream.
    let other = s.initialize();
    let touch = tool_call(2, "touch_resource", json!({"uri": "test://watched"}));
    assert_eq!(
        text_of(&s.call(&touch, Some(&other))),
        "touched test://watched"
    );
    assert!(
        hears(&first, "notifications/resources/updated"),
        "the first stream lost it"
    );

    // A second GET takes over: the first stream ends, the new one gets the next message.
    let second = open_stream(&s, &watcher);
    assert!(
        ends(&first),
        "the first stream should end when a second one opens"
    );
    assert_eq!(
        text_of(&s.call(&touch, Some(&other))),
        "touched test://watched"
    );
    assert!(hears(&second, "notifications/resources/updated"));
}

#[test]
fn a_second_host_or_origin_header_is_400() {
    for stateless in [false, true] {
        let extra: &[&str] = if stateless { &["--stateless"] } else { &[] };
        let s = util::serve(&plugins().calculator, extra);
        let host = s.base.trim_start_matches("http://").to_string();
        let mut two_hosts = JSON_POST.to_vec();
        two_hosts.extend([("host", host.as_str()), ("host", "evil.example.com")]);
        let mut two_origins = JSON_POST.to_vec();
        two_origins.extend([
            ("origin", "http://localhost:3000"),
            ("origin", "http://evil.com"),
        ]);
        let mut same_origin_twice = JSON_POST.to_vec();
        same_origin_twice.extend([
            ("origin", "http://localhost"),
            ("origin", "http://localhost"),
        ]);
        for (what, headers) in [
            ("two Hosts", &two_hosts),
            ("two Origins", &two_origins),
            ("one Origin twice", &same_origin_twice),
        ] {
            let r = raw(&s, "POST", "/mcp", headers, INIT);
            assert_eq!(
                (r.status, r.code()),
                (400, Some(-32000)),
                "{what}, stateless={stateless}: {r:?}"
            );
        }
        // One of each is still fine.
        let mut one = JSON_POST.to_vec();
        one.push(("origin", "http://localhost:3000"));
        assert_eq!(raw(&s, "POST", "/mcp", &one, INIT).status, 200);
    }
}

#[test]
fn a_jwt_subject_cannot_use_the_session_of_the_api_key_of_that_name() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "alice:alice-key-9c1f").unwrap();
    let secret = "a-jwt-secret-of-at-least-32-bytes-for-hardening";
    let s = util::start(
        &[
            plugins().test_plugin.to_str().unwrap(),
            "--watch=false",
            "--api-keys-file",
            file.path().to_str().unwrap(),
        ],
        &[("FASTMCP_JWT_SECRET", secret)],
    );
    let token = jwt::mint(
        secret.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": "alice", "exp": jwt::now() + 600}),
    );
    let bearer = format!("Bearer {token}");
    let by_key = [("x-api-key", "alice-key-9c1f")];
    let by_jwt = [("authorization", bearer.as_str())];
    let whoami = tool_call(1, "whoami", json!({}));

    let key_session = s.initialize_with(&by_key);
    let who = text_of(&s.call_with(&whoami, &by_key, Some(&key_session)));
    assert!(who.starts_with("caller=key:alice "), "{who}");
    // Regression (issue 14): `sub: "alice"` was the same caller as key `alice`.
    let r = s.post_with(&whoami, &by_jwt, Some(&key_session));
    assert_eq!(r.status(), 404);
    assert_eq!(util::rpc_response(r)["error"]["code"], -32001);

    let jwt_session = s.initialize_with(&by_jwt);
    let who = text_of(&s.call_with(&whoami, &by_jwt, Some(&jwt_session)));
    assert!(who.starts_with("caller=jwt:alice "), "{who}");
    assert_eq!(
        s.post_with(&whoami, &by_key, Some(&jwt_session)).status(),
        404
    );
    let delete =
        |headers: &[(&str, &str)], session: &str| s.delete_session(session, headers).status();
    assert_eq!(delete(&by_jwt, &key_session), 404);
    assert_eq!(delete(&by_key, &key_session), 204);
}

/// One row of the error table: a request and what it must get.
struct Case {
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
    status: u16,
    allow: Option<&'static str>,
    /// The JSON-RPC error code of the body; `None`: no JSON-RPC body (a success, or HEAD).
    code: Option<i64>,
}

fn case(method: &'static str, path: &'static str, status: u16) -> Case {
    let code = (status >= 400 && method != "HEAD").then_some(-32000);
    Case {
        method,
        path,
        headers: Vec::new(),
        body: "",
        status,
        allow: None,
        code,
    }
}

impl Case {
    fn post(mut self) -> Case {
        self.headers.extend(JSON_POST);
        self.body = LIST;
        self
    }
    fn with(mut self, headers: &[(&'static str, &'static str)]) -> Case {
        self.headers.extend_from_slice(headers);
        self
    }
    fn allow(mut self, allow: &'static str) -> Case {
        self.allow = Some(allow);
        self
    }
    fn code(mut self, code: Option<i64>) -> Case {
        self.code = code;
        self
    }
    fn body(mut self, body: &'static str) -> Case {
        self.body = body;
        self
    }
}

fn error_table(stateless: bool) -> Vec<Case> {
    let ep = if stateless {
        "POST"
    } else {
        "GET, POST, DELETE"
    };
    let probes = "GET, HEAD";
    let sse = [("accept", "text/event-stream")];
    let html = [
        ("content-type", "application/json"),
        ("accept", "text/html"),
    ];
    let text = [
        ("content-type", "text/plain"),
        ("accept", "application/json, text/event-stream"),
    ];
    let mut t = vec![
        case("PUT", "/mcp", 405).post().allow(ep),
        case("PATCH", "/mcp", 405).post().allow(ep),
        case("OPTIONS", "/mcp", 405).allow(ep),
        case("TRACE", "/mcp", 405).allow(ep),
        case("BREW", "/mcp", 405).allow(ep),
        case("HEAD", "/mcp", 405).with(&sse).allow(ep),
        case("PUT", "/health", 405).allow(probes),
        case("DELETE", "/health", 405).allow(probes),
        case("POST", "/ready", 405).post().allow(probes),
        case("OPTIONS", "/ready", 405).allow(probes),
        case("POST", "/metrics", 405).post().allow(probes),
        case("DELETE", "/metrics", 405).allow(probes),
        case("GET", "/nope", 404),
        case("POST", "/mcp/extra", 404).post(),
        case("HEAD", "/nope", 404),
        case("GET", "/health", 200),
        case("HEAD", "/health", 200),
        case("HEAD", "/ready", 200),
        case("POST", "/mcp", 406).with(&html).body(LIST),
        case("POST", "/mcp", 415).with(&text).body(LIST),
        // Announced, not sent: refused before the body is read.
        case("POST", "/mcp", 413)
            .with(&JSON_POST)
            .with(&[("content-length", "2000")]),
        case("POST", "/mcp", 400)
            .with(&JSON_POST)
            .body("{not json")
            .code(Some(-32700)),
        // A header line without a colon: hyper answers it before any handler, without a body
        // (docs/architecture.md, "Error bodies").
        case("GET", "/health", 400)
            .with(&[("x-ok", "1\r\nno colon here")])
            .code(None),
    ];
    if stateless {
        t.push(case("GET", "/mcp", 405).with(&sse).allow("POST"));
        t.push(case("DELETE", "/mcp", 405).allow("POST"));
    } else {
        t.push(case("GET", "/mcp", 400).with(&sse));
        // The session store (a Redis nobody listens for) cannot be reached.
        t.push(case("POST", "/mcp", 503).with(&JSON_POST).body(INIT));
    }
    t
}

#[test]
fn every_error_of_the_http_front_has_a_json_rpc_body() {
    for stateless in [false, true] {
        let dead_redis = format!("redis://127.0.0.1:{}", util::free_port());
        let mut args = vec!["--max-body-bytes", "1KiB", "--metrics"];
        if stateless {
            args.push("--stateless");
        } else {
            args.extend(["--session-store", dead_redis.as_str()]);
        }
        let s = util::serve(&plugins().calculator, &args);
        for c in error_table(stateless) {
            let r = raw(&s, c.method, c.path, &c.headers, c.body);
            let what = format!("{} {} stateless={stateless}: {r:?}", c.method, c.path);
            assert_eq!(r.status, c.status, "{what}");
            assert_eq!(r.header("allow"), c.allow, "{what}");
            assert_eq!(r.code(), c.code, "{what}");
            if c.code.is_some() || (c.method == "HEAD" && c.status >= 400) {
                assert_eq!(r.header("content-type"), Some("application/json"), "{what}");
            }
        }
        // Too many header fields: hyper's own 431, also without a body.
        let many: Vec<(String, String)> =
            (0..120).map(|i| (format!("x-h{i}"), "v".into())).collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(raw(&s, "GET", "/health", &many, "").status, 431);
    }
}

#[test]
fn a_clean_exit_leaves_no_temp_directory_and_startup_clears_dead_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let pid_max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .map_or(4_194_304, |s| s.trim().parse().unwrap());
    // A pid above pid_max never runs: this is what a crashed server leaves behind.
    let dead = tmp.path().join(format!("fastmcp-{}", pid_max + 1));
    std::fs::create_dir(&dead).unwrap();
    std::fs::write(dead.join("libcalculator.3.so"), b"staged").unwrap();
    let live = tmp.path().join(format!("fastmcp-{}", std::process::id()));
    std::fs::create_dir(&live).unwrap();
    let unrelated = tmp.path().join("fastmcp-cache");
    std::fs::create_dir(&unrelated).unwrap();

    let mut s = util::start(
        &[plugins().calculator.to_str().unwrap(), "--watch=false"],
        &[("TMPDIR", tmp.path().to_str().unwrap())],
    );
    let own = tmp.path().join(format!("fastmcp-{}", s.child.id()));
    assert!(
        own.is_dir(),
        "the server stages its copies in {}",
        own.display()
    );
    assert!(
        !dead.exists(),
        "a dead process's directory is removed at startup"
    );
    assert!(
        live.is_dir() && unrelated.is_dir(),
        "nothing else is touched"
    );

    s.terminate();
    s.assert_exits(0, Duration::from_secs(30));
    assert!(
        !own.exists(),
        "{} is left after a clean exit",
        own.display()
    );
    assert!(live.is_dir() && unrelated.is_dir());
}

/// Spawns `fastmcp dev` with `FASTMCP_LOG=filter` on a free port, JSON logs captured.
fn serve_with_filter(filter: &str) -> Server {
    let port = util::free_port();
    let mut cmd = Command::new(util::bin());
    cmd.args([
        "dev",
        plugins().calculator.to_str().unwrap(),
        "--watch=false",
        "--stateless",
    ])
    .args(["--port", &port.to_string()])
    .env_remove("RUST_LOG")
    .env("FASTMCP_LOG_FORMAT", "json")
    .env("FASTMCP_LOG", filter);
    let s = util::spawn_on_port(cmd, port);
    s.wait_ready();
    s
}

#[test]
fn a_log_filter_that_is_not_one_stops_the_program() {
    let plugin = plugins().calculator.to_str().unwrap();
    for (var, filter) in [
        ("FASTMCP_LOG", "verbose"),
        ("RUST_LOG", "debg"),
        ("FASTMCP_LOG", "info;debug"),
    ] {
        let out = util::run_bin(
            &["dev", plugin, "--port", "0"],
            &[(var, filter)],
            Duration::from_secs(60),
        );
        assert_eq!(out.code, Some(2), "{var}={filter}: {out:?}");
        let want = format!("invalid value {filter:?} for {var}: not a log filter");
        assert!(out.stderr.contains(&want), "{var}={filter}: {}", out.stderr);
    }
    // Good filters still filter: the default level and a target's own level both apply.
    let s = util::start(
        &[plugin, "--watch=false"],
        &[("FASTMCP_LOG", "info,fastmcp=debug")],
    );
    assert!(!s.log_events("listening").is_empty());
    let s = serve_with_filter("warn,fastmcp::calls=debug");
    let add = tool_call(1, "calculate", json!({"operation": "add", "a": 1, "b": 2}));
    let r = s.call(&add, None);
    assert!(text_of(&r).contains('3'), "{r}");
    assert!(s.wait_log("tool call", 1, WAIT), "{}", s.log_text());
    assert!(
        s.log_events("listening").is_empty(),
        "info is off: {}",
        s.log_text()
    );
}
