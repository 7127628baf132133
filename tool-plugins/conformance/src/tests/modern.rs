//! The 2026-07-28 fixtures of the 0.2 suite through the real ABI table: the multi round-trip
//! tools and prompt ask under the suite's keys and check the answers, and the diagnostics of
//! `server-stateless` behave as the scenario needs.
//!
//! A `STATUS_INPUT_REQUIRED` answer is what the host gives a request the client has not
//! answered yet; a `STATUS_OK` one carries the client's answer from the retry.

use fastmcp_sdk::abi::{STATUS_INPUT_REQUIRED, STATUS_OK, STATUS_UNSUPPORTED};
use fastmcp_sdk::prelude::*;

use super::host;

fn accept(content: Value) -> Value {
    json!({"action": "accept", "content": content})
}

/// Runs `tool` once with every request unanswered: the requests it made (`key`, `method`)
/// and the reply status.
fn first_round(tool: &str, unanswered: usize) -> (Vec<(String, String)>, i32) {
    let host = host();
    for _ in 0..unanswered {
        host.answer_next_request(STATUS_INPUT_REQUIRED, Value::Null);
    }
    let reply = host.call_tool(tool, json!({}));
    let asked = host
        .take_requests()
        .into_iter()
        .map(|r| {
            let key = r["key"].as_str().unwrap_or_default().to_string();
            (key, r["method"].as_str().unwrap().to_string())
        })
        .collect();
    (asked, reply.status)
}

/// Runs `tool` with these answers, in asking order; returns the reply's text.
fn answered(tool: &str, answers: &[Value]) -> String {
    let host = host();
    for answer in answers {
        host.answer_next_request(STATUS_OK, answer.clone());
    }
    let reply = host.call_tool(tool, json!({}));
    assert_eq!(reply.status, STATUS_OK, "{reply:?}");
    reply.text()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, m)| (k.to_string(), m.to_string()))
        .collect()
}

#[test]
fn each_tool_asks_under_the_suites_key() {
    let cases = [
        (
            "test_input_required_result_elicitation",
            "user_name",
            "elicitation/create",
        ),
        (
            "test_input_required_result_sampling",
            "capital_question",
            "sampling/createMessage",
        ),
        (
            "test_input_required_result_list_roots",
            "client_roots",
            "roots/list",
        ),
        (
            "test_input_required_result_request_state",
            "confirm",
            "elicitation/create",
        ),
        (
            "test_input_required_result_tampered_state",
            "confirm",
            "elicitation/create",
        ),
        (
            "test_input_required_result_multi_round",
            "step1",
            "elicitation/create",
        ),
        (
            "test_streaming_elicitation",
            "confirmation",
            "elicitation/create",
        ),
    ];
    for (tool, key, method) in cases {
        let (asked, status) = first_round(tool, 1);
        assert_eq!(asked, pairs(&[(key, method)]), "{tool}");
        assert_eq!(status, STATUS_INPUT_REQUIRED, "{tool}");
    }
}

#[test]
fn the_answers_are_checked_and_used() {
    let name = accept(json!({"name": "Alice"}));
    let tool = "test_input_required_result_elicitation";
    assert_eq!(answered(tool, &[name]), "Hello, Alice!");
    let host = host();
    host.answer_next_request(STATUS_OK, json!({"action": "decline"}));
    let reply = host.call_tool(tool, json!({}));
    assert!(reply.is_error(), "{reply:?}");
    host.answer_next_request(STATUS_OK, accept(json!({"name": 7})));
    assert!(host.call_tool(tool, json!({})).is_error());

    let sampled = json!({"role": "assistant", "model": "m",
        "content": {"type": "text", "text": "Paris."}});
    let tool = "test_input_required_result_sampling";
    assert_eq!(answered(tool, &[sampled]), "The model answered: Paris.");
    let roots = json!({"roots": [{"uri": "file:///test/root", "name": "Test Root"}]});
    let tool = "test_input_required_result_list_roots";
    assert_eq!(
        answered(tool, &[roots]),
        "1 root(s): file:///test/root (Test Root)"
    );
    let tool = "test_input_required_result_request_state";
    let ok = accept(json!({"ok": true}));
    assert_eq!(answered(tool, &[ok]), "state-ok: confirmed=true");
}

#[test]
fn multiple_inputs_are_asked_in_one_round() {
    let tool = "test_input_required_result_multiple_inputs";
    let (asked, status) = first_round(tool, 3);
    let expected = [
        ("user_name", "elicitation/create"),
        ("greeting", "sampling/createMessage"),
        ("client_roots", "roots/list"),
    ];
    assert_eq!((asked, status), (pairs(&expected), STATUS_INPUT_REQUIRED));
    let answers = [
        accept(json!({"name": "Alice"})),
        json!({"role": "assistant", "content": {"type": "text", "text": "Hello there!"}}),
        json!({"roots": [{"uri": "file:///r"}]}),
    ];
    assert_eq!(
        answered(tool, &answers),
        "Alice: Hello there! (roots: file:///r)"
    );
}

#[test]
fn multi_round_asks_step2_only_after_step1() {
    let tool = "test_input_required_result_multi_round";
    let host = host();
    host.answer_next_request(STATUS_OK, accept(json!({"name": "Alice"})));
    host.answer_next_request(STATUS_INPUT_REQUIRED, Value::Null);
    let reply = host.call_tool(tool, json!({}));
    assert_eq!(reply.status, STATUS_INPUT_REQUIRED);
    let keys: Vec<Value> = host
        .take_requests()
        .iter()
        .map(|r| r["key"].clone())
        .collect();
    assert_eq!(keys, [json!("step1"), json!("step2")]);
    let answers = [
        accept(json!({"name": "Alice"})),
        accept(json!({"color": "blue"})),
    ];
    assert_eq!(answered(tool, &answers), "Alice's favorite color is blue");
}

#[test]
fn capabilities_fall_back_to_sampling_when_elicitation_is_refused() {
    let tool = "test_input_required_result_capabilities";
    let host = host();
    host.answer_next_request(STATUS_UNSUPPORTED, json!({"code": -32601, "message": "no"}));
    host.answer_next_request(STATUS_INPUT_REQUIRED, Value::Null);
    assert_eq!(
        host.call_tool(tool, json!({})).status,
        STATUS_INPUT_REQUIRED
    );
    let methods: Vec<Value> = host
        .take_requests()
        .iter()
        .map(|r| r["method"].clone())
        .collect();
    assert_eq!(
        methods,
        [json!("elicitation/create"), json!("sampling/createMessage")]
    );
    let tea = accept(json!({"preference": "tea"}));
    assert_eq!(answered(tool, &[tea]), "The user prefers tea");
}

#[test]
fn the_prompt_asks_for_its_context() {
    let host = host();
    host.answer_next_request(STATUS_INPUT_REQUIRED, Value::Null);
    let prompt = "test_input_required_result_prompt";
    assert_eq!(
        host.get_prompt(prompt, json!({})).status,
        STATUS_INPUT_REQUIRED
    );
    assert_eq!(host.take_requests()[0]["key"], "user_context");
    host.answer_next_request(STATUS_OK, accept(json!({"context": "tests"})));
    let reply = host.get_prompt(prompt, json!({}));
    assert_eq!(reply.status, STATUS_OK, "{reply:?}");
    assert_eq!(
        reply.body["messages"][0]["content"]["text"],
        "Answer the question using this context: tests"
    );
}

#[test]
fn stateless_diagnostics() {
    let host = host();
    host.answer_next_request(
        STATUS_UNSUPPORTED,
        json!({"code": -32601,
        "message": "the client did not declare the sampling capability"}),
    );
    let reply = host.call_tool("test_missing_capability", json!({}));
    assert!(reply.is_error(), "{reply:?}");
    assert_eq!(host.take_requests()[0]["method"], "sampling/createMessage");
    let reply = host.call_tool("test_logging_tool", json!({}));
    assert_eq!(reply.text(), "Logging tool finished");
    let levels: Vec<Value> = host
        .take_notifications()
        .iter()
        .map(|n| n["params"]["level"].clone())
        .collect();
    assert_eq!(levels, [json!("info"), json!("debug")]);
}

#[test]
fn custom_headers_tool_marks_its_header_arguments() {
    let manifest = host().manifest();
    let tools = manifest["tools"].as_array().unwrap();
    let tool = tools
        .iter()
        .find(|t| t["name"] == "test_custom_headers")
        .unwrap();
    let properties = &tool["inputSchema"]["properties"];
    assert_eq!(properties["region"]["x-mcp-header"], "Region");
    assert_eq!(properties["region"]["type"], "string");
    assert_eq!(properties["priority"]["x-mcp-header"], "Priority");
    let reply = host().call_tool(
        "test_custom_headers",
        json!({"region": "eu", "priority": 2}),
    );
    assert_eq!(reply.text(), "Routed to eu with priority 2");
}
