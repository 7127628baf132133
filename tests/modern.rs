//! Protocol 2026-07-28 over raw HTTP against the real binary: per-request `_meta` instead of
//! a handshake, the header rules and their errors, decorated results, multi round-trip tool
//! calls, prompts and resource reads with a sealed `requestState`, per-request log levels and
//! `subscriptions/listen`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{self, Server, plugins, rpc, sse_messages};

const V: &str = "2026-07-28";

fn meta(caps: Value, log_level: Option<&str>) -> Value {
    let mut m = json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "modern-test", "version": "1"},
    });
    if let Some(l) = log_level {
        m["io.modelcontextprotocol/logLevel"] = json!(l);
    }
    m
}

/// POSTs a 2026-07-28 request with the standard headers (Mcp-Name from params.name/uri).
pub(crate) fn send(
    server: &Server,
    id: i64,
    method: &str,
    mut params: Value,
    extra: &[(&str, &str)],
) -> reqwest::blocking::Response {
    if params.get("_meta").is_none() {
        params["_meta"] = meta(json!({}), None);
    }
    let mut req = util::client()
        .post(server.mcp())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", V)
        .header("mcp-method", method);
    let explicit_name = extra
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("mcp-name"));
    if let (false, Some(name)) = (
        explicit_name,
        params
            .get("name")
            .or_else(|| params.get("uri"))
            .and_then(Value::as_str),
    ) {
        req = req.header("mcp-name", name);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(rpc(id, method, params).to_string())
        .send()
        .unwrap()
}

/// POSTs `body` with only the given `MCP-Protocol-Version` header (no Mcp-Method/Mcp-Name).
fn post_version(server: &Server, version: &str, body: &Value) -> reqwest::blocking::Response {
    util::client()
        .post(server.mcp())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", version)
        .body(body.to_string())
        .send()
        .unwrap()
}

/// Asserts an error response with this HTTP status and JSON-RPC code.
fn assert_error(status: u16, v: &Value, want: (u16, i64)) {
    assert_eq!(
        (status, v["error"]["code"].as_i64()),
        (want.0, Some(want.1)),
        "{v}"
    );
}

/// The HTTP status and JSON body (`{"events": [...]}` for a stream) of a response.
pub(crate) fn body(r: reqwest::blocking::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let ctype = util::content_type(&r);
    let text = r.text().unwrap();
    let v = if ctype.starts_with("text/event-stream") {
        json!({"events": sse_messages(&text)})
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    (status, v)
}

fn server() -> Server {
    // Stateful by default: 2026-07-28 requests must work without any session anyway.
    util::start(&[plugins().test_plugin.to_str().unwrap()], &[])
}

#[test]
fn discover_and_calls_need_no_handshake_or_session() {
    let s = server();
    let (status, v) = body(send(&s, 1, "server/discover", json!({}), &[]));
    assert_eq!(status, 200);
    assert!(
        v["result"]["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!(V))
    );
    assert!(
        v["result"]["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!("2025-06-18"))
    );
    assert_eq!(
        v["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "fastmcp"
    );

    // A stale Mcp-Session-Id is ignored, and none is minted.
    let r = send(
        &s,
        2,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "hi"}}),
        &[("mcp-session-id", "nope")],
    );
    assert!(r.headers().get("mcp-session-id").is_none());
    let (status, v) = body(r);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["result"]["content"][0]["text"], "hi");
    assert_eq!(v["result"]["resultType"], "complete");
    assert_eq!(
        v["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "fastmcp"
    );

    let (_, v) = body(send(&s, 3, "tools/list", json!({}), &[]));
    assert_eq!(v["result"]["resultType"], "complete");
    assert!(v["result"]["ttlMs"].is_u64());
    assert!(v["result"]["cacheScope"].is_string());
}

#[test]
fn header_rules_and_their_errors() {
    let s = server();
    let call = json!({"name": "echo", "arguments": {"text": "x"}});
    // Mcp-Name differs from the body.
    let (status, v) = body(send(
        &s,
        1,
        "tools/call",
        call.clone(),
        &[("mcp-name", "other")],
    ));
    assert_error(status, &v, (400, -32020));
    // Mcp-Method missing.
    let no_method = rpc(2, "tools/list", json!({"_meta": meta(json!({}), None)}));
    let (status, v) = body(post_version(&s, V, &no_method));
    assert_error(status, &v, (400, -32020));
    // Body version differs from the header.
    let mut m = meta(json!({}), None);
    m["io.modelcontextprotocol/protocolVersion"] = json!("2025-11-25");
    let (status, v) = body(send(&s, 3, "tools/list", json!({"_meta": m}), &[]));
    assert_error(status, &v, (400, -32020));
    // Unsupported version: -32022 with the supported list.
    let (status, v) = body(post_version(
        &s,
        "2099-01-01",
        &rpc(4, "tools/list", json!({})),
    ));
    assert_error(status, &v, (400, -32022));
    assert!(
        v["error"]["data"]["supported"]
            .as_array()
            .unwrap()
            .contains(&json!(V))
    );
    // Missing request metadata is invalid params (400 / -32602).
    let (status, v) = body(send(&s, 5, "tools/list", json!({"_meta": {}}), &[]));
    assert_error(status, &v, (400, -32602));
    let mut no_caps = meta(json!({}), None);
    no_caps
        .as_object_mut()
        .unwrap()
        .remove("io.modelcontextprotocol/clientCapabilities");
    let (status, v) = body(send(&s, 6, "tools/list", json!({"_meta": no_caps}), &[]));
    assert_error(status, &v, (400, -32602));
    // An unknown header version with a body that says otherwise is a mismatch, with the id.
    let with_meta = rpc(301, "tools/list", json!({"_meta": meta(json!({}), None)}));
    let (status, v) = body(post_version(&s, "2099-01-01", &with_meta));
    assert_error(status, &v, (400, -32020));
    assert_eq!(v["id"], 301);
    // Methods this revision removed or never had: 404 / -32601.
    for (i, m) in ["ping", "initialize", "logging/setLevel", "no/such"]
        .iter()
        .enumerate()
    {
        let (status, v) = body(send(&s, 10 + i as i64, m, json!({}), &[]));
        assert_eq!(
            (status, v["error"]["code"].as_i64()),
            (404, Some(-32601)),
            "{m}: {v}"
        );
    }
    // No GET stream and no DELETE in this revision.
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = util::client()
            .request(method.clone(), s.mcp())
            .header("accept", "text/event-stream")
            .header("mcp-protocol-version", V)
            .send()
            .unwrap();
        assert_eq!(r.status(), 405, "{method}");
    }
    // A resource that does not exist is -32602 in this revision.
    let (_, v) = body(send(
        &s,
        20,
        "resources/read",
        json!({"uri": "test://missing"}),
        &[],
    ));
    assert_eq!(v["error"]["code"], -32602, "{v}");
}

#[test]
fn a_tool_that_asks_the_client_completes_over_two_rounds() {
    // The same for a sync tool on a worker thread and an async tool on the plugin's runtime.
    for tool in ["elicit", "async_elicit"] {
        asks_over_two_rounds(tool);
    }
}

fn asks_over_two_rounds(tool: &str) {
    let s = server();
    let caps = json!({"elicitation": {}});
    let args = json!({"message": "Your name?"});
    let p = json!({"name": tool, "arguments": args, "_meta": meta(caps.clone(), None)});
    let (_, first) = body(send(&s, 1, "tools/call", p.clone(), &[]));
    let r = &first["result"];
    assert_eq!(r["resultType"], "input_required", "{first}");
    let (key, req) = r["inputRequests"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    assert_eq!(req["method"], "elicitation/create");
    assert_eq!(req["params"]["message"], "Your name?");
    let state = r["requestState"].as_str().unwrap().to_string();

    let mut retry = p.clone();
    retry["requestState"] = json!(state);
    retry["inputResponses"] =
        json!({key.as_str(): {"action": "accept", "content": {"name": "Ada"}}});
    let (_, done) = body(send(&s, 2, "tools/call", retry.clone(), &[]));
    assert_eq!(done["result"]["resultType"], "complete", "{done}");
    assert!(
        done["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Ada"),
        "{done}"
    );

    // The state is bound to the request: other arguments, or a tampered state, are refused.
    let mut other = retry.clone();
    other["arguments"] = json!({"message": "something else"});
    let (_, v) = body(send(&s, 3, "tools/call", other, &[]));
    assert_eq!(v["error"]["code"], -32602, "{v}");
    let mut tampered = retry;
    tampered["requestState"] = json!(format!("{state}A"));
    let (_, v) = body(send(&s, 4, "tools/call", tampered, &[]));
    assert_eq!(v["error"]["code"], -32602, "{v}");

    // A client that did not declare elicitation is never asked: the tool fails without it,
    // so the request fails with MissingRequiredClientCapabilityError, status 400.
    let p = json!({"name": tool, "arguments": args, "_meta": meta(json!({}), None)});
    let (status, v) = body(send(&s, 5, "tools/call", p.clone(), &[]));
    assert_eq!((status, &v["error"]["code"]), (400, &json!(-32021)), "{v}");
    let required = &v["error"]["data"]["requiredCapabilities"];
    assert_eq!(required, &json!({"elicitation": {}}), "{v}");

    // Without the state, an answer under the key is taken as the client gives it; one that
    // is not an elicitation result is refused.
    let mut direct = p;
    direct["_meta"] = meta(caps, None);
    direct["inputResponses"] =
        json!({key.as_str(): {"action": "accept", "content": {"name": "Bo"}}});
    let (_, v) = body(send(&s, 6, "tools/call", direct.clone(), &[]));
    assert!(
        v["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Bo"),
        "{v}"
    );
    direct["inputResponses"] = json!({key.as_str(): 12345});
    let (_, v) = body(send(&s, 7, "tools/call", direct.clone(), &[]));
    assert_eq!(v["error"]["code"], -32602, "{v}");
    direct["inputResponses"] = Value::Null;
    let (_, v) = body(send(&s, 8, "tools/call", direct, &[]));
    assert_eq!(v["error"]["code"], -32602, "{v}");
}

#[test]
fn log_messages_only_with_a_per_request_log_level() {
    let s = server();
    let quiet = json!({"name": "log", "arguments": {"count": 3}});
    let (_, v) = body(send(&s, 1, "tools/call", quiet, &[]));
    assert_eq!(v["result"]["content"][0]["text"], "logged 3", "{v}");
    let loud =
        json!({"name": "log", "arguments": {"count": 3}, "_meta": meta(json!({}), Some("debug"))});
    let (_, v) = body(send(&s, 2, "tools/call", loud, &[]));
    let events = v["events"].as_array().expect("an SSE response");
    let logs = events
        .iter()
        .filter(|e| e["method"] == "notifications/message")
        .count();
    assert_eq!(logs, 3, "{v}");
    assert_eq!(events.last().unwrap()["result"]["resultType"], "complete");
}

#[test]
fn subscriptions_listen_hears_list_changes_after_a_reload() {
    let p = plugins();
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("libserved.so");
    std::fs::copy(&p.calculator, &served).unwrap();
    let s = util::start(&[served.to_str().unwrap(), "--stateless"], &[]);
    let r = send(
        &s,
        42,
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
        &[],
    );
    assert_eq!(r.status(), 200);
    let stream = util::SseStream::new(r);
    let ack = stream.next(Duration::from_secs(10)).unwrap();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        42
    );
    assert_eq!(ack["params"]["notifications"]["toolsListChanged"], true);
    util::replace_atomically(&p.test_plugin, &served);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut heard = false;
    while let Some(n) = stream.next(deadline.saturating_duration_since(Instant::now())) {
        if n["method"] == "notifications/tools/list_changed" {
            assert_eq!(
                n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
                42
            );
            heard = true;
            break;
        }
    }
    assert!(
        heard,
        "no list_changed on the listen stream; log:\n{}",
        s.log_text()
    );
}

#[test]
fn prompts_and_resources_ask_the_client_too() {
    // The conformance plugin's prompt and resource ask under a key, as its tools do.
    let s = util::start(&[plugins().conformance.to_str().unwrap()], &[]);
    let caps = json!({"elicitation": {}});
    let cases = [
        (
            "prompts/get",
            json!({"name": "test_input_required_result_prompt"}),
            "user_context",
        ),
        (
            "resources/read",
            json!({"uri": "test://input-required-resource"}),
            "user_name",
        ),
    ];
    for (i, (method, mut p, key)) in (0..).zip(cases) {
        p["_meta"] = meta(caps.clone(), None);
        let (_, first) = body(send(&s, 10 * i, method, p.clone(), &[]));
        let r = &first["result"];
        assert_eq!(r["resultType"], "input_required", "{first}");
        assert_eq!(
            r["inputRequests"][key]["method"], "elicitation/create",
            "{first}"
        );
        assert!(
            r.get("ttlMs").is_none(),
            "an InputRequiredResult is not cached: {first}"
        );
        let field = if key == "user_context" {
            "context"
        } else {
            "name"
        };
        let mut retry = p.clone();
        retry["requestState"] = r["requestState"].clone();
        retry["inputResponses"] = json!({key: {"action": "accept", "content": {field: "Ada"}}});
        let (_, done) = body(send(&s, 10 * i + 1, method, retry.clone(), &[]));
        assert_eq!(done["result"]["resultType"], "complete", "{done}");
        assert!(done.to_string().contains("Ada"), "{done}");
        // The state is bound to the method: the same state on another request is refused.
        let mut other = retry;
        match method {
            "prompts/get" => other["name"] = json!("test_simple_prompt"),
            _ => other["uri"] = json!("test://static-text"),
        }
        let (_, v) = body(send(&s, 10 * i + 2, method, other, &[]));
        assert_eq!(v["error"]["code"], -32602, "{v}");
    }
}
