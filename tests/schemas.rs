//! Generated tool schemas as clients read them (#15 item 7): the MCP Inspector CLI's
//! portability check finds nothing in them, an optional field's schema has no `null` in any
//! spelling unless its author asked for it, and a client that sends `null` anyway is answered.
//! The Inspector runs from `tests/clients` (scripts/test.sh installs it with `npm ci`).

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, plugins, tool_call};

/// The test plugin's `tools/list`, over HTTP in a session of its own.
fn tools(server: &util::Server, session: &str) -> Vec<Value> {
    let list = server.call(&util::rpc(1, "tools/list", json!({})), Some(session));
    list["result"]["tools"].as_array().expect("tools").clone()
}

/// What `inspector --cli URL --method tools/list --strict` printed, and its exit code.
fn inspect(url: &str) -> Option<util::Finished> {
    let package = util::node_package("@modelcontextprotocol/inspector")?;
    // The Inspector keeps a catalog and a secret store under $HOME: give it a throwaway one.
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("node");
    cmd.arg(package.join("clients/cli/build/index.js"))
        .args([url, "--transport", "http", "--method", "tools/list"])
        .arg("--strict")
        .env("HOME", home.path())
        .env("MCP_INSPECTOR_SECRET_STORE", "memory");
    Some(util::run_command(
        cmd,
        "inspector --cli tools/list",
        Duration::from_secs(60),
    ))
}

#[test]
fn the_inspector_flags_only_the_hand_written_schema() {
    let server = util::serve(&plugins().test_plugin, &[]);
    let Some(run) = inspect(&server.mcp()) else {
        return;
    };
    let report = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, Some(0), "{report}");
    // The Inspector saw the tools with optional fields...
    let listed: Value = serde_json::from_str(&run.stdout).expect(&report);
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .expect(&report)
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    for name in ["sleep", "spin", "optionals", "handwritten"] {
        assert!(names.contains(&name), "{name} missing: {report}");
    }
    // ...and found one problem: the type array that `handwritten` wrote by hand, served as
    // written. Every generated schema passes.
    let findings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("Warning: ") || line.starts_with("Error: "))
        .collect();
    assert_eq!(findings, [r#"Warning: tool "handwritten""#], "{report}");
    assert!(
        run.stderr
            .contains("Path: inputSchema.properties.limit\n  Issue: `type` is an array"),
        "{report}"
    );
    assert!(
        run.stderr.contains("0 errors, 1 warning across 1 tool."),
        "{report}"
    );
}

/// Every place in `schema` that admits `null`, as `path: how`.
fn nulls(schema: &Value, path: &str, found: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get("type") {
        found.push(format!("{path}: type {types:?}"));
    }
    if let Some(Value::Array(values)) = object.get("enum")
        && values.contains(&Value::Null)
    {
        found.push(format!("{path}: enum {values:?}"));
    }
    for keyword in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = object.get(keyword)
            && branches.iter().any(|b| b["type"] == "null")
        {
            found.push(format!("{path}: {keyword} with a null branch"));
        }
    }
    for (key, value) in object {
        match value {
            Value::Object(map) if key == "properties" || key == "$defs" => {
                for (name, sub) in map {
                    nulls(sub, &format!("{path}.{key}.{name}"), found);
                }
            }
            Value::Array(items) => {
                for (i, sub) in items.iter().enumerate() {
                    nulls(sub, &format!("{path}.{key}[{i}]"), found);
                }
            }
            Value::Object(_) => nulls(value, &format!("{path}.{key}"), found),
            _ => {}
        }
    }
}

#[test]
fn optional_fields_have_no_null_in_any_spelling() {
    let server = util::serve(&plugins().test_plugin, &[]);
    let session = server.initialize();
    let mut found = Vec::new();
    for tool in tools(&server, &session) {
        let name = tool["name"].as_str().unwrap().to_owned();
        if name == "handwritten" {
            continue;
        }
        for key in ["inputSchema", "outputSchema"] {
            nulls(&tool[key], &format!("{name}.{key}"), &mut found);
        }
    }
    // Only where null means something: asked for with `fastmcp_sdk::nullable`, or an output
    // field that is always sent and may be null; both as an `anyOf` branch.
    assert_eq!(
        found,
        [
            "optionals.inputSchema.properties.note: anyOf with a null branch",
            "optionals.outputSchema.properties.title: anyOf with a null branch",
        ]
    );
}

#[test]
fn an_option_schema_is_its_inner_type_and_null_is_still_accepted() {
    let server = util::serve(&plugins().test_plugin, &[]);
    let session = server.initialize();
    let tools = tools(&server, &session);
    let tool = tools
        .iter()
        .find(|tool| tool["name"] == "optionals")
        .expect("optionals");
    let input = &tool["inputSchema"];
    assert!(input.get("required").is_none(), "{input}");
    let p = &input["properties"];
    assert_eq!(
        p["title"],
        json!({"type": "string", "description": "A title"})
    );
    assert_eq!(
        p["priority"],
        json!({"type": "string", "enum": ["low", "high"], "description": "How urgent"})
    );
    assert_eq!(p["window"]["type"], "object", "{input}");
    assert_eq!(p["window"]["description"], "When");
    assert_eq!(p["window"]["required"], json!(["start", "end"]));
    assert_eq!(
        p["note"],
        json!({
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "A note; null says \"no note\" explicitly"
        })
    );
    let output = &tool["outputSchema"];
    assert_eq!(output["required"], json!(["title", "noted"]), "{output}");
    assert_eq!(output["properties"]["priority"]["type"], "string");

    // A client that sends null for each of them is answered, as if they were absent.
    let nulls = json!({"title": null, "priority": null, "window": null, "note": null});
    let reply = server.call(&tool_call(2, "optionals", nulls), Some(&session));
    assert_ne!(reply["result"]["isError"], true, "{reply}");
    assert_eq!(
        reply["result"]["structuredContent"],
        json!({"title": null, "noted": false})
    );
    let all = json!({"title": "t", "priority": "high", "window": {"start": 9, "end": 17}});
    let reply = server.call(&tool_call(3, "optionals", all), Some(&session));
    assert_eq!(
        reply["result"]["structuredContent"],
        json!({"title": "t", "priority": "high", "window": {"start": 9, "end": 17}, "noted": false})
    );
}
