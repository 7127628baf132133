//! Unit tests: the body limit and its decoding, and the tool driven through the SDK's
//! `TestHost` as the server drives it (`start_tool`), against 127.0.0.1 only.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fastmcp_sdk::prelude::*;
use fastmcp_sdk::testing::{Reply, TestHost};

use crate::body::Limited;

/// What `Limited` makes of `chunks` with `limit`.
fn collect(limit: usize, chunks: &[&[u8]]) -> Result<(String, bool), String> {
    let mut body = Limited::new(limit);
    for chunk in chunks {
        if !body.push(chunk) {
            break;
        }
    }
    body.into_text().map_err(|error| error.to_string())
}

#[test]
fn a_body_within_the_limit_is_kept_whole() {
    assert_eq!(collect(10, &[b"hello", b"!"]), Ok(("hello!".into(), false)));
    assert_eq!(collect(6, &[b"hello", b"!"]), Ok(("hello!".into(), false)));
    assert_eq!(collect(6, &[]), Ok((String::new(), false)));
}

#[test]
fn a_body_past_the_limit_is_cut_and_says_so() {
    assert_eq!(collect(3, &[b"hello"]), Ok(("hel".into(), true)));
    assert_eq!(collect(5, &[b"hello", b"!"]), Ok(("hello".into(), true)));
    assert_eq!(collect(0, &[b"hello"]), Ok((String::new(), true)));
}

#[test]
fn a_character_the_cut_splits_is_dropped() {
    // "é" is two bytes: a cut after its first byte keeps "h" only.
    assert_eq!(collect(2, &["héllo".as_bytes()]), Ok(("h".into(), true)));
}

#[test]
fn a_body_that_is_not_utf8_is_an_error_naming_the_byte() {
    let error = collect(100, &[b"ab\xffcd"]).unwrap_err();
    assert!(error.contains("not UTF-8 text (byte 2"), "{error}");
    // Incomplete at the very end of a whole body: not the cut's doing, so an error too.
    let error = collect(100, &[b"ab\xc3"]).unwrap_err();
    assert!(error.contains("byte 2"), "{error}");
}

#[test]
fn the_manifest_says_fetch_is_async() {
    let manifest = TestHost::new(crate::fastmcp_plugin_entry).manifest();
    let tool = &manifest["tools"][0];
    assert_eq!(tool["name"], "fetch", "{manifest}");
    assert_eq!(tool["async"], true, "{manifest}");
    assert!(
        tool["outputSchema"]["properties"]["status"].is_object(),
        "{manifest}"
    );
}

/// Starts `fetch` with `arguments` as the server does and waits for its answer.
fn fetch(arguments: Value) -> Reply {
    TestHost::new(crate::fastmcp_plugin_entry)
        .start_tool("fetch", arguments)
        .wait()
}

/// The text of an error result, failing the test if the result is not an error.
fn error_text(reply: &Reply) -> String {
    assert!(reply.is_error(), "expected an error result: {reply:?}");
    reply.text()
}

#[test]
fn a_url_that_does_not_parse_is_an_error_result() {
    let text = error_text(&fetch(json!({"url": "not a url"})));
    assert!(text.contains("\"not a url\" is not a valid URL"), "{text}");
}

#[test]
fn schemes_other_than_http_are_refused() {
    let text = error_text(&fetch(json!({"url": "ftp://127.0.0.1/file"})));
    assert!(text.contains("only http:// and https:// URLs"), "{text}");
}

#[cfg(not(feature = "rustls"))]
#[test]
fn https_without_the_rustls_feature_says_how_to_get_it() {
    let text = error_text(&fetch(json!({"url": "https://127.0.0.1/"})));
    assert!(text.contains("`rustls` feature"), "{text}");
}

#[test]
fn a_refused_connection_is_an_error_result() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let text = error_text(&fetch(json!({"url": format!("http://127.0.0.1:{port}/")})));
    assert!(text.contains("could not connect"), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

#[test]
fn gets_the_status_content_type_and_text() {
    let (url, request) = serve_once(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\n\r\nhello there",
    );
    let reply = fetch(json!({"url": url}));
    assert!(!reply.is_error(), "{reply:?}");
    let fetched = &reply.body["structuredContent"];
    assert_eq!(fetched["status"], 200, "{reply:?}");
    assert_eq!(fetched["reason"], "OK");
    assert_eq!(fetched["content_type"], "text/plain");
    assert_eq!(fetched["text"], "hello there");
    assert_eq!(fetched["truncated"], false);
    let request = request.join().expect("server thread");
    assert!(request.starts_with("GET /page HTTP/1.1\r\n"), "{request}");
    assert!(request.contains("user-agent: fastmcp-fetch/"), "{request}");
}

/// Answers one request on 127.0.0.1 with `response`; returns the URL to GET and the thread,
/// which returns the request's head. Gives up after 10 s without a request.
fn serve_once(response: &'static [u8]) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/page", listener.local_addr().expect("address"));
    listener.set_nonblocking(true).expect("nonblocking");
    let thread = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(error) if error.kind() == ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "no request within 10 s");
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(error) => panic!("accept: {error}"),
            }
        };
        stream.set_nonblocking(false).expect("blocking");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).expect("read") == 1 {
            head.push(byte[0]);
        }
        stream.write_all(response).expect("write");
        String::from_utf8_lossy(&head).into_owned()
    });
    (url, thread)
}
