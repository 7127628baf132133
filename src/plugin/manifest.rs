//! The plugin manifest: what a plugin offers, parsed and checked at load time.
//!
//! The wire shapes are MCP's own (`docs/abi.md`), so entries deserialize straight into
//! `rmcp::model` types; a manifest that does not is refused with the reason and, where there is
//! one, the name of the offending entry.

use std::sync::Arc;

use rmcp::model::{Prompt, Resource, ResourceTemplate, Tool};
use serde::Deserialize;
use serde_json::Value;

use super::inline::InlineGate;
use super::schema::Schema;

/// Who may see and call a tool (filled in by the SDK's `requires_auth` / `scopes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Access {
    /// Only authenticated callers may use the tool.
    pub(crate) authenticated: bool,
    /// Scopes the caller must all have.
    pub(crate) scopes: Vec<String>,
}

/// One tool as the host serves it.
#[derive(Debug, Clone)]
pub(crate) struct ToolEntry {
    /// The MCP tool definition, served as is by `tools/list`.
    pub(crate) tool: Tool,
    /// Access rules, never sent to clients.
    pub(crate) access: Access,
    /// The plugin says calls may run inline on the I/O threads (`"inline": true`); shared by
    /// every clone of the entry so the host can take it back (see [`super::inline`]).
    pub(crate) inline: Arc<InlineGate>,
    /// The plugin serves the tool as an async call (`"async": true`): started with
    /// `start_tool` and completed later, holding no host thread (`super::pending`).
    pub(crate) is_async: bool,
    /// The tool takes a context but may still run inline where that context cannot block
    /// (`"inlineContext": true`): its notifications are collected and sent after it returns,
    /// and requests to the client are unsupported there, as in stateless mode anyway.
    pub(crate) inline_context: bool,
    /// The tool's `outputSchema`, compiled once to check its `structuredContent`
    /// ([`super::reply`]); `None` without one, or when it cannot be checked.
    pub(crate) output_check: Option<Arc<Schema>>,
    /// Whether the tool may run as a task (`"taskSupport"`, MCP `execution.taskSupport`).
    pub(crate) task_support: TaskSupport,
    /// With the 2026-07-28 tasks extension, the call's first round runs as a plain call (its
    /// questions answered by multi round-trip requests) and the retry becomes the task
    /// (`"inputBeforeTask": true`).
    pub(crate) input_before_task: bool,
}

/// Whether a tool may run as a task (the manifest's `taskSupport`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum TaskSupport {
    /// Never as a task (the default).
    #[default]
    Forbidden,
    /// As a task or as a plain call.
    Optional,
    /// Only as a task.
    Required,
}

impl TaskSupport {
    /// Reads the manifest value; `None` if it is not one of the three.
    pub(crate) fn parse(v: &Value) -> Option<TaskSupport> {
        match v.as_str()? {
            "forbidden" => Some(TaskSupport::Forbidden),
            "optional" => Some(TaskSupport::Optional),
            "required" => Some(TaskSupport::Required),
            _ => None,
        }
    }

    /// The wire spelling (`execution.taskSupport`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TaskSupport::Forbidden => "forbidden",
            TaskSupport::Optional => "optional",
            TaskSupport::Required => "required",
        }
    }
}

/// Optional features a plugin implements beyond listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct PluginCapabilities {
    /// Answers `completion/complete`.
    pub(crate) completions: bool,
    /// Answers `resources/subscribe` and sends `notifications/resources/updated`.
    pub(crate) subscribe: bool,
}

/// Everything a plugin offers.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    /// The plugin's name (from `export_plugin!`).
    pub(crate) name: String,
    /// The plugin's version.
    pub(crate) version: String,
    /// The SDK that built it, if it says.
    pub(crate) sdk: Option<String>,
    /// Tools, in the plugin's order.
    pub(crate) tools: Vec<ToolEntry>,
    /// Static resources.
    pub(crate) resources: Vec<Resource>,
    /// Resource templates (RFC 6570 URI templates).
    pub(crate) resource_templates: Vec<ResourceTemplate>,
    /// Prompts.
    pub(crate) prompts: Vec<Prompt>,
    /// Optional features.
    pub(crate) capabilities: PluginCapabilities,
    /// Skills (the skills extension); their files are among `resources`.
    pub(crate) skills: Vec<Arc<super::skills::Skill>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    sdk: Option<String>,
    tools: Vec<Value>,
    #[serde(default)]
    resources: Vec<Value>,
    #[serde(default)]
    resource_templates: Vec<Value>,
    #[serde(default)]
    prompts: Vec<Value>,
    #[serde(default)]
    capabilities: PluginCapabilities,
    #[serde(default)]
    skills: Vec<Value>,
}

/// Parses and checks manifest JSON; the error says what is wrong.
pub(crate) fn parse(bytes: &[u8]) -> Result<Manifest, String> {
    let raw: RawManifest =
        serde_json::from_slice(bytes).map_err(|e| format!("not valid manifest JSON: {e}"))?;
    if raw.name.trim().is_empty() {
        return Err("the plugin name is empty".into());
    }
    let mut tools = Vec::with_capacity(raw.tools.len());
    for (i, value) in raw.tools.into_iter().enumerate() {
        tools.push(parse_tool(i, value)?);
    }
    let mut seen = std::collections::HashSet::new();
    for t in &tools {
        if !seen.insert(t.tool.name.as_ref()) {
            return Err(format!("tool `{}` is declared twice", t.tool.name));
        }
    }
    let resources: Vec<Resource> = entries(raw.resources, "resource", "uri")?;
    let skills = super::skills::parse(raw.skills, &resources)?;
    Ok(Manifest {
        name: raw.name,
        version: raw.version,
        sdk: raw.sdk,
        tools,
        resources,
        resource_templates: entries(raw.resource_templates, "resource template", "uriTemplate")?,
        prompts: entries(raw.prompts, "prompt", "name")?,
        capabilities: raw.capabilities,
        skills: skills.into_iter().map(Arc::new).collect(),
    })
}

fn entries<T: serde::de::DeserializeOwned>(
    values: Vec<Value>,
    kind: &str,
    key: &str,
) -> Result<Vec<T>, String> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let label = label(&v, key, i);
            serde_json::from_value(v).map_err(|e| format!("{kind} {label}: {e}"))
        })
        .collect()
}

fn label(v: &Value, key: &str, index: usize) -> String {
    match v.get(key).and_then(Value::as_str) {
        Some(s) => format!("`{s}`"),
        None => format!("#{}", index + 1),
    }
}

fn parse_tool(index: usize, mut value: Value) -> Result<ToolEntry, String> {
    let label = label(&value, "name", index);
    let access = match value.as_object_mut().and_then(|o| o.remove("access")) {
        Some(a) => serde_json::from_value(a).map_err(|e| format!("tool {label}: access: {e}"))?,
        None => Access::default(),
    };
    let mut flag = |key: &str| match value.as_object_mut().and_then(|o| o.remove(key)) {
        Some(Value::Bool(b)) => Ok(b),
        None => Ok(false),
        Some(other) => Err(format!(
            "tool {label}: {key} must be true or false, not {other}"
        )),
    };
    let inline = flag("inline")?;
    let inline_context = flag("inlineContext")?;
    let is_async = flag("async")?;
    let input_before_task = flag("inputBeforeTask")?;
    if (inline || inline_context) && is_async {
        return Err(format!(
            "tool {label}: a tool cannot be both inline and async"
        ));
    }
    let task_support = match value.as_object_mut().and_then(|o| o.remove("taskSupport")) {
        None => TaskSupport::Forbidden,
        Some(v) => TaskSupport::parse(&v)
            .ok_or_else(|| format!("tool {label}: taskSupport must be \"forbidden\", \"optional\" or \"required\", not {v}"))?,
    };
    let tool: Tool = serde_json::from_value(value).map_err(|e| format!("tool {label}: {e}"))?;
    check_tool_name(&tool.name).map_err(|e| format!("tool {label}: {e}"))?;
    check_object_schema(&tool.input_schema)
        .map_err(|e| format!("tool {label}: inputSchema {e}"))?;
    if let Some(out) = &tool.output_schema {
        check_object_schema(out).map_err(|e| format!("tool {label}: outputSchema {e}"))?;
    }
    Ok(ToolEntry {
        output_check: tool
            .output_schema
            .as_ref()
            .and_then(|s| Schema::compile(&Value::Object((**s).clone())))
            .map(Arc::new),
        tool,
        access,
        inline: Arc::new(InlineGate::new(inline || inline_context)),
        inline_context,
        is_async,
        task_support,
        input_before_task,
    })
}

/// MCP tool names: 1 to 128 of `A-Z a-z 0-9 _ - .`.
pub(crate) fn check_tool_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 128 {
        return Err("name must be 1 to 128 characters".into());
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        Some(c) => Err(format!(
            "name contains {c:?}; allowed are A-Z, a-z, 0-9, '_', '-' and '.'"
        )),
        None => Ok(()),
    }
}

fn check_object_schema(schema: &serde_json::Map<String, Value>) -> Result<(), String> {
    match schema.get("type") {
        Some(Value::String(t)) if t == "object" => Ok(()),
        Some(other) => Err(format!("must have \"type\": \"object\", found {other}")),
        None => Err("must have \"type\": \"object\"".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, schema: Value) -> Value {
        serde_json::json!({"name": name, "description": "d", "inputSchema": schema})
    }

    fn manifest(tools: Vec<Value>) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"name": "p", "version": "1", "tools": tools}))
            .unwrap()
    }

    /// Keys a host does not know are ignored, never refused: that is how a manifest grows
    /// (`skills` was added this way, and hosts before it still load plugins that ship skills,
    /// serving their files as plain resources).
    #[test]
    fn unknown_top_level_keys_are_ignored() {
        let bytes = serde_json::to_vec(&serde_json::json!({
            "name": "p", "tools": [], "someLaterKey": {"x": [1, 2]}
        }))
        .unwrap();
        assert_eq!(parse(&bytes).unwrap().name, "p");
    }

    #[test]
    fn skills_are_read_with_their_files_among_the_resources() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let manifest = serde_json::json!({
            "name": "p", "tools": [],
            "resources": [{"uri": "skill://s/SKILL.md", "name": "s"}],
            "skills": [{"uri": "skill://s/SKILL.md",
                        "frontmatter": {"name": "s", "description": "d"},
                        "resources": [{"uri": "skill://s/SKILL.md", "digest": digest, "size": 1}]}]
        });
        let m = parse(&serde_json::to_vec(&manifest).unwrap()).unwrap();
        assert_eq!(m.skills[0].name, "s");
        let mut orphan = manifest.clone();
        orphan["resources"] = serde_json::json!([]);
        let error = parse(&serde_json::to_vec(&orphan).unwrap()).unwrap_err();
        assert!(
            error.contains("not among the plugin's resources"),
            "{error}"
        );
    }

    #[test]
    fn parses_a_good_manifest() {
        let bytes = manifest(vec![tool("calc", serde_json::json!({"type": "object"}))]);
        let m = parse(&bytes).unwrap();
        assert_eq!(m.name, "p");
        assert_eq!(m.tools[0].tool.name, "calc");
        assert_eq!(m.tools[0].access, Access::default());
        assert!(!m.tools[0].inline.is_open(), "absent means worker threads");
    }

    #[test]
    fn inline_is_a_flag_the_host_can_take_back() {
        let mut t = tool("calc", serde_json::json!({"type": "object"}));
        t["inline"] = true.into();
        let m = parse(&manifest(vec![t.clone()])).unwrap();
        let entry = m.tools[0].clone();
        assert!(m.tools[0].inline.is_open());
        assert!(entry.inline.close());
        assert!(!entry.inline.close(), "only the first demotion reports");
        assert!(!m.tools[0].inline.is_open(), "clones share the flag");
        let listed = serde_json::to_value(&m.tools[0].tool).unwrap();
        assert!(
            listed.get("inline").is_none(),
            "not sent to clients: {listed}"
        );
        t["inline"] = "yes".into();
        let e = parse(&manifest(vec![t])).unwrap_err();
        assert!(
            e.contains("tool `calc`: inline must be true or false"),
            "{e}"
        );
    }

    #[test]
    fn async_is_a_host_only_flag_that_excludes_inline() {
        let mut t = tool("wait", serde_json::json!({"type": "object"}));
        t["async"] = true.into();
        let m = parse(&manifest(vec![t.clone()])).unwrap();
        assert!(m.tools[0].is_async);
        assert!(!m.tools[0].inline.is_open());
        let listed = serde_json::to_value(&m.tools[0].tool).unwrap();
        assert!(
            listed.get("async").is_none(),
            "not sent to clients: {listed}"
        );
        t["inline"] = true.into();
        let e = parse(&manifest(vec![t.clone()])).unwrap_err();
        assert!(e.contains("both inline and async"), "{e}");
        t["inline"] = false.into();
        t["async"] = 1.into();
        let e = parse(&manifest(vec![t])).unwrap_err();
        assert!(
            e.contains("tool `wait`: async must be true or false"),
            "{e}"
        );
        let plain = parse(&manifest(vec![tool(
            "p",
            serde_json::json!({"type": "object"}),
        )]));
        assert!(!plain.unwrap().tools[0].is_async, "absent means not async");
    }

    #[test]
    fn names_the_bad_tool() {
        let e = parse(&manifest(vec![tool(
            "bad name",
            serde_json::json!({"type": "object"}),
        )]))
        .unwrap_err();
        assert!(e.contains("tool `bad name`") && e.contains("' '"), "{e}");
        let e = parse(&manifest(vec![tool(
            "t",
            serde_json::json!({"type": "string"}),
        )]))
        .unwrap_err();
        assert!(e.contains("tool `t`: inputSchema"), "{e}");
        let e = parse(&manifest(vec![tool("t", serde_json::json!(true))])).unwrap_err();
        assert!(e.contains("tool `t`"), "{e}");
        let e = parse(&manifest(vec![
            tool("t", serde_json::json!({"type": "object"})),
            tool("t", serde_json::json!({"type": "object"})),
        ]))
        .unwrap_err();
        assert!(e.contains("declared twice"), "{e}");
    }

    #[test]
    fn rejects_non_json() {
        assert!(
            parse(b"{nope")
                .unwrap_err()
                .starts_with("not valid manifest JSON")
        );
    }
}
