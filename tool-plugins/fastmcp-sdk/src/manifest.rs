//! The manifest (`docs/abi.md`, "Manifest"): the JSON the host reads once per load to learn the
//! plugin's name, version and tools.
//!
//! Building it checks what the compiler could not: tool names are valid and unique, and every
//! schema describes a JSON object. A failed check panics with a message naming the tool; the
//! shim turns that into `STATUS_PANIC`, so the host refuses the library and says why.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use crate::tool::{ToolAccess, ToolAnnotations};
use crate::{Plugin, ToolDef};

/// `fastmcp-sdk <version>`, so the host can report which SDK built a plugin.
const SDK: &str = concat!("fastmcp-sdk ", env!("CARGO_PKG_VERSION"));

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    name: &'a str,
    version: &'a str,
    sdk: &'a str,
    tools: Vec<ToolEntry<'a>>,
    resources: &'a [Value],
    resource_templates: &'a [Value],
    prompts: &'a [Value],
    capabilities: Capabilities,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolEntry<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    input_schema: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_schema: Option<Value>,
    #[serde(skip_serializing_if = "ToolAnnotations::is_empty")]
    annotations: &'a ToolAnnotations,
    access: Access<'a>,
}

#[derive(Serialize)]
struct Access<'a> {
    authenticated: bool,
    scopes: &'a [&'a str],
}

#[derive(Serialize)]
struct Capabilities {
    completions: bool,
    subscribe: bool,
}

/// Serializes the manifest of `plugin`.
///
/// # Panics
/// If a tool name is invalid or repeated, or a schema does not describe an object.
pub(crate) fn build(plugin: &Plugin) -> Vec<u8> {
    let mut seen = HashSet::new();
    for tool in &plugin.tools {
        assert!(
            valid_name(tool.name),
            "invalid tool name {:?}: use 1 to 128 characters of A-Z a-z 0-9 _ - .",
            tool.name
        );
        assert!(
            seen.insert(tool.name),
            "tool \"{}\" is defined twice",
            tool.name
        );
    }
    let manifest = Manifest {
        name: plugin.name,
        version: plugin.version,
        sdk: SDK,
        tools: plugin.tools.iter().map(entry).collect(),
        resources: &[],
        resource_templates: &[],
        prompts: &[],
        capabilities: Capabilities {
            completions: false,
            subscribe: false,
        },
    };
    serde_json::to_vec(&manifest).expect("the manifest is plain JSON")
}

fn entry(tool: &ToolDef) -> ToolEntry<'_> {
    let ToolAccess {
        authenticated,
        scopes,
    } = tool.access;
    ToolEntry {
        name: tool.name,
        title: tool.title,
        description: tool.description,
        input_schema: object_schema(tool.name, "input", (tool.input_schema)()),
        output_schema: (tool.output_schema)()
            .map(|schema| object_schema(tool.name, "output", schema)),
        annotations: &tool.annotations,
        access: Access {
            authenticated: authenticated || !scopes.is_empty(),
            scopes,
        },
    }
}

/// MCP tool names: 1 to 128 characters of `A-Z a-z 0-9 _ - .`.
fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// MCP requires `"type": "object"` at the root of tool schemas. A schema without a `type` (an
/// untagged enum of structs, `serde_json::Value`) gets it; any other type is a mistake.
fn object_schema(tool: &str, which: &str, schema: Value) -> Value {
    let mut schema = match schema {
        Value::Bool(true) => Value::Object(Default::default()),
        schema => schema,
    };
    let Some(object) = schema.as_object_mut() else {
        panic!("tool \"{tool}\": the {which} schema must be a JSON object, not {schema}");
    };
    match object.get("type") {
        None => {
            object.insert("type".into(), "object".into());
        }
        Some(Value::String(ty)) if ty == "object" => {}
        Some(ty) => panic!(
            "tool \"{tool}\": the {which} schema must describe a JSON object (\"type\": \"object\"), \
             not {ty}; wrap the value in a struct"
        ),
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ToolResult;
    use serde_json::json;

    fn tool(name: &'static str) -> ToolDef {
        ToolDef::new(name, |_, _| ToolResult::new())
    }

    fn manifest(plugin: &Plugin) -> Value {
        serde_json::from_slice(&build(plugin)).unwrap()
    }

    #[test]
    fn has_every_key_of_the_abi() {
        let plugin = Plugin::new("p", "1.2.3").tool(tool("t").with_description("does t"));
        assert_eq!(
            manifest(&plugin),
            json!({
                "name": "p", "version": "1.2.3", "sdk": SDK,
                "tools": [{
                    "name": "t", "description": "does t",
                    "inputSchema": {"type": "object", "properties": {}},
                    "access": {"authenticated": false, "scopes": []}
                }],
                "resources": [], "resourceTemplates": [], "prompts": [],
                "capabilities": {"completions": false, "subscribe": false}
            })
        );
    }

    #[test]
    fn scopes_imply_authentication() {
        let access = ToolAccess {
            authenticated: false,
            scopes: &["admin"],
        };
        let plugin = Plugin::new("p", "1").tool(tool("t").with_access(access));
        assert_eq!(
            manifest(&plugin)["tools"][0]["access"],
            json!({"authenticated": true, "scopes": ["admin"]})
        );
    }

    #[test]
    fn untyped_schemas_become_objects_and_others_are_refused() {
        assert_eq!(
            object_schema("t", "input", json!(true)),
            json!({"type": "object"})
        );
        assert_eq!(
            object_schema("t", "input", json!({"anyOf": []}))["type"],
            "object"
        );
        let result =
            std::panic::catch_unwind(|| object_schema("t", "output", json!({"type": "array"})));
        let message = *result.unwrap_err().downcast::<String>().unwrap();
        assert!(
            message.starts_with("tool \"t\": the output schema must describe a JSON object"),
            "{message}"
        );
    }

    #[test]
    #[should_panic(expected = "tool \"t\" is defined twice")]
    fn refuses_duplicate_names() {
        build(&Plugin::new("p", "1").tool(tool("t")).tool(tool("t")));
    }

    #[test]
    #[should_panic(expected = "invalid tool name \"a b\"")]
    fn refuses_invalid_names() {
        build(&Plugin::new("p", "1").tool(tool("a b")));
    }
}
