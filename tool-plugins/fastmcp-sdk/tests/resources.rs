//! Resources, resource templates and subscriptions end to end, in-process: defined with
//! `#[resource]` / `#[resource_template]`, exported with `export_plugin!`, read through the ABI
//! table with the fake host. Also a tool returning resource links and annotated content.

use std::collections::HashMap;

use fastmcp_sdk::abi::{STATUS_ERROR, STATUS_OK, STATUS_PANIC};
use fastmcp_sdk::prelude::*;
use fastmcp_sdk::testing::TestHost;
use fastmcp_sdk::{ResourceLink, testing::Reply};

/// A fixed text
#[resource(
    uri = "test://text",
    mime_type = "text/plain",
    title = "Text",
    size = 5
)]
fn text() -> &'static str {
    "hello"
}

/// Some bytes
#[resource(uri = "test://bytes", name = "bytes", mime_type = "image/png")]
fn binary() -> Vec<u8> {
    vec![0x89, b'P', b'N', b'G']
}

/// Logs, then answers with two contents
#[resource(uri = "test://two")]
fn two(ctx: &Context) -> Vec<ResourceContent> {
    ctx.info("reading two");
    vec![
        ResourceContent::text("test://two#1", "text/markdown", "# one"),
        ResourceContent::blob("test://two#2", "application/octet-stream", "AAEC"),
    ]
}

/// Never there
#[resource(uri = "test://missing")]
fn missing() -> Option<String> {
    None
}

/// Fails
#[resource(uri = "test://broken")]
fn broken() -> Result<String, std::io::Error> {
    Err(std::io::Error::other("the disk is on fire"))
}

/// Panics
#[resource(uri = "test://panics")]
fn panics() -> String {
    panic!("oops")
}

#[derive(Deserialize)]
struct ItemParams {
    id: u32,
}

/// An item by number
#[resource_template(uri_template = "test://items/{id}", mime_type = "application/json")]
fn item(params: ItemParams) -> Result<String, ProtocolError> {
    match params.id {
        0 => Err(ProtocolError::with_code(-32001, "item zero is reserved")),
        id => Ok(json!({ "id": id }).to_string()),
    }
}

/// Echoes the URI and every variable
#[resource_template(uri_template = "test://files/{+path}{?rev}")]
fn file(ctx: &Context, uri: &str, params: HashMap<String, String>) -> ResourceContent {
    ctx.debug("reading a file");
    let mut pairs: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.sort();
    ResourceContent::text(uri, "text/plain", pairs.join(" "))
}

/// Shadowed by the static resource with the same URI
#[resource_template(uri_template = "test://{name}")]
fn any(uri: &str) -> String {
    format!("template: {uri}")
}

/// Links to resources, with annotations
#[tool]
fn links() -> Vec<Content> {
    let link = ResourceLink::new("test://text", "text")
        .with_title("Text")
        .with_description("A fixed text")
        .with_mime_type("text/plain")
        .with_size(5);
    let annotations = Annotations::new()
        .with_audience([Role::User])
        .with_priority(0.8)
        .with_last_modified("2025-06-18T00:00:00Z");
    vec![
        Content::from(link).with_annotations(annotations.clone()),
        Content::resource_link("test://items/1", "item 1"),
        Content::text("for the model")
            .with_annotations(Annotations::new().with_audience([Role::Assistant])),
        Content::from(ResourceContent::text("test://text", "text/plain", "hello"))
            .with_annotations(annotations),
    ]
}

/// Changes the text resource (in spirit) and tells subscribers
#[tool]
fn touch(ctx: &Context) -> &'static str {
    ctx.resource_updated("test://text");
    "touched"
}

fastmcp_sdk::export_plugin! {
    name: "resources-test",
    version: "1.0.0",
    resource_templates: [item, file, any],
    subscribe: true,
    tools: [links, touch],
    resources: [text, binary, two, missing, broken, panics],
}

fn host() -> TestHost {
    TestHost::new(fastmcp_plugin_entry)
}

/// The contents of a successful read.
fn contents(reply: Reply) -> Value {
    assert_eq!(reply.status, STATUS_OK, "{reply:?}");
    reply.body["contents"].clone()
}

#[test]
fn the_manifest_lists_resources_and_templates() {
    let manifest = host().manifest();
    assert_eq!(
        manifest["resources"][0],
        json!({"uri": "test://text", "name": "text", "title": "Text",
            "description": "A fixed text", "mimeType": "text/plain", "size": 5})
    );
    assert_eq!(
        manifest["resources"][1],
        json!({"uri": "test://bytes", "name": "bytes", "description": "Some bytes",
            "mimeType": "image/png"})
    );
    assert_eq!(manifest["resources"].as_array().unwrap().len(), 6);
    assert_eq!(
        manifest["resourceTemplates"][0],
        json!({"uriTemplate": "test://items/{id}", "name": "item",
            "description": "An item by number", "mimeType": "application/json"})
    );
    assert_eq!(
        manifest["capabilities"],
        json!({"completions": false, "subscribe": true})
    );
}

#[test]
fn reads_static_resources() {
    let host = host();
    assert_eq!(
        contents(host.read_resource("test://text")),
        json!([{"uri": "test://text", "mimeType": "text/plain", "text": "hello"}])
    );
    assert_eq!(
        contents(host.read_resource("test://bytes")),
        json!([{"uri": "test://bytes", "mimeType": "image/png", "blob": "iVBORw=="}])
    );
    assert_eq!(
        contents(host.read_resource("test://two")),
        json!([{"uri": "test://two#1", "mimeType": "text/markdown", "text": "# one"},
            {"uri": "test://two#2", "mimeType": "application/octet-stream", "blob": "AAEC"}])
    );
    let log = &host.take_notifications()[0];
    assert_eq!(log["params"]["data"], "reading two");
}

#[test]
fn reads_templates_with_typed_variables() {
    let host = host();
    assert_eq!(
        contents(host.read_resource("test://items/42")),
        json!([{"uri": "test://items/42", "mimeType": "application/json", "text": "{\"id\":42}"}])
    );
    assert_eq!(
        contents(host.read_resource("test://files/a/b%20c.txt?rev=3")),
        json!([{"uri": "test://files/a/b%20c.txt?rev=3", "mimeType": "text/plain",
            "text": "path=a/b c.txt rev=3"}])
    );
    // Static URIs win over templates; other URIs fall through to the catch-all template.
    assert_eq!(
        contents(host.read_resource("test://text"))[0]["text"],
        "hello"
    );
    assert_eq!(
        contents(host.read_resource("test://other"))[0],
        json!({"uri": "test://other", "text": "template: test://other"})
    );
}

#[test]
fn failures_are_protocol_errors() {
    let host = host();
    let error = |uri: &str| {
        let reply = host.read_resource(uri);
        assert_eq!(reply.status, STATUS_ERROR, "{reply:?}");
        reply.body
    };
    assert_eq!(
        error("nope://x"),
        json!({"code": -32002, "message": "Resource not found: nope://x",
            "data": {"uri": "nope://x"}})
    );
    assert_eq!(
        error("test://missing"),
        json!({"code": -32002, "message": "Resource not found: test://missing",
            "data": {"uri": "test://missing"}})
    );
    assert_eq!(
        error("test://broken"),
        json!({"code": -32603, "message": "the disk is on fire"})
    );
    assert_eq!(
        error("test://items/0"),
        json!({"code": -32001, "message": "item zero is reserved"})
    );
    assert_eq!(
        error("test://items/x"),
        json!({"code": -32602, "message":
            "Invalid URI test://items/x: id: invalid value: string \"x\", expected u32"})
    );
    assert_eq!(error("")["code"], -32002);
    let reply = host.request("resources/read", json!({}));
    assert_eq!(
        (reply.status, &reply.body["code"]),
        (STATUS_ERROR, &json!(-32602))
    );

    let reply = host.read_resource("test://panics");
    assert_eq!(reply.status, STATUS_PANIC);
    assert_eq!(reply.body["message"], "resource \"panics\" panicked: oops");
    assert_eq!(
        contents(host.read_resource("test://text"))[0]["text"],
        "hello"
    );
}

#[test]
fn subscriptions_are_acknowledged() {
    let host = host();
    for method in ["resources/subscribe", "resources/unsubscribe"] {
        let reply = host.request(method, json!({"uri": "test://text"}));
        assert_eq!(
            (reply.status, reply.body),
            (STATUS_OK, json!({})),
            "{method}"
        );
        let reply = host.request(method, json!({"uri": "test://items/7"}));
        assert_eq!(
            (reply.status, reply.body),
            (STATUS_OK, json!({})),
            "{method}"
        );
    }
    let reply = host.request("resources/subscribe", json!({"uri": "nope://x"}));
    assert_eq!(reply.body["code"], -32002);
    assert_eq!(host.call_tool("touch", json!({})).text(), "touched");
    assert_eq!(
        host.take_notifications(),
        [json!({"method": "notifications/resources/updated", "params": {"uri": "test://text"}})]
    );
}

#[test]
fn tools_return_resource_links_and_annotations() {
    let reply = host().call_tool("links", json!({}));
    let annotations = json!({"audience": ["user"], "priority": 0.8,
        "lastModified": "2025-06-18T00:00:00Z"});
    assert_eq!(
        reply.body,
        json!({"content": [
            {"type": "resource_link", "uri": "test://text", "name": "text", "title": "Text",
                "description": "A fixed text", "mimeType": "text/plain", "size": 5,
                "annotations": annotations},
            {"type": "resource_link", "uri": "test://items/1", "name": "item 1"},
            {"type": "text", "text": "for the model",
                "annotations": {"audience": ["assistant"]}},
            {"type": "resource", "resource":
                {"uri": "test://text", "mimeType": "text/plain", "text": "hello"},
                "annotations": annotations},
        ]})
    );
}
