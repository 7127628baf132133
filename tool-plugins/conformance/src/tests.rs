//! Every tool, resource, template, prompt and completion through the real ABI table, checked
//! against what the conformance suite (0.1.16) asserts about it; the 2026-07-28 fixtures of
//! the 0.2 suite are in `modern`, the checks of the image and sound samples in `assets`.

mod assets;
mod modern;

use std::time::{Duration, Instant};

use fastmcp_sdk::abi::{STATUS_ERROR, STATUS_OK, STATUS_UNSUPPORTED};
use fastmcp_sdk::prelude::*;
use fastmcp_sdk::testing::{Reply, TestHost};

use super::fastmcp_plugin_entry;
use crate::assets::{PNG, WAV};

pub(super) fn host() -> TestHost {
    TestHost::new(fastmcp_plugin_entry)
}

/// A successful result body.
fn ok(reply: Reply) -> Value {
    assert_eq!(reply.status, STATUS_OK, "{reply:?}");
    assert!(!reply.is_error(), "{reply:?}");
    reply.body
}

fn names(list: &Value) -> Vec<&str> {
    let items = list.as_array().unwrap();
    items
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect()
}

#[test]
fn the_manifest_lists_everything_with_descriptions() {
    let manifest = host().manifest();
    assert_eq!(manifest["name"], "conformance");
    assert_eq!(
        names(&manifest["tools"]),
        [
            "test_simple_text",
            "test_image_content",
            "test_audio_content",
            "test_embedded_resource",
            "test_multiple_content_types",
            "test_tool_with_logging",
            "test_error_handling",
            "test_tool_with_progress",
            "test_sampling",
            "test_elicitation",
            "test_elicitation_sep1034_defaults",
            "test_elicitation_sep1330_enums",
            "json_schema_2020_12_tool",
            "test_reconnection",
            "test_custom_headers",
            "test_input_required_result_elicitation",
            "test_input_required_result_sampling",
            "test_input_required_result_list_roots",
            "test_input_required_result_request_state",
            "test_input_required_result_multiple_inputs",
            "test_input_required_result_multi_round",
            "test_input_required_result_tampered_state",
            "test_input_required_result_capabilities",
            "test_missing_capability",
            "test_logging_tool",
            "test_streaming_elicitation",
            "greet",
            "slow_compute",
            "failing_job",
            "protocol_error_job",
            "confirm_delete",
            "multi_input",
            "test_tool_with_task",
        ]
    );
    let lists = ["tools", "resources", "resourceTemplates", "prompts"];
    // A skill's supporting files carry no description; its SKILL.md has the frontmatter's.
    let not_skill_file = |item: &&Value| {
        let uri = item["uri"].as_str().unwrap_or_default();
        !uri.starts_with("skill://") || uri.ends_with("/SKILL.md")
    };
    for item in lists
        .iter()
        .flat_map(|list| manifest[list].as_array().unwrap())
        .filter(not_skill_file)
    {
        let description = item["description"].as_str().unwrap_or_default();
        assert!(!description.is_empty(), "no description: {item}");
    }
    assert_eq!(
        names(&manifest["resources"]),
        [
            "static-text",
            "static-binary",
            "watched-resource",
            "input-required-resource",
            "pdf-processing",
            "FORMS.md",
            "invoice.md",
            "eu-invoice.md",
            "release-notes",
        ]
    );
    assert_eq!(
        manifest["resourceTemplates"][0]["uriTemplate"],
        "test://template/{id}/data"
    );
    assert_eq!(
        names(&manifest["prompts"]),
        [
            "test_simple_prompt",
            "test_prompt_with_arguments",
            "test_prompt_with_embedded_resource",
            "test_prompt_with_image",
            "test_input_required_result_prompt",
        ]
    );
    assert_eq!(
        manifest["prompts"][1]["arguments"],
        json!([
            {"name": "arg1", "description": "First test argument", "required": true},
            {"name": "arg2", "description": "Second test argument", "required": true},
        ])
    );
    assert_eq!(
        manifest["prompts"][2]["arguments"][0],
        json!({"name": "resourceUri", "description": "URI of the resource to embed", "required": true})
    );
    assert_eq!(
        manifest["capabilities"],
        json!({"completions": true, "subscribe": true})
    );
}

#[test]
fn the_2020_12_schema_is_kept_intact() {
    let manifest = host().manifest();
    let tools = manifest["tools"].as_array().unwrap();
    let tool = tools
        .iter()
        .find(|t| t["name"] == "json_schema_2020_12_tool")
        .unwrap();
    let schema = &tool["inputSchema"];
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        schema["$defs"]["address"]["properties"]["city"]["type"],
        "string"
    );
    assert_eq!(schema["properties"]["address"]["$ref"], "#/$defs/address");
    assert_eq!(schema["additionalProperties"], false);
    // SEP-2106 (0.2 suite): composition, conditional and anchor keywords survive too.
    assert_eq!(schema["$defs"]["address"]["$anchor"], "addressDef");
    assert_eq!(schema["allOf"][0]["anyOf"][1]["required"], json!(["email"]));
    assert_eq!(schema["if"]["required"], json!(["contactMethod"]));
    assert_eq!(schema["then"]["required"], json!(["phone"]));
    assert_eq!(schema["else"]["required"], json!(["email"]));
    let reply = host().call_tool("json_schema_2020_12_tool", json!({"name": "Ann"}));
    assert_eq!(reply.text(), r#"Received: {"name":"Ann"}"#);
}

#[test]
fn content_tools() {
    let host = host();
    assert_eq!(
        ok(host.call_tool("test_simple_text", json!({}))),
        json!({"content": [{"type": "text", "text": "This is a simple text response for testing."}]})
    );
    assert_eq!(
        ok(host.call_tool("test_image_content", json!({})))["content"],
        json!([{"type": "image", "data": PNG, "mimeType": "image/png"}])
    );
    assert_eq!(
        ok(host.call_tool("test_audio_content", json!({})))["content"],
        json!([{"type": "audio", "data": WAV, "mimeType": "audio/wav"}])
    );
    assert_eq!(
        ok(host.call_tool("test_embedded_resource", json!({})))["content"],
        json!([{"type": "resource", "resource": {"uri": "test://embedded-resource",
            "mimeType": "text/plain", "text": "This is an embedded resource content."}}])
    );
    let mixed = ok(host.call_tool("test_multiple_content_types", json!({})));
    let types: Vec<&str> = mixed["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|block| block["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["text", "image", "resource"]);
    assert_eq!(
        mixed["content"][2]["resource"],
        json!({"uri": "test://mixed-content-resource", "mimeType": "application/json",
            "text": "{\"test\":\"data\",\"value\":123}"})
    );
    let reply = host.call_tool("test_error_handling", json!({}));
    assert_eq!(
        (reply.status, reply.body),
        (
            STATUS_OK,
            json!({"isError": true, "content": [{"type": "text",
                "text": "This tool intentionally returns an error for testing"}]})
        )
    );
}

#[test]
fn logging_sends_three_info_messages_apart() {
    let host = host();
    let started = Instant::now();
    let reply = host.call_tool("test_tool_with_logging", json!({}));
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(reply.text(), "Tool with logging executed successfully");
    let messages: Vec<(Value, Value)> = host
        .take_notifications()
        .into_iter()
        .map(|n| {
            assert_eq!(n["method"], "notifications/message");
            (n["params"]["level"].clone(), n["params"]["data"].clone())
        })
        .collect();
    assert_eq!(
        messages,
        [
            (json!("info"), json!("Tool execution started")),
            (json!("info"), json!("Tool processing data")),
            (json!("info"), json!("Tool execution completed")),
        ]
    );
}

#[test]
fn progress_goes_0_50_100_of_100() {
    let host = host();
    let reply = host.call_tool("test_tool_with_progress", json!({}));
    assert_eq!(reply.text(), "Progress tool completed");
    let progress: Vec<Value> = host
        .take_notifications()
        .into_iter()
        .map(|n| {
            assert_eq!(n["method"], "notifications/progress");
            n["params"].clone()
        })
        .collect();
    assert_eq!(
        progress,
        [
            json!({"progress": 0.0, "total": 100.0}),
            json!({"progress": 50.0, "total": 100.0}),
            json!({"progress": 100.0, "total": 100.0}),
        ]
    );
}

#[test]
fn sampling_asks_the_client() {
    let host = host();
    host.answer_next_request(
        STATUS_OK,
        json!({"role": "assistant", "model": "test-model", "stopReason": "endTurn",
            "content": {"type": "text", "text": "This is a test response from the client"}}),
    );
    let reply = host.call_tool(
        "test_sampling",
        json!({"prompt": "Test prompt for sampling"}),
    );
    assert_eq!(
        reply.text(),
        "LLM response: This is a test response from the client"
    );
    assert_eq!(
        host.take_requests(),
        [json!({"method": "sampling/createMessage", "params": {
            "messages": [{"role": "user",
                "content": {"type": "text", "text": "Test prompt for sampling"}}],
            "maxTokens": 100}})]
    );
    // Without a way to the client (stateless mode) the tool fails with a message.
    let reply = host.call_tool("test_sampling", json!({"prompt": "p"}));
    assert!(reply.is_error(), "{reply:?}");
    host.answer_next_request(
        STATUS_OK,
        json!({"role": "assistant", "model": "m", "content": [{"type": "text", "text": "a"}]}),
    );
    let reply = host.call_tool("test_sampling", json!({"prompt": "p"}));
    assert_eq!(reply.text(), "LLM response: a");
}

/// Calls an elicitation tool with the client accepting `content`; returns the text and the
/// request's `requestedSchema`.
fn elicit(tool: &str, arguments: Value, content: Value) -> (String, Value) {
    let host = host();
    host.answer_next_request(STATUS_OK, json!({"action": "accept", "content": content}));
    let text = host.call_tool(tool, arguments).text();
    let requests = host.take_requests();
    assert_eq!(requests[0]["method"], "elicitation/create");
    (text, requests[0]["params"]["requestedSchema"].clone())
}

#[test]
fn elicitation_asks_for_username_and_email() {
    let content = json!({"username": "testuser", "email": "test@example.com"});
    let (text, schema) = elicit(
        "test_elicitation",
        json!({"message": "Please provide your information"}),
        content.clone(),
    );
    let _ = content;
    let answered = text
        .strip_prefix("User response: action=accept, content=")
        .unwrap();
    assert_eq!(
        fastmcp_sdk::serde_json::from_str::<Value>(answered).unwrap(),
        json!({"username": "testuser", "email": "test@example.com"})
    );
    assert_eq!(schema["required"], json!(["username", "email"]));
    assert_eq!(schema["properties"]["email"]["type"], "string");
    assert_eq!(schema["properties"]["username"]["type"], "string");
    let host = host();
    host.answer_next_request(
        STATUS_UNSUPPORTED,
        json!({"code": -1, "message": "no way back"}),
    );
    let reply = host.call_tool("test_elicitation", json!({"message": "m"}));
    assert!(
        reply.is_error() && reply.text() == "not supported: no way back",
        "{reply:?}"
    );
}

#[test]
fn elicitation_with_defaults() {
    let (text, schema) = elicit(
        "test_elicitation_sep1034_defaults",
        json!({}),
        json!({"name": "Jane Smith"}),
    );
    assert_eq!(
        text,
        r#"Elicitation completed: action=accept, content={"name":"Jane Smith"}"#
    );
    let properties = &schema["properties"];
    let defaults = [
        ("name", "string", json!("John Doe")),
        ("age", "integer", json!(30)),
        ("score", "number", json!(95.5)),
        ("status", "string", json!("active")),
        ("verified", "boolean", json!(true)),
    ];
    for (field, kind, default) in defaults {
        assert_eq!(properties[field]["type"], kind, "{field}");
        assert_eq!(properties[field]["default"], default, "{field}");
    }
    assert_eq!(
        properties["status"]["enum"],
        json!(["active", "inactive", "pending"])
    );
}

#[test]
fn elicitation_with_every_enum_shape() {
    let (text, schema) = elicit("test_elicitation_sep1330_enums", json!({}), json!({}));
    assert_eq!(text, "Elicitation completed: action=accept, content={}");
    let p = &schema["properties"];
    assert!(p["untitledSingle"]["enum"].is_array() && p["untitledSingle"]["oneOf"].is_null());
    assert_eq!(p["titledSingle"]["type"], "string");
    for option in p["titledSingle"]["oneOf"].as_array().unwrap() {
        assert!(option["const"].is_string() && option["title"].is_string());
    }
    assert!(p["titledSingle"]["enum"].is_null());
    assert_eq!(
        p["legacyEnum"]["enum"].as_array().unwrap().len(),
        p["legacyEnum"]["enumNames"].as_array().unwrap().len()
    );
    assert_eq!(p["untitledMulti"]["type"], "array");
    assert_eq!(p["untitledMulti"]["items"]["type"], "string");
    assert!(p["untitledMulti"]["items"]["enum"].is_array());
    assert_eq!(p["titledMulti"]["type"], "array");
    for option in p["titledMulti"]["items"]["anyOf"].as_array().unwrap() {
        assert!(option["const"].is_string() && option["title"].is_string());
    }
}

#[test]
fn reconnection_closes_the_stream_then_answers() {
    let host = host();
    let started = Instant::now();
    let reply = host.call_tool("test_reconnection", json!({}));
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(reply.text(), "Reconnection test completed successfully");
    assert_eq!(
        host.take_notifications(),
        [json!({"method": "fastmcp/closeStream", "params": {}})]
    );
}

#[test]
fn resources() {
    let host = host();
    assert_eq!(
        ok(host.read_resource("test://static-text")),
        json!({"contents": [{"uri": "test://static-text", "mimeType": "text/plain",
            "text": "This is the content of the static text resource."}]})
    );
    assert_eq!(
        ok(host.read_resource("test://static-binary")),
        json!({"contents": [{"uri": "test://static-binary", "mimeType": "image/png", "blob": PNG}]})
    );
    let read = ok(host.read_resource("test://template/123/data"));
    assert_eq!(read["contents"][0]["uri"], "test://template/123/data");
    let text = read["contents"][0]["text"].as_str().unwrap();
    assert_eq!(
        fastmcp_sdk::serde_json::from_str::<Value>(text).unwrap(),
        json!({"id": "123", "templateTest": true, "data": "Data for ID: 123"})
    );
    assert_eq!(
        ok(host.read_resource("test://watched-resource"))["contents"][0]["text"],
        "Watched resource content"
    );
    for method in ["resources/subscribe", "resources/unsubscribe"] {
        let reply = host.request(method, json!({"uri": "test://watched-resource"}));
        assert_eq!(ok(reply), json!({}));
    }
    let reply = host.read_resource("test://nope");
    assert_eq!(
        (reply.status, &reply.body["code"]),
        (STATUS_ERROR, &json!(-32002))
    );
}

#[test]
fn prompts() {
    let host = host();
    let simple = ok(host.get_prompt("test_simple_prompt", json!({})));
    assert_eq!(
        simple["messages"],
        json!([{"role": "user", "content":
            {"type": "text", "text": "This is a simple prompt for testing."}}])
    );
    let arguments = json!({"arg1": "testValue1", "arg2": "testValue2"});
    let with_args = ok(host.get_prompt("test_prompt_with_arguments", arguments));
    assert_eq!(
        with_args["messages"][0]["content"]["text"],
        "Prompt with arguments: arg1='testValue1', arg2='testValue2'"
    );
    let reply = host.get_prompt("test_prompt_with_arguments", json!({"arg1": "x"}));
    assert_eq!(
        (reply.status, reply.body),
        (
            STATUS_ERROR,
            json!({"code": -32602, "message":
                "Missing required argument for prompt \"test_prompt_with_arguments\": arg2"})
        )
    );
    let arguments = json!({"resourceUri": "test://example-resource"});
    let embedded = ok(host.get_prompt("test_prompt_with_embedded_resource", arguments));
    assert_eq!(
        embedded["messages"][0]["content"],
        json!({"type": "resource", "resource": {"uri": "test://example-resource",
            "mimeType": "text/plain", "text": "Embedded resource content for testing."}})
    );
    assert_eq!(embedded["messages"][1]["role"], "user");
    let image = ok(host.get_prompt("test_prompt_with_image", json!({})));
    assert_eq!(
        image["messages"][0]["content"],
        json!({"type": "image", "data": PNG, "mimeType": "image/png"})
    );
    assert_eq!(image["description"], "A prompt with an image");
}

#[test]
fn completion_of_arg1() {
    let host = host();
    let reference = json!({"type": "ref/prompt", "name": "test_prompt_with_arguments"});
    assert_eq!(
        ok(host.complete(reference.clone(), "arg1", "par")),
        json!({"completion": {"values": ["paris", "park", "party"], "total": 3, "hasMore": false}})
    );
    assert_eq!(
        ok(host.complete(reference.clone(), "arg1", "test")),
        json!({"completion": {"values": [], "total": 0, "hasMore": false}})
    );
    assert_eq!(
        ok(host.complete(reference, "arg2", "x"))["completion"]["values"],
        json!([])
    );
}
