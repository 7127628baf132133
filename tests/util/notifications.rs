//! The notifications a call streams back before its result, picked out of its SSE messages.

use serde_json::{Value, json};

use super::{Server, sse_messages, text_of, tool_call};

/// The messages whose `method` is `method` (notifications, requests), in order.
pub fn with_method<'a>(messages: &'a [Value], method: &str) -> Vec<&'a Value> {
    messages.iter().filter(|m| m["method"] == method).collect()
}

/// Calls the test plugin's `log` tool (`count` messages, levels cycling debug, info, warning)
/// as request `id`, and returns the levels of the log messages that reached the client.
pub fn log_levels(server: &Server, id: i64, count: u32, session: Option<&str>) -> Vec<String> {
    let r = server.post(&tool_call(id, "log", json!({ "count": count })), session);
    let body = r.text().unwrap();
    let messages = sse_messages(&body);
    let last = messages
        .last()
        .unwrap_or_else(|| panic!("no messages: {body}"));
    assert_eq!(text_of(last), format!("logged {count}"), "{body}");
    with_method(&messages, "notifications/message")
        .iter()
        .map(|m| m["params"]["level"].as_str().unwrap().to_string())
        .collect()
}
