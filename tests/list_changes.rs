//! Tools and prompts a plugin hides and shows at runtime (`Context::set_tool_enabled`, ABI
//! 1.3): the lists served afterwards differ, a hidden tool cannot be called, and clients hear
//! `list_changed` on a session's GET stream (2025 transports) and on a `subscriptions/listen`
//! stream (2026-07-28), as after a hot reload, also when the change comes from a call run as a
//! task, which no request waits on.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::modern::send;
use crate::tasks::{HANDSHAKE, handshake, init_session_with, start_task, wait_status};
use crate::util::{self, Server, SseStream, plugins, rpc};

/// Waits (bounded) for a message with `method` on `stream`.
fn hears(stream: &SseStream, method: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(m) = stream.next(deadline.saturating_duration_since(Instant::now())) {
        if m["method"] == method {
            return true;
        }
    }
    false
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list["result"][key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {list}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn trigger(server: &Server, tool: &str, session: Option<&str>) -> String {
    let r = server.call(&util::tool_call(5, tool, json!({})), session);
    assert!(r["result"].get("isError").is_none(), "{r}");
    util::text_of(&r)
}

#[test]
fn a_tool_hidden_at_runtime_leaves_the_list_and_the_session_hears_it() {
    hide_and_show_a_tool(&[]);
}

/// The same through an isolated plugin's child: the child tells the host what it hides
/// before it answers the call.
#[test]
fn an_isolated_plugin_hides_and_shows_its_tools_too() {
    hide_and_show_a_tool(&["--isolate=true"]);
}

fn hide_and_show_a_tool(extra: &[&str]) {
    let mut args = vec![plugins().conformance.to_str().unwrap()];
    args.extend_from_slice(extra);
    let s = util::start(&args, &[]);
    let session = s.initialize();
    let stream = s.get_stream(Some(&session), &[]);
    assert_eq!(stream.status(), 200);
    let stream = SseStream::new(stream);
    let list = |s: &Server| {
        names(
            &s.call(&rpc(2, "tools/list", json!({})), Some(&session)),
            "tools",
        )
    };
    assert!(list(&s).contains(&"test_dynamic_tool".to_string()));

    assert_eq!(
        trigger(&s, "test_trigger_tool_change", Some(&session)),
        "test_dynamic_tool is now hidden"
    );
    let after = list(&s);
    assert!(
        !after.contains(&"test_dynamic_tool".to_string()),
        "{after:?}"
    );
    assert!(after.contains(&"test_simple_text".to_string()), "{after:?}");
    assert!(hears(&stream, "notifications/tools/list_changed"));
    let call = s.call(
        &util::tool_call(3, "test_dynamic_tool", json!({})),
        Some(&session),
    );
    assert_eq!(
        call["error"]["message"], "Unknown tool: test_dynamic_tool",
        "{call}"
    );

    // Shown again: back in the list, callable, announced again.
    assert_eq!(
        trigger(&s, "test_trigger_tool_change", Some(&session)),
        "test_dynamic_tool is now listed"
    );
    assert!(list(&s).contains(&"test_dynamic_tool".to_string()));
    assert!(hears(&stream, "notifications/tools/list_changed"));
    let call = s.call(
        &util::tool_call(4, "test_dynamic_tool", json!({})),
        Some(&session),
    );
    assert_eq!(util::text_of(&call), "This tool comes and goes.");
}

#[test]
fn a_prompt_hidden_at_runtime_is_heard_on_a_listen_stream() {
    let s = util::start(
        &[plugins().conformance.to_str().unwrap(), "--stateless"],
        &[],
    );
    let listen = send(
        &s,
        42,
        "subscriptions/listen",
        json!({"notifications": {"promptsListChanged": true}}),
        &[],
    );
    assert_eq!(listen.status(), 200);
    let listen = SseStream::new(listen);
    let ack = listen
        .next(Duration::from_secs(10))
        .expect("an acknowledgement");
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    let prompts = |s: &Server| {
        let r = util::rpc_response(send(s, 2, "prompts/list", json!({}), &[]));
        names(&r, "prompts")
    };
    assert!(prompts(&s).contains(&"test_dynamic_prompt".to_string()));

    let r = util::rpc_response(send(
        &s,
        3,
        "tools/call",
        json!({"name": "test_trigger_prompt_change", "arguments": {}}),
        &[],
    ));
    assert_eq!(util::text_of(&r), "test_dynamic_prompt is now hidden");
    let after = prompts(&s);
    assert!(
        !after.contains(&"test_dynamic_prompt".to_string()),
        "{after:?}"
    );
    assert!(
        after.contains(&"test_simple_prompt".to_string()),
        "{after:?}"
    );
    assert!(hears(&listen, "notifications/prompts/list_changed"));
    let get = util::rpc_response(send(
        &s,
        4,
        "prompts/get",
        json!({"name": "test_dynamic_prompt"}),
        &[],
    ));
    assert_eq!(
        get["error"]["message"], "Unknown prompt: test_dynamic_prompt",
        "{get}"
    );
}

#[test]
fn a_task_that_hides_a_tool_is_served_and_heard_though_no_request_waits_on_it() {
    let s = util::start(&[plugins().test_plugin.to_str().unwrap()], &[]);
    let (session, _) = init_session_with(&s, json!({}));
    let headers = [("mcp-protocol-version", HANDSHAKE)];
    let stream = s.get_stream(Some(&session), &headers);
    assert_eq!(stream.status(), 200);
    let stream = SseStream::new(stream);
    let sid = Some(session.as_str());
    let hide = ("task_set_listed", json!({"name": "echo", "listed": false}));
    let id = start_task(&s, 1, hide, sid, &headers);
    let get = || handshake(&s, 2, "tasks/get", json!({"taskId": id}), sid, &headers);
    wait_status(get, "completed");
    assert!(hears(&stream, "notifications/tools/list_changed"));
    let list = handshake(&s, 3, "tools/list", json!({}), sid, &headers);
    let after = names(&list, "tools");
    assert!(!after.contains(&"echo".to_string()), "{after:?}");
    assert!(after.contains(&"add".to_string()), "{after:?}");
}
