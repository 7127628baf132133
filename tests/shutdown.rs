//! Graceful shutdown on SIGTERM: the listener closes at once, a call in flight still completes
//! successfully, open session streams end, and the process exits 0.

use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;

use crate::util::{self, SseStream, plugins, text_of, tool_call};

const WAIT: Duration = Duration::from_secs(20);

fn refuses_connections(addr: &str) -> bool {
    TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_millis(200)).is_err()
}

#[test]
fn sigterm_lets_a_call_in_flight_finish_and_exits_0() {
    let mut server = util::serve(&plugins().test_plugin, &[]);
    let addr = server.base.trim_start_matches("http://").to_string();
    let session = server.initialize();
    // A session stream not tied to any request: shutdown must end it, not wait on it.
    let standalone = server.get_stream(Some(&session), &[]);
    assert_eq!(standalone.status(), 200);
    let standalone = SseStream::new(standalone);

    let r = server.post(
        &tool_call(1, "sleep", json!({"ms": 1500, "steps": 10})),
        Some(&session),
    );
    let call = SseStream::new(r);
    // The first log line proves the call is running.
    let first = call.next(WAIT).expect("the tool's first log line");
    assert_eq!(first["method"], "notifications/message", "{first}");

    server.terminate();
    assert!(
        util::eventually(Duration::from_secs(5), || refuses_connections(&addr)),
        "still accepting connections after SIGTERM"
    );
    let rest = call.rest(WAIT);
    let result = rest.last().expect("the call's result");
    assert_eq!(result["id"], 1, "{rest:?}");
    assert_ne!(result["result"]["isError"], true, "{result}");
    assert_eq!(text_of(result), "slept 1500 ms");
    // The session stream ended instead of keeping the server alive.
    assert!(standalone.rest(WAIT).is_empty());

    server.assert_exits(0, Duration::from_secs(15));
    assert!(refuses_connections(&addr));
}

#[test]
fn sigterm_on_an_idle_server_exits_0_at_once() {
    let mut server = util::serve(&plugins().calculator, &["--stateless"]);
    server.terminate();
    server.assert_exits(0, Duration::from_secs(10));
}
