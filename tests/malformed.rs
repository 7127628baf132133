//! The malformed-message sweep (issue 14): well over 100 malformed requests in each mode (bad
//! JSON, wrong JSON-RPC shapes, wrong types for id, method and params, huge ids, deep nesting,
//! invalid UTF-8, batches, unknown methods, bad params per method, bad headers, content types
//! and `Accept`, broken framing), each with the HTTP status and JSON-RPC code a client gets.
//! None may crash or hang the server or get a 5xx, and a good request works afterwards.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::{Value, json};

use crate::limits::connect;
use crate::util::{self, Server, plugins, text_of, tool_call};

/// What the client gets back besides the status.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answer {
    /// A JSON-RPC error with this code.
    Error(i64),
    /// A JSON-RPC result (a tool's failure is a result with `isError`).
    Result,
    /// No body: 202 for a notification or a response, and hyper's own 400 and 431.
    Empty,
}
use Answer::{Empty, Error, Result};

#[derive(Debug)]
struct Case {
    name: String,
    request: Vec<u8>,
    status: u16,
    answer: Answer,
}

/// A POST to the endpoint: `Host`, these headers (`None`: the good ones), the session header
/// when there is a session, `Content-Length` unless framing is given, then the body.
fn post(
    addr: &str,
    session: Option<&str>,
    headers: Option<&[(&str, &str)]>,
    body: &[u8],
) -> Vec<u8> {
    let good = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    let headers = headers.unwrap_or(&good);
    let mut head = String::from("POST /mcp HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    if let Some(s) = session {
        head.push_str(&format!("Mcp-Session-Id: {s}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let framed = headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
    });
    if !framed {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    request
}

const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

/// A request with `method` and raw `params` JSON.
fn call(method: &str, params: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#)
}

/// Bodies that are not JSON, or not one JSON-RPC message, or not a valid one.
fn body_cases() -> Vec<(String, Vec<u8>, u16, Answer)> {
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(5_000), "}".repeat(5_000));
    let long = "x".repeat(100_000);
    let text: Vec<(&str, String, u16, Answer)> = vec![
        // Not JSON: -32700.
        ("empty body", String::new(), 400, Error(-32700)),
        ("whitespace", "   ".into(), 400, Error(-32700)),
        ("open brace", "{".into(), 400, Error(-32700)),
        ("open bracket", "[".into(), 400, Error(-32700)),
        ("close brace", "}".into(), 400, Error(-32700)),
        ("a bare word", "nul".into(), 400, Error(-32700)),
        ("trailing comma", r#"{"jsonrpc":"2.0","id":1,"method":"ping",}"#.into(), 400, Error(-32700)),
        ("trailing garbage", format!("{PING}x"), 400, Error(-32700)),
        ("two messages", format!("{PING}{PING}"), 400, Error(-32700)),
        ("single quotes", "{'jsonrpc':'2.0','id':1,'method':'ping'}".into(), 400, Error(-32700)),
        ("NaN", r#"{"jsonrpc":"2.0","id":NaN,"method":"ping"}"#.into(), 400, Error(-32700)),
        ("a comment", r#"{"jsonrpc":"2.0","id":1,"method":"ping" /* c */}"#.into(), 400, Error(-32700)),
        ("a byte order mark", format!("\u{feff}{PING}"), 400, Error(-32700)),
        ("a NUL in a string", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pi\0ng\"}".into(), 400, Error(-32700)),
        ("id out of f64 range", r#"{"jsonrpc":"2.0","id":1e400,"method":"ping"}"#.into(), 400, Error(-32700)),
        // JSON, but not one JSON-RPC message: -32600.
        ("a string", r#""just a string""#.into(), 400, Error(-32600)),
        ("a number", "42".into(), 400, Error(-32600)),
        ("null", "null".into(), 400, Error(-32600)),
        ("true", "true".into(), 400, Error(-32600)),
        ("an empty object", "{}".into(), 400, Error(-32600)),
        ("an empty batch", "[]".into(), 400, Error(-32600)),
        ("a batch of a number", "[1]".into(), 400, Error(-32600)),
        ("a batch of one request", format!("[{PING}]"), 400, Error(-32600)),
        ("a batch of two requests", format!("[{PING},{PING}]"), 400, Error(-32600)),
        ("a batch of a notification", r#"[{"jsonrpc":"2.0","method":"notifications/initialized"}]"#.into(), 400, Error(-32600)),
        ("no jsonrpc", r#"{"id":1,"method":"ping"}"#.into(), 400, Error(-32600)),
        ("jsonrpc 1.0", r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#.into(), 400, Error(-32600)),
        ("jsonrpc a number", r#"{"jsonrpc":2.0,"id":1,"method":"ping"}"#.into(), 400, Error(-32600)),
        ("jsonrpc null", r#"{"jsonrpc":null,"id":1,"method":"ping"}"#.into(), 400, Error(-32600)),
        ("an id alone", r#"{"jsonrpc":"2.0","id":1}"#.into(), 400, Error(-32600)),
        ("jsonrpc alone", r#"{"jsonrpc":"2.0"}"#.into(), 400, Error(-32600)),
        ("result and error", r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}"#.into(), 400, Error(-32600)),
        ("a result without an id", r#"{"jsonrpc":"2.0","result":{}}"#.into(), 400, Error(-32600)),
        ("an object id", r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#.into(), 400, Error(-32600)),
        ("an array id", r#"{"jsonrpc":"2.0","id":[1],"method":"ping"}"#.into(), 400, Error(-32600)),
        ("a boolean id", r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#.into(), 400, Error(-32600)),
        ("a fractional id", r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#.into(), 400, Error(-32600)),
        ("a null id", r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#.into(), 400, Error(-32600)),
        ("an id past u64", r#"{"jsonrpc":"2.0","id":99999999999999999999999999,"method":"ping"}"#.into(), 400, Error(-32600)),
        ("an id nested 200 deep", format!(r#"{{"jsonrpc":"2.0","id":{}{},"method":"ping"}}"#, "[".repeat(200), "]".repeat(200)), 400, Error(-32600)),
        ("a numeric method", r#"{"jsonrpc":"2.0","id":1,"method":42}"#.into(), 400, Error(-32600)),
        ("a null method", r#"{"jsonrpc":"2.0","id":1,"method":null}"#.into(), 400, Error(-32600)),
        ("an object method", r#"{"jsonrpc":"2.0","id":1,"method":{"name":"ping"}}"#.into(), 400, Error(-32600)),
        ("an array method", r#"{"jsonrpc":"2.0","id":1,"method":["ping"]}"#.into(), 400, Error(-32600)),
        // Odd but valid: answered.
        ("the smallest i64 id", r#"{"jsonrpc":"2.0","id":-9223372036854775808,"method":"ping"}"#.into(), 200, Result),
        ("a 100 KB string id", format!(r#"{{"jsonrpc":"2.0","id":"{long}","method":"ping"}}"#), 200, Result),
        ("a lone surrogate in params", call("ping", r#"{"a":"\ud800"}"#), 200, Result),
        ("string params to ping", call("ping", r#""x""#), 200, Result),
        ("numeric params to ping", call("ping", "7"), 200, Result),
        ("boolean params to ping", call("ping", "true"), 200, Result),
        ("null params to ping", call("ping", "null"), 200, Result),
        ("params 10000 arrays deep", call("ping", &deep_array), 200, Result),
        ("params 5000 objects deep", call("ping", &deep_object), 200, Result),
        // Unknown methods: -32601.
        ("an empty method", r#"{"jsonrpc":"2.0","id":1,"method":""}"#.into(), 200, Error(-32601)),
        ("a 100 KB method", format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{long}"}}"#), 200, Error(-32601)),
        ("method foo", r#"{"jsonrpc":"2.0","id":1,"method":"foo"}"#.into(), 200, Error(-32601)),
        ("tools/unknown", r#"{"jsonrpc":"2.0","id":1,"method":"tools/unknown"}"#.into(), 200, Error(-32601)),
        ("rpc.discover", r#"{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}"#.into(), 200, Error(-32601)),
        ("methods are case-sensitive", r#"{"jsonrpc":"2.0","id":1,"method":"TOOLS/LIST"}"#.into(), 200, Error(-32601)),
        // Notifications and responses are accepted and never answered.
        ("an unknown notification", r#"{"jsonrpc":"2.0","method":"notifications/unknown"}"#.into(), 202, Empty),
        ("a notification with string params", r#"{"jsonrpc":"2.0","method":"foo","params":"x"}"#.into(), 202, Empty),
        ("cancelled with an object id", r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{"x":1}}}"#.into(), 202, Empty),
        ("cancelled with string params", r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":"x"}"#.into(), 202, Empty),
        ("progress without a token", r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#.into(), 202, Empty),
        ("a response to nothing", r#"{"jsonrpc":"2.0","id":12345,"result":{}}"#.into(), 202, Empty),
        ("an error response to nothing", r#"{"jsonrpc":"2.0","id":"nope","error":{"code":-1,"message":"no"}}"#.into(), 202, Empty),
        ("an error response with a string error", r#"{"jsonrpc":"2.0","id":1,"error":"oops"}"#.into(), 202, Empty),
        // Bad params per method: -32602; a tool's own failure is a result.
        ("tools/list with array params", call("tools/list", "[]"), 200, Error(-32602)),
        ("tools/list with a numeric cursor", call("tools/list", r#"{"cursor":42}"#), 200, Error(-32602)),
        ("tools/list with a bogus cursor", call("tools/list", r#"{"cursor":"bogus"}"#), 200, Error(-32602)),
        ("tools/call without params", r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#.into(), 200, Error(-32602)),
        ("tools/call without a name", call("tools/call", "{}"), 200, Error(-32602)),
        ("tools/call with a numeric name", call("tools/call", r#"{"name":42}"#), 200, Error(-32602)),
        ("tools/call with a surrogate name", call("tools/call", r#"{"name":"\udfff"}"#), 200, Error(-32602)),
        ("tools/call of an unknown tool", call("tools/call", r#"{"name":"no_such_tool","arguments":{}}"#), 200, Error(-32602)),
        ("tools/call with string arguments", call("tools/call", r#"{"name":"calculate","arguments":"x"}"#), 200, Result),
        ("tools/call with array arguments", call("tools/call", r#"{"name":"calculate","arguments":[1,2]}"#), 200, Result),
        ("tools/call with null arguments", call("tools/call", r#"{"name":"calculate","arguments":null}"#), 200, Result),
        ("tools/call with no arguments", call("tools/call", r#"{"name":"calculate","arguments":{}}"#), 200, Result),
        ("tools/call with a wrong argument type", call("tools/call", r#"{"name":"calculate","arguments":{"operation":"add","a":"x","b":1}}"#), 200, Result),
        ("tools/call with a string _meta", call("tools/call", r#"{"name":"calculate","arguments":{"operation":"add","a":1,"b":2},"_meta":"x"}"#), 200, Result),
        ("tools/call with an object progress token", call("tools/call", r#"{"name":"calculate","arguments":{"operation":"add","a":1,"b":2},"_meta":{"progressToken":{"x":1}}}"#), 200, Result),
        ("resources/read without params", r#"{"jsonrpc":"2.0","id":1,"method":"resources/read"}"#.into(), 200, Error(-32602)),
        ("resources/read with a numeric uri", call("resources/read", r#"{"uri":42}"#), 200, Error(-32602)),
        ("resources/read of an unknown uri", call("resources/read", r#"{"uri":"nope://x"}"#), 200, Error(-32002)),
        ("resources/subscribe without a uri", call("resources/subscribe", "{}"), 200, Error(-32602)),
        ("resources/unsubscribe with an array uri", call("resources/unsubscribe", r#"{"uri":[]}"#), 200, Error(-32602)),
        ("resources/templates/list with an object cursor", call("resources/templates/list", r#"{"cursor":{}}"#), 200, Error(-32602)),
        ("prompts/get without params", r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get"}"#.into(), 200, Error(-32602)),
        ("prompts/get of an unknown prompt", call("prompts/get", r#"{"name":"nope"}"#), 200, Error(-32602)),
        ("prompts/get with string arguments", call("prompts/get", r#"{"name":"x","arguments":"y"}"#), 200, Error(-32602)),
        ("completion/complete without a ref", call("completion/complete", "{}"), 200, Error(-32602)),
        ("completion/complete with a bogus ref", call("completion/complete", r#"{"ref":{"type":"ref/bogus"},"argument":{"name":"a","value":"b"}}"#), 200, Error(-32602)),
        ("logging/setLevel to loud", call("logging/setLevel", r#"{"level":"loud"}"#), 200, Error(-32602)),
        ("logging/setLevel without a level", call("logging/setLevel", "{}"), 200, Error(-32602)),
        ("logging/setLevel to a number", call("logging/setLevel", r#"{"level":3}"#), 200, Error(-32602)),
        ("initialize without params", r#"{"jsonrpc":"2.0","id":1,"method":"initialize"}"#.into(), 200, Error(-32602)),
        ("initialize with a numeric version", call("initialize", r#"{"protocolVersion":42}"#), 200, Error(-32602)),
        ("initialize with string params", call("initialize", r#""x""#), 200, Error(-32602)),
    ];
    let mut cases: Vec<(String, Vec<u8>, u16, Answer)> = text
        .into_iter()
        .map(|(name, body, status, answer)| (name.to_string(), body.into_bytes(), status, answer))
        .collect();
    // Invalid UTF-8: -32700.
    for (name, bytes) in [
        ("0xff 0xfe in a string", &b"\xff\xfe"[..]),
        ("an overlong encoding", &b"\xc0\xaf"[..]),
        ("an encoded surrogate", &b"\xed\xa0\x80"[..]),
        ("a truncated sequence", &b"\xe2\x82"[..]),
    ] {
        let mut body = br#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":""#.to_vec();
        body.extend_from_slice(bytes);
        body.extend_from_slice(br#""}}"#);
        cases.push((format!("invalid UTF-8: {name}"), body, 400, Error(-32700)));
    }
    cases
}

/// A name, the headers, the body, the status and the answer.
type HeaderCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, String, u16, Answer);

/// Bad headers, content types, `Accept` and framing: the same in both modes.
fn header_cases(addr: &str, session: Option<&str>) -> Vec<Case> {
    const CT: (&str, &str) = ("Content-Type", "application/json");
    const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");
    let many: Vec<(String, String)> = (0..120).map(|i| (format!("X-H{i}"), "v".into())).collect();
    let mut many_headers: Vec<(&str, &str)> = vec![CT, ACCEPT];
    many_headers.extend(many.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let big = "a".repeat(100_000);
    let chunked = format!("{:x}\r\n{PING}\r\n0\r\n\r\n", PING.len());
    let table: Vec<HeaderCase> = vec![
        (
            "no Content-Type",
            vec![ACCEPT],
            PING.into(),
            415,
            Error(-32000),
        ),
        (
            "Content-Type text/plain",
            vec![("Content-Type", "text/plain"), ACCEPT],
            PING.into(),
            415,
            Error(-32000),
        ),
        (
            "Content-Type multipart",
            vec![("Content-Type", "multipart/form-data; boundary=x"), ACCEPT],
            PING.into(),
            415,
            Error(-32000),
        ),
        (
            "Content-Type garbage",
            vec![("Content-Type", ";;;"), ACCEPT],
            PING.into(),
            415,
            Error(-32000),
        ),
        (
            "Content-Type with a charset",
            vec![("Content-Type", "application/json; charset=utf-8"), ACCEPT],
            PING.into(),
            200,
            Result,
        ),
        ("no Accept", vec![CT], PING.into(), 406, Error(-32000)),
        (
            "Accept text/html",
            vec![CT, ("Accept", "text/html")],
            PING.into(),
            406,
            Error(-32000),
        ),
        (
            "Accept JSON only",
            vec![CT, ("Accept", "application/json")],
            PING.into(),
            406,
            Error(-32000),
        ),
        (
            "Accept SSE only",
            vec![CT, ("Accept", "text/event-stream")],
            PING.into(),
            406,
            Error(-32000),
        ),
        (
            "Accept */*",
            vec![CT, ("Accept", "*/*")],
            PING.into(),
            200,
            Result,
        ),
        (
            "an unknown protocol version",
            vec![CT, ACCEPT, ("MCP-Protocol-Version", "banana")],
            PING.into(),
            400,
            Error(-32022),
        ),
        (
            "2026-07-28 for a method outside it",
            vec![CT, ACCEPT, ("MCP-Protocol-Version", "2026-07-28")],
            PING.into(),
            404,
            Error(-32601),
        ),
        (
            "2026-07-28 without _meta",
            vec![CT, ACCEPT, ("MCP-Protocol-Version", "2026-07-28")],
            call("tools/list", "{}"),
            400,
            Error(-32602),
        ),
        (
            "a foreign Host",
            vec![CT, ACCEPT, ("Host", "evil.com")],
            PING.into(),
            403,
            Error(-32000),
        ),
        (
            "a foreign Origin",
            vec![CT, ACCEPT, ("Origin", "http://evil.com")],
            PING.into(),
            403,
            Error(-32000),
        ),
        (
            "Origin null",
            vec![CT, ACCEPT, ("Origin", "null")],
            PING.into(),
            403,
            Error(-32000),
        ),
        (
            "a second Host",
            vec![CT, ACCEPT, ("Host", addr), ("Host", addr)],
            PING.into(),
            400,
            Error(-32000),
        ),
        (
            "a body over the cap",
            vec![CT, ACCEPT, ("Content-Length", "999999999999")],
            PING.into(),
            413,
            Error(-32000),
        ),
        (
            "a chunked body",
            vec![CT, ACCEPT, ("Transfer-Encoding", "chunked")],
            chunked.clone(),
            200,
            Result,
        ),
        (
            "a bad chunk size",
            vec![CT, ACCEPT, ("Transfer-Encoding", "chunked")],
            format!("zz\r\n{PING}\r\n0\r\n\r\n"),
            400,
            Error(-32000),
        ),
        (
            "chunked framing over a plain body",
            vec![
                CT,
                ACCEPT,
                ("Content-Length", "40"),
                ("Transfer-Encoding", "chunked"),
            ],
            PING.into(),
            400,
            Error(-32000),
        ),
        (
            "Expect: 100-continue",
            vec![CT, ACCEPT, ("Expect", "100-continue")],
            PING.into(),
            200,
            Result,
        ),
        (
            "a 100 KB header",
            vec![CT, ACCEPT, ("X-Big", &big)],
            PING.into(),
            200,
            Result,
        ),
        // hyper answers these itself, without a body (docs/architecture.md, "Error bodies").
        (
            "a Content-Length that is not a number",
            vec![CT, ACCEPT, ("Content-Length", "abc")],
            PING.into(),
            400,
            Empty,
        ),
        (
            "two Content-Lengths",
            vec![
                CT,
                ACCEPT,
                ("Content-Length", "40"),
                ("Content-Length", "41"),
            ],
            PING.into(),
            400,
            Empty,
        ),
        (
            "a control character in a header",
            vec![CT, ACCEPT, ("X-Foo", "a\u{1}b")],
            PING.into(),
            400,
            Empty,
        ),
        (
            "more than 100 headers",
            many_headers,
            PING.into(),
            431,
            Empty,
        ),
    ];
    let mut cases: Vec<Case> = table
        .into_iter()
        .map(|(name, headers, body, status, answer)| Case {
            name: name.to_string(),
            request: post(addr, session, Some(&headers), body.as_bytes()),
            status,
            answer,
        })
        .collect();
    let raw = |name: &str, request: &[u8]| Case {
        name: name.to_string(),
        request: request.to_vec(),
        status: 400,
        answer: Empty,
    };
    cases.push(raw("a garbage request line", b"FOO BAR BAZ\r\n\r\n"));
    cases.push(raw(
        "HTTP/9.9",
        b"POST /mcp HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
    ));
    cases.push(raw(
        "a TLS client hello",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
    ));
    let other = |method: &str, path: &str, accept: &str| {
        let mut r = format!(
            "{method} {path} HTTP/1.1\r\nConnection: close\r\nHost: {addr}\r\nAccept: {accept}\r\n"
        );
        if let Some(s) = session {
            r.push_str(&format!("Mcp-Session-Id: {s}\r\n"));
        }
        r.push_str("Content-Length: 0\r\n\r\n");
        r.into_bytes()
    };
    for (name, method, path, status) in [
        ("PUT on the endpoint", "PUT", "/mcp", 405),
        ("PATCH on the endpoint", "PATCH", "/mcp", 405),
        ("an unknown path", "POST", "/nope", 404),
        ("a path under the endpoint", "POST", "/mcp/x", 404),
    ] {
        cases.push(Case {
            name: name.to_string(),
            request: other(method, path, "application/json, text/event-stream"),
            status,
            answer: Error(-32000),
        });
    }
    cases
}

/// Sends one request on a fresh connection and reads the whole response (`Connection: close`).
fn exchange(server: &Server, request: &[u8]) -> (u16, String) {
    let mut conn = connect(server);
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // A server that closes early (hyper refusing a head) may reset the rest of the upload.
    let _ = conn.write_all(request);
    let mut response = Vec::new();
    if let Err(e) = conn.read_to_end(&mut response) {
        assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the server hung"
        );
    }
    let mut text = String::from_utf8_lossy(&response).to_string();
    // Past a 100 Continue to the final response.
    while text.starts_with("HTTP/1.1 1") {
        let end = text.find("\r\n\r\n").expect("an interim head") + 4;
        text = text[end..].to_string();
    }
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let lower = head.to_ascii_lowercase();
    let body = if lower.contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The JSON-RPC message of a body: JSON, or the last `data:` of an SSE body.
fn message(body: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str(body) {
        return Some(v);
    }
    util::sse_messages(body).pop()
}

fn check(server: &Server, case: &Case, mode: &str) {
    let (status, body) = exchange(server, &case.request);
    let what = format!("{mode}: {}: {status} {body:.300}", case.name);
    assert!(status < 500, "a 5xx: {what}");
    assert_eq!(status, case.status, "{what}");
    match case.answer {
        Empty => assert!(body.is_empty(), "{what}"),
        Result => {
            let v = message(&body).unwrap_or_else(|| panic!("not JSON-RPC: {what}"));
            assert!(v.get("result").is_some(), "{what}");
        }
        Error(code) => {
            let v = message(&body).unwrap_or_else(|| panic!("not JSON-RPC: {what}"));
            assert_eq!(v["jsonrpc"], "2.0", "{what}");
            assert_eq!(v["error"]["code"], code, "{what}");
        }
    }
}

/// Runs every case against `server`, then checks it still serves a good request.
fn sweep(server: &Server, session: Option<&str>, mode: &str, extra: Vec<Case>) -> usize {
    let addr = crate::limits::addr(server);
    let mut cases: Vec<Case> = body_cases()
        .into_iter()
        .map(|(name, body, status, answer)| Case {
            request: post(&addr, session, None, &body),
            name,
            status,
            answer,
        })
        .collect();
    cases.extend(header_cases(&addr, session));
    cases.extend(extra);
    for case in &cases {
        check(server, case, mode);
    }
    let good = tool_call(9, "calculate", json!({"operation": "add", "a": 2, "b": 3}));
    let r = server.call(&good, session);
    assert_eq!(text_of(&r), "Result: 5", "{mode}: {r}");
    assert_eq!(util::ready(server).0, 200);
    let panics = server.log_text().matches("panicked").count();
    assert_eq!(panics, 0, "{}", server.log_text());
    cases.len()
}

#[test]
fn stateless_every_malformed_message_gets_its_status_and_code() {
    let mut server = util::serve(&plugins().calculator, &["--stateless"]);
    let addr = crate::limits::addr(&server);
    let mut extra = Vec::new();
    for (name, method) in [("GET", "GET"), ("DELETE", "DELETE")] {
        let request = format!(
            "{method} /mcp HTTP/1.1\r\nConnection: close\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
        );
        extra.push(Case {
            name: format!("{name} in stateless mode"),
            request: request.into_bytes(),
            status: 405,
            answer: Error(-32000),
        });
    }
    let n = sweep(&server, None, "stateless", extra);
    assert!(n >= 100, "only {n} cases");
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited"
    );
}

#[test]
fn stateful_every_malformed_message_gets_its_status_and_code() {
    let mut server = util::serve(&plugins().calculator, &[]);
    let session = server.initialize();
    let addr = crate::limits::addr(&server);
    let with = |id: &str, body: &str| post(&addr, Some(id), None, body.as_bytes());
    let list = call("tools/list", "{}");
    let mut extra = vec![
        Case {
            name: "no session header".into(),
            request: post(&addr, None, None, list.as_bytes()),
            status: 400,
            answer: Error(-32000),
        },
        Case {
            name: "an unknown session".into(),
            request: with("0123456789abcdef0123456789abcdef", &list),
            status: 404,
            answer: Error(-32001),
        },
        Case {
            name: "a 10 KB session id".into(),
            request: with(&"f".repeat(10_000), &list),
            status: 404,
            answer: Error(-32001),
        },
        Case {
            name: "a notification on an unknown session".into(),
            request: with(
                "nope",
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            ),
            status: 404,
            answer: Error(-32001),
        },
    ];
    let get = |accept: &str, id: &str| {
        format!(
            "GET /mcp HTTP/1.1\r\nConnection: close\r\nHost: {addr}\r\nAccept: {accept}\r\nMcp-Session-Id: {id}\r\n\r\n"
        )
        .into_bytes()
    };
    for (name, request, status, code) in [
        (
            "GET without SSE in Accept",
            get("application/json", &session),
            406,
            -32000,
        ),
        (
            "GET on an unknown session",
            get("text/event-stream", "nope"),
            404,
            -32001,
        ),
        (
            "DELETE without a session",
            format!("DELETE /mcp HTTP/1.1\r\nConnection: close\r\nHost: {addr}\r\n\r\n")
                .into_bytes(),
            400,
            -32000,
        ),
    ] {
        extra.push(Case {
            name: name.into(),
            request,
            status,
            answer: Error(code),
        });
    }
    let n = sweep(&server, Some(&session), "stateful", extra);
    assert!(n >= 100, "only {n} cases");
    // The malformed initializes opened no session: only the test's own is held.
    assert_eq!(util::ready(&server).1["sessions"], 1);
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited"
    );
}
