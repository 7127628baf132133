//! The conformance suite's results are real: the scenarios' tools are served by the
//! conformance plugin's own code, not answered by a fallback (checked through the server's
//! own tool-call log and exact outputs), and an unknown name is an error, not a default.

use serde_json::json;

use crate::util::{self, plugins, rpc};

#[test]
fn scenario_tools_run_the_plugin_and_unknown_ones_fail() {
    let s = util::start(
        &[plugins().conformance.to_str().unwrap(), "--stateless"],
        &[],
    );
    let r = s.call(
        &rpc(
            1,
            "tools/call",
            json!({"name": "test_simple_text", "arguments": {}}),
        ),
        None,
    );
    let text = r["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(!text.is_empty(), "{r}");
    assert!(r["result"].get("isError").is_none(), "{r}");
    assert!(s.wait_log("tool call", 1, std::time::Duration::from_secs(5)));
    let calls = s.log_events("tool call");
    assert_eq!(calls[0]["tool"], "test_simple_text");
    assert_eq!(calls[0]["plugin"], "conformance");
    assert_eq!(calls[0]["outcome"], "ok");

    let r = s.call(
        &rpc(
            2,
            "tools/call",
            json!({"name": "test_error_handling", "arguments": {}}),
        ),
        None,
    );
    assert_eq!(r["result"]["isError"], true, "{r}");

    let r = s.call(
        &rpc(
            3,
            "tools/call",
            json!({"name": "test_no_such_tool", "arguments": {}}),
        ),
        None,
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");

    let r = s.call(
        &rpc(
            4,
            "resources/read",
            json!({"uri": "test://template/123/data"}),
        ),
        None,
    );
    assert!(
        r["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("123"),
        "{r}"
    );
    let r = s.call(
        &rpc(5, "resources/read", json!({"uri": "test://nope"})),
        None,
    );
    assert_eq!(r["error"]["code"], -32002, "{r}");

    let r = s.call(
        &rpc(6, "prompts/get", json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "alpha", "arg2": "beta"}})),
        None,
    );
    let msg = r["result"]["messages"].to_string();
    assert!(msg.contains("alpha") && msg.contains("beta"), "{r}");
}
