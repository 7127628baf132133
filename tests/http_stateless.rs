//! Stateless Streamable HTTP (`--stateless true`): no sessions, every POST stands alone, GET and
//! DELETE are refused, `/ready` reports the mode, and `logging/setLevel` lasts one request.

use serde_json::json;

use crate::util::{self, plugins, rpc, text_of, tool_call};

fn stateless_calculator() -> util::Server {
    util::serve(&plugins().calculator, &["--stateless", "true"])
}

#[test]
fn ready_reports_stateless_mode_and_one_plugin() {
    let server = stateless_calculator();
    let (status, body) = util::ready(&server);
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"mode": "stateless", "ready": 1, "status": "ready", "total": 1})
    );
}

#[test]
fn tools_call_works_without_initialize_and_no_session_is_issued() {
    let server = stateless_calculator();
    let r = server.post(
        &tool_call(1, "calculate", json!({"operation": "add", "a": 2, "b": 3})),
        None,
    );
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("mcp-session-id").is_none());
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["id"], 1);
    assert_eq!(text_of(&v), "Result: 5");
    assert_ne!(v["result"]["isError"], true);
}

#[test]
fn initialize_and_tools_list_work_without_a_session() {
    let server = stateless_calculator();
    let r = server.post(
        &rpc(1, "initialize", util::initialize_params("2025-06-18")),
        None,
    );
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("mcp-session-id").is_none());
    let init: serde_json::Value = r.json().unwrap();
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(init["result"]["serverInfo"]["name"], "fastmcp");
    assert!(init["result"]["capabilities"]["tools"].is_object());

    let list = server.call(&rpc(2, "tools/list", json!({})), None);
    let tools = list["result"]["tools"].as_array().expect("tools array");
    assert_eq!(tools.len(), 1, "{list}");
    assert_eq!(tools[0]["name"], "calculate");
    assert_eq!(tools[0]["inputSchema"]["type"], "object");
    assert!(tools[0]["inputSchema"]["properties"]["operation"].is_object());
}

#[test]
fn get_and_delete_are_method_not_allowed() {
    let server = stateless_calculator();
    let get = server.get_stream(None, &[]);
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let delete = server.delete_session("whatever", &[]);
    assert_eq!(delete.status(), 405);
    let body: serde_json::Value = delete.json().unwrap();
    assert_eq!(body["jsonrpc"], "2.0");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("POST"),
        "{body}"
    );
}

#[test]
fn notifications_are_accepted_with_202() {
    let server = stateless_calculator();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let r = server.post(&note, None);
    assert_eq!(r.status(), 202);
    assert!(r.headers().get("mcp-session-id").is_none());
}

#[test]
fn logging_set_level_lasts_only_its_own_request() {
    // Every POST gets a throwaway session, and the level goes with it: later calls log at the
    // default level (info and above) whatever a client set before (docs/plugin-authoring.md).
    let server = util::serve(&plugins().test_plugin, &["--stateless", "true"]);
    assert_eq!(util::log_levels(&server, 1, 3, None), ["info", "warning"]);
    for (id, level) in [(2, "debug"), (4, "error")] {
        let r = server.call(&rpc(id, "logging/setLevel", json!({"level": level})), None);
        assert_eq!(r["result"], json!({}), "{r}");
        assert_eq!(
            util::log_levels(&server, id + 1, 3, None),
            ["info", "warning"],
            "after {level}"
        );
    }
}
