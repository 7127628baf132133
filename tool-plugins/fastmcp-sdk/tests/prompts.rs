//! Prompts and completions end to end, in-process: defined with `#[prompt]` / `#[completion]`,
//! exported with `export_plugin!`, served through the ABI table with the fake host.

use fastmcp_sdk::abi::{STATUS_ERROR, STATUS_INPUT_REQUIRED, STATUS_OK, STATUS_PANIC};
use fastmcp_sdk::prelude::*;
use fastmcp_sdk::testing::{Reply, TestHost};

/// Says hello
#[prompt]
fn hello() -> &'static str {
    "Hello!"
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct TripArgs {
    /// Where to go
    city_name: String,
    /// How many days
    days: Option<u32>,
    /// Who comes along
    companion: String,
}

/// Plans a trip
#[prompt(name = "plan_trip", title = "Trip planner")]
fn plan(ctx: &Context, args: TripArgs) -> PromptResult {
    ctx.info(format!("planning {}", args.city_name));
    let days = args.days.unwrap_or(3);
    PromptResult::new([
        PromptMessage::user(format!(
            "Plan {days} days in {} with {}.",
            args.city_name, args.companion
        )),
        PromptMessage::assistant("Which season?"),
    ])
    .with_description(format!("A trip to {}", args.city_name))
}

/// Shows every kind of content
#[prompt]
fn rich() -> Vec<PromptMessage> {
    vec![
        PromptMessage::user(Content::image("iVBORw0KGgo=", "image/png")),
        PromptMessage::user(ResourceContent::text("test://doc", "text/plain", "the doc")),
        PromptMessage::assistant(Content::resource_link("test://doc", "doc")),
        PromptMessage::user(Content::audio("UklGRg==", "audio/wav")),
    ]
}

/// Fails
#[prompt]
fn refuses() -> Result<String, ProtocolError> {
    Err(ProtocolError::invalid_params("not today"))
}

/// Asks the client's model first
#[prompt]
fn sampled(ctx: &Context) -> Result<String, ProtocolError> {
    let answer = ctx.sample(json!({"messages": [], "maxTokens": 10}))?;
    Ok(format!("the model says {}", answer["content"]["text"]))
}

/// Panics
#[prompt]
fn panicky() -> String {
    panic!("no prompt")
}

/// Cities for the trip
#[completion(prompt = "plan_trip", argument = "cityName")]
fn cities(request: CompletionRequest) -> Vec<String> {
    request.filter(["Paris", "Park City", "Oslo"])
}

/// Everything else of the trip: echoes the argument and the context
#[completion(prompt = "plan_trip")]
fn other(ctx: &Context, request: CompletionRequest) -> Completion {
    ctx.debug("completing");
    let mut context: Vec<String> = request
        .context
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    context.sort();
    Completion::new([request.argument, request.value, context.join(",")]).with_total(10)
}

/// Many values
#[completion(prompt = "rich")]
fn many(_request: CompletionRequest) -> Vec<String> {
    (0..150).map(|i| format!("v{i}")).collect()
}

#[derive(Deserialize)]
struct Id {
    #[allow(dead_code)]
    id: String,
}

/// An item
#[resource_template(uri_template = "test://items/{id}")]
fn item(params: Id) -> String {
    params.id
}

/// Item ids
#[completion(resource_template = "test://items/{id}", argument = "id")]
fn ids(request: CompletionRequest) -> Result<Vec<&'static str>, ProtocolError> {
    match request.reference {
        CompletionRef::ResourceTemplate(_) => Ok(vec!["1", "2"]),
        CompletionRef::Prompt(_) => Err("wrong reference".into()),
    }
}

fastmcp_sdk::export_plugin! {
    name: "prompts-test",
    version: "1.0.0",
    prompts: [hello, plan, rich, refuses, sampled, panicky],
    completions: [cities, other, many, ids],
    resource_templates: [item],
}

fn host() -> TestHost {
    TestHost::new(fastmcp_plugin_entry)
}

fn ok(reply: Reply) -> Value {
    assert_eq!(reply.status, STATUS_OK, "{reply:?}");
    reply.body
}

fn prompt_ref(name: &str) -> Value {
    json!({"type": "ref/prompt", "name": name})
}

#[test]
fn the_manifest_lists_prompts_with_their_arguments() {
    let manifest = host().manifest();
    assert_eq!(
        manifest["prompts"][0],
        json!({"name": "hello", "description": "Says hello"})
    );
    assert_eq!(
        manifest["prompts"][1],
        json!({"name": "plan_trip", "title": "Trip planner", "description": "Plans a trip",
        "arguments": [
            {"name": "cityName", "description": "Where to go", "required": true},
            {"name": "days", "description": "How many days", "required": false},
            {"name": "companion", "description": "Who comes along", "required": true},
        ]})
    );
    assert_eq!(manifest["capabilities"]["completions"], true);
    assert_eq!(manifest["capabilities"]["subscribe"], false);
}

#[test]
fn gets_prompts() {
    let host = host();
    assert_eq!(
        ok(host.get_prompt("hello", json!({}))),
        json!({"description": "Says hello", "messages":
            [{"role": "user", "content": {"type": "text", "text": "Hello!"}}]})
    );
    // Arguments are strings; `days` is parsed into its number. Absent arguments are fine.
    let arguments = json!({"cityName": "Oslo", "days": "5", "companion": "Ann"});
    assert_eq!(
        ok(host.get_prompt("plan_trip", arguments)),
        json!({"description": "A trip to Oslo", "messages": [
            {"role": "user", "content": {"type": "text", "text": "Plan 5 days in Oslo with Ann."}},
            {"role": "assistant", "content": {"type": "text", "text": "Which season?"}},
        ]})
    );
    assert_eq!(
        host.take_notifications()[0]["params"]["data"],
        "planning Oslo"
    );
    let reply = host.request("prompts/get", json!({"name": "hello"}));
    assert_eq!(ok(reply)["messages"][0]["content"]["text"], "Hello!");

    let messages = ok(host.get_prompt("rich", json!({})))["messages"].clone();
    assert_eq!(
        messages,
        json!([
            {"role": "user", "content":
                {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"}},
            {"role": "user", "content": {"type": "resource", "resource":
                {"uri": "test://doc", "mimeType": "text/plain", "text": "the doc"}}},
            {"role": "assistant", "content":
                {"type": "resource_link", "uri": "test://doc", "name": "doc"}},
            {"role": "user", "content":
                {"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav"}},
        ])
    );
}

#[test]
fn prompt_errors() {
    let host = host();
    let error = |name: &str, arguments: Value| {
        let reply = host.get_prompt(name, arguments);
        assert_eq!(reply.status, STATUS_ERROR, "{reply:?}");
        reply.body
    };
    assert_eq!(
        error("nope", json!({})),
        json!({"code": -32602, "message": "Unknown prompt: nope"})
    );
    assert_eq!(
        error("plan_trip", json!({"days": "2", "companion": null})),
        json!({"code": -32602, "message":
            "Missing required arguments for prompt \"plan_trip\": cityName, companion"})
    );
    assert_eq!(
        error(
            "plan_trip",
            json!({"cityName": "Rome", "companion": "Bo", "days": "a week"})
        ),
        json!({"code": -32602, "message": "Invalid arguments for prompt \"plan_trip\": \
            days: invalid value: string \"a week\", expected u32"})
    );
    assert_eq!(
        error("refuses", json!({})),
        json!({"code": -32602, "message": "not today"})
    );
    // Without `subscribe: true` the plugin takes no subscriptions.
    for method in ["resources/subscribe", "tasks/list"] {
        let reply = host.request(method, json!({"uri": "test://items/1"}));
        let expected = json!({"code": -32601, "message": format!("Method not found: {method}")});
        assert_eq!((reply.status, reply.body), (STATUS_ERROR, expected));
    }
    let reply = host.get_prompt("panicky", json!({}));
    assert_eq!(
        (reply.status, &reply.body["message"]),
        (
            STATUS_PANIC,
            &json!("prompt \"panicky\" panicked: no prompt")
        )
    );

    host.answer_next_request(STATUS_INPUT_REQUIRED, Value::Null);
    let reply = host.get_prompt("sampled", json!({}));
    assert_eq!(
        (reply.status, reply.body),
        (STATUS_INPUT_REQUIRED, Value::Null)
    );
    host.answer_next_request(
        STATUS_OK,
        json!({"content": {"type": "text", "text": "hi"}}),
    );
    let reply = host.get_prompt("sampled", json!({}));
    assert_eq!(
        ok(reply)["messages"][0]["content"]["text"],
        "the model says \"hi\""
    );
}

#[test]
fn completes_arguments() {
    let host = host();
    assert_eq!(
        ok(host.complete(prompt_ref("plan_trip"), "cityName", "par")),
        json!({"completion": {"values": ["Paris", "Park City"], "total": 2, "hasMore": false}})
    );
    // Another argument falls back to the completion for every argument, with the context.
    let params = json!({"ref": prompt_ref("plan_trip"), "argument": {"name": "days", "value": "1"},
        "context": {"arguments": {"cityName": "Paris", "companion": "Ann"}}});
    assert_eq!(
        ok(host.request("completion/complete", params)),
        json!({"completion": {"values": ["days", "1", "cityName=Paris,companion=Ann"],
            "total": 10, "hasMore": false}})
    );
    let many = ok(host.complete(prompt_ref("rich"), "x", ""))["completion"].clone();
    assert_eq!(many["values"].as_array().unwrap().len(), 100);
    assert_eq!(
        (&many["total"], &many["hasMore"]),
        (&json!(150), &json!(true))
    );
    // A prompt of this plugin without a completion: no values.
    assert_eq!(
        ok(host.complete(prompt_ref("hello"), "x", "")),
        json!({"completion": {"values": [], "total": 0, "hasMore": false}})
    );
    let template = json!({"type": "ref/resource", "uri": "test://items/{id}"});
    assert_eq!(
        ok(host.complete(template, "id", ""))["completion"]["values"],
        json!(["1", "2"])
    );

    for (reference, message) in [
        (prompt_ref("nope"), "Unknown prompt: nope"),
        (
            json!({"type": "ref/resource", "uri": "x://{y}"}),
            "Unknown resource template: x://{y}",
        ),
    ] {
        let reply = host.complete(reference, "a", "");
        assert_eq!(
            (reply.status, reply.body),
            (STATUS_ERROR, json!({"code": -32602, "message": message}))
        );
    }
    let reply = host.request("completion/complete", json!({"ref": {"type": "ref/other"}}));
    assert_eq!(
        (reply.status, &reply.body["code"]),
        (STATUS_ERROR, &json!(-32602))
    );
}
