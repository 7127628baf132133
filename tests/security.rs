//! What the MCP endpoint refuses and with which status: Host and Origin checks (DNS
//! rebinding), the body cap, Accept and Content-Type, malformed or unsupported JSON-RPC, unknown
//! methods and tools, arguments that fail the schema, and unknown protocol versions.

use serde_json::{Value, json};

use crate::util::{self, GOOD_HEADERS, plugins, post_raw, rpc, tool_call};

const LIST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut h = GOOD_HEADERS.to_vec();
    h.extend_from_slice(extra);
    h
}

fn error_of(r: reqwest::blocking::Response) -> Value {
    let v: Value = r.json().expect("a JSON-RPC error body");
    assert_eq!(v["jsonrpc"], "2.0", "{v}");
    v["error"].clone()
}

#[test]
fn foreign_host_and_origin_are_forbidden_unless_allowed() {
    let server = util::serve(&plugins().calculator, &["--stateless"]);
    let url = server.mcp();

    let r = post_raw(&url, LIST, &with(&[("host", "evil.example.com")]));
    assert_eq!(r.status(), 403);
    let err = error_of(r);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("evil.example.com"),
        "{err}"
    );

    let r = post_raw(&url, LIST, &with(&[("origin", "https://evil.example")]));
    assert_eq!(r.status(), 403);
    let r = post_raw(&url, LIST, &with(&[("origin", "http://localhost:3000")]));
    assert_eq!(r.status(), 200);
    let r = post_raw(&url, LIST, &with(&[("host", "localhost:1234")]));
    assert_eq!(r.status(), 200);
}

#[test]
fn allowed_hosts_admits_a_named_host() {
    let server = util::serve(
        &plugins().calculator,
        &["--stateless", "--allowed-hosts", "evil.example.com"],
    );
    let r = post_raw(&server.mcp(), LIST, &with(&[("host", "evil.example.com")]));
    assert_eq!(r.status(), 200);
    let r = post_raw(&server.mcp(), LIST, &with(&[("host", "other.example.com")]));
    assert_eq!(r.status(), 403);
}

#[test]
fn a_body_over_the_cap_is_413() {
    let server = util::serve(
        &plugins().test_plugin,
        &["--stateless", "--max-body-bytes", "1KiB"],
    );
    let big = tool_call(1, "echo", json!({"text": "x".repeat(2000)})).to_string();
    let r = post_raw(&server.mcp(), &big, &GOOD_HEADERS);
    assert_eq!(r.status(), 413);
    // Just under the cap is fine.
    let small = tool_call(1, "echo", json!({"text": "x".repeat(900)})).to_string();
    assert!(small.len() < 1024);
    let r = post_raw(&server.mcp(), &small, &GOOD_HEADERS);
    assert_eq!(r.status(), 200);
}

#[test]
fn an_announced_oversize_body_is_refused_before_it_is_sent() {
    use std::io::{Read, Write};
    let server = util::serve(
        &plugins().test_plugin,
        &["--stateless", "--max-body-bytes", "1KiB"],
    );
    let addr = server.mcp();
    let addr = addr.trim_start_matches("http://").trim_end_matches("/mcp");
    let mut conn = std::net::TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    // Headers only: a server that waited for the 100 MB body would never answer.
    write!(
        conn,
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: 100000000\r\n\r\n"
    )
    .unwrap();
    let mut head = [0u8; 64];
    let n = conn.read(&mut head).expect("an answer before the body");
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
}

#[test]
fn wrong_accept_is_406_and_wrong_content_type_is_415() {
    let server = util::serve(&plugins().calculator, &["--stateless"]);
    let url = server.mcp();
    let r = post_raw(
        &url,
        LIST,
        &[
            ("content-type", "application/json"),
            ("accept", "text/html"),
        ],
    );
    assert_eq!(r.status(), 406);
    let r = post_raw(
        &url,
        LIST,
        &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
    );
    assert_eq!(r.status(), 406, "SSE must be acceptable too");
    let r = post_raw(
        &url,
        LIST,
        &[
            ("content-type", "text/plain"),
            ("accept", "application/json, text/event-stream"),
        ],
    );
    assert_eq!(r.status(), 415);
}

#[test]
fn malformed_json_batches_and_unknown_methods_are_json_rpc_errors() {
    let server = util::serve(&plugins().calculator, &["--stateless"]);
    let url = server.mcp();

    let r = post_raw(&url, r#"{"jsonrpc":"2.0","id":1,"method":"#, &GOOD_HEADERS);
    assert_eq!(r.status(), 400);
    let err = error_of(r);
    assert_eq!(err["code"], -32700, "{err}");

    let batch = format!("[{LIST}]");
    let r = post_raw(&url, &batch, &GOOD_HEADERS);
    assert_eq!(r.status(), 400);
    let err = error_of(r);
    assert_eq!(err["code"], -32600, "{err}");
    assert!(err["message"].as_str().unwrap().contains("batch"), "{err}");

    let r = server.call(&rpc(7, "no/such/method", json!({})), None);
    assert_eq!(r["id"], 7);
    assert_eq!(r["error"]["code"], -32601, "{r}");
}

#[test]
fn schema_failures_are_tool_errors_and_unknown_tools_are_protocol_errors() {
    let server = util::serve(&plugins().calculator, &["--stateless"]);
    let r = server.call(
        &tool_call(
            1,
            "calculate",
            json!({"operation": "add", "a": "two", "b": 3}),
        ),
        None,
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    let text = util::text_of(&r);
    assert!(
        text.contains("a:") || text.contains("`a`"),
        "names the argument: {text}"
    );

    let r = server.call(
        &tool_call(
            2,
            "calculate",
            json!({"operation": "modulo", "a": 1, "b": 2}),
        ),
        None,
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(util::text_of(&r).contains("operation"), "{r}");

    let r = server.call(&tool_call(3, "no_such_tool", json!({})), None);
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no_such_tool"),
        "{r}"
    );
}

#[test]
fn an_unsupported_protocol_version_header_is_400() {
    let server = util::serve(&plugins().calculator, &["--stateless"]);
    let r = post_raw(
        &server.mcp(),
        LIST,
        &with(&[("mcp-protocol-version", "1999-01-01")]),
    );
    assert_eq!(r.status(), 400);
    let err = error_of(r);
    assert!(
        err["message"].as_str().unwrap().contains("1999-01-01"),
        "{err}"
    );
    let r = post_raw(
        &server.mcp(),
        LIST,
        &with(&[("mcp-protocol-version", "2025-06-18")]),
    );
    assert_eq!(r.status(), 200);
}
