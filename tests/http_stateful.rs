//! Stateful Streamable HTTP (the default): `initialize` issues an `Mcp-Session-Id`, later
//! requests must carry it, DELETE ends the session, GET opens its event stream, idle sessions
//! are reaped, and `/ready` counts sessions.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, plugins, rpc, text_of, tool_call};

fn stateful_calculator(extra: &[&str]) -> util::Server {
    util::serve(&plugins().calculator, extra)
}

fn assert_session_not_found(r: reqwest::blocking::Response) {
    assert_eq!(r.status(), 404);
    let body: Value = r.json().unwrap();
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["error"]["code"], -32001, "{body}");
}

#[test]
fn initialize_issues_a_session_that_later_requests_use() {
    let server = stateful_calculator(&[]);
    let session = server.initialize();
    assert!(!session.is_empty());
    assert!(
        session.bytes().all(|b| (0x21..=0x7e).contains(&b)),
        "{session}"
    );
    // A second initialize gets another session.
    assert_ne!(server.initialize(), session);

    let r = server.post(
        &tool_call(1, "calculate", json!({"operation": "add", "a": 2, "b": 3})),
        Some(&session),
    );
    assert_eq!(r.status(), 200);
    // Only initialize hands out the header.
    assert!(r.headers().get("mcp-session-id").is_none());
    assert_eq!(text_of(&r.json().unwrap()), "Result: 5");
}

#[test]
fn a_request_without_the_session_header_is_400() {
    let server = stateful_calculator(&[]);
    let _session = server.initialize();
    let r = server.post(&rpc(1, "tools/list", json!({})), None);
    assert_eq!(r.status(), 400);
    assert_eq!(util::content_type(&r), "application/json");
    let body: Value = r.json().unwrap();
    assert_eq!(body["jsonrpc"], "2.0");
    assert!(body["error"]["code"].is_i64(), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Mcp-Session-Id"),
        "{body}"
    );
}

#[test]
fn an_unknown_session_is_404() {
    let server = stateful_calculator(&[]);
    let r = server.post(&rpc(1, "tools/list", json!({})), Some("no-such-session"));
    assert_session_not_found(r);
}

#[test]
fn delete_ends_the_session() {
    let server = stateful_calculator(&[]);
    let session = server.initialize();
    let r = server.delete_session(&session, &[]);
    assert!(r.status().is_success(), "{}", r.status());
    assert_session_not_found(server.post(&rpc(1, "tools/list", json!({})), Some(&session)));
    // Deleting it again: it is gone.
    let again = server.delete_session(&session, &[]);
    assert_session_not_found(again);
}

#[test]
fn get_with_a_session_opens_an_event_stream() {
    let server = stateful_calculator(&[]);
    let session = server.initialize();
    let r = server.get_stream(Some(&session), &[]);
    assert_eq!(r.status(), 200);
    assert!(
        util::content_type(&r).starts_with("text/event-stream"),
        "{:?}",
        r.headers()
    );
    drop(r);
    // Without a session there is no stream to open.
    let r = server.get_stream(None, &[]);
    assert_eq!(r.status(), 400);
}

#[test]
fn idle_sessions_are_reaped() {
    let server = stateful_calculator(&["--session-idle-timeout", "300ms"]);
    let session = server.initialize();
    assert_eq!(util::ready(&server).1["sessions"], 1);
    // Watch /ready (which does not touch the session) until the reaper has run.
    assert!(
        util::eventually(
            Duration::from_secs(10),
            || util::ready(&server).1["sessions"] == 0
        ),
        "the idle session was never reaped; log:\n{}",
        server.log_text()
    );
    assert_session_not_found(server.post(&rpc(1, "tools/list", json!({})), Some(&session)));
}

#[test]
fn ready_reports_stateful_mode_and_counts_sessions() {
    let server = stateful_calculator(&[]);
    let (status, body) = util::ready(&server);
    assert_eq!(status, 200, "ready with no sessions at all");
    assert_eq!(
        body,
        json!({"mode": "stateful", "ready": 1, "status": "ready", "total": 1, "sessions": 0})
    );
    let a = server.initialize();
    let _b = server.initialize();
    assert_eq!(util::ready(&server).1["sessions"], 2);
    server.delete_session(&a, &[]);
    assert_eq!(util::ready(&server).1["sessions"], 1);
}
