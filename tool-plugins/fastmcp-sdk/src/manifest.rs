//! The manifest (`docs/abi.md`, "Manifest"): the JSON the host reads once per load to learn the
//! plugin's name, version, tools, resources, resource templates, prompts, capabilities and
//! skills.
//!
//! Building it checks what the compiler could not: tool names are valid and unique, every
//! schema describes a JSON object, URIs, templates and prompt names are unique, templates parse,
//! and every completion belongs to a prompt or template of this plugin (see `check`). A failed
//! check panics with a message naming the item; the shim turns that into `STATUS_PANIC`, so the
//! host refuses the library and says why.

use serde::Serialize;
use serde_json::Value;

use crate::prompt::PromptArgument;
use crate::resource::Common;
use crate::tool::{Execution, ToolAccess, ToolAnnotations};
use crate::{Annotations, Plugin, SkillDef, ToolDef};

mod check;

/// `fastmcp-sdk <version>`, so the host can report which SDK built a plugin.
const SDK: &str = concat!("fastmcp-sdk ", env!("CARGO_PKG_VERSION"));

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    name: &'a str,
    version: &'a str,
    sdk: &'a str,
    tools: Vec<ToolEntry<'a>>,
    resources: Vec<ResourceEntry<'a>>,
    resource_templates: Vec<TemplateEntry<'a>>,
    prompts: Vec<PromptEntry<'a>>,
    capabilities: Capabilities,
    /// The skills extension's entries; absent without skills, so older hosts see no change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skills: Vec<SkillEntry<'a>>,
}

/// One skill: the wire `Skill` entry of `skills/list` (its files are also in `resources`).
#[derive(Serialize)]
struct SkillEntry<'a> {
    uri: &'a str,
    frontmatter: &'a serde_json::value::RawValue,
    resources: Vec<SkillResource<'a>>,
}

#[derive(Serialize)]
struct SkillResource<'a> {
    uri: &'a str,
    digest: &'a str,
    size: usize,
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
    /// Not MCP's `execution` (tasks): where the host may run the calls (`docs/abi.md`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    inline: bool,
    /// A tool with a context the host may run inline where the context cannot block.
    #[serde(rename = "inlineContext", skip_serializing_if = "std::ops::Not::not")]
    inline_context: bool,
    /// The host starts the calls with `start_tool` (ABI 1.2) and awaits their completion.
    #[serde(rename = "async", skip_serializing_if = "std::ops::Not::not")]
    is_async: bool,
    /// MCP's `execution.taskSupport`: whether the tool may run as a task.
    #[serde(rename = "taskSupport", skip_serializing_if = "Option::is_none")]
    task_support: Option<&'static str>,
    /// The tool's input is gathered before its task is created (2026-07-28).
    #[serde(rename = "inputBeforeTask", skip_serializing_if = "std::ops::Not::not")]
    input_before_task: bool,
}

#[derive(Serialize)]
struct Access<'a> {
    authenticated: bool,
    scopes: &'a [&'a str],
}

/// What a resource and a template have in common, in the wire shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Described<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mime_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<&'a Annotations>,
}

impl<'a> From<&'a Common> for Described<'a> {
    fn from(common: &'a Common) -> Self {
        Self {
            name: common.name,
            title: common.title,
            description: common.description,
            mime_type: common.mime_type,
            annotations: common.annotations.as_ref(),
        }
    }
}

#[derive(Serialize)]
struct ResourceEntry<'a> {
    uri: &'a str,
    #[serde(flatten)]
    described: Described<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateEntry<'a> {
    uri_template: &'a str,
    #[serde(flatten)]
    described: Described<'a>,
}

#[derive(Serialize)]
struct PromptEntry<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    arguments: &'a [PromptArgument],
}

#[derive(Serialize)]
struct Capabilities {
    completions: bool,
    subscribe: bool,
}

/// Serializes the manifest of `plugin`; `prompt_arguments` holds each prompt's arguments, in
/// order.
///
/// # Panics
/// If a check fails (see `check`), or a schema does not describe an object.
pub(crate) fn build(plugin: &Plugin, prompt_arguments: &[Vec<PromptArgument>]) -> Vec<u8> {
    check::plugin(plugin, prompt_arguments);
    let resources = plugin.resources.iter().map(|resource| ResourceEntry {
        uri: resource.uri,
        described: (&resource.common).into(),
        size: resource.size,
    });
    let mut resources: Vec<ResourceEntry<'_>> = resources.collect();
    resources.extend(plugin.skills.iter().flat_map(|skill| skill_files(skill)));
    let templates = plugin
        .resource_templates
        .iter()
        .map(|template| TemplateEntry {
            uri_template: template.uri_template,
            described: (&template.common).into(),
        });
    let prompts = plugin.prompts.iter().zip(prompt_arguments);
    let prompts = prompts.map(|(prompt, arguments)| PromptEntry {
        name: prompt.name,
        title: prompt.title,
        description: prompt.description,
        arguments,
    });
    let manifest = Manifest {
        name: plugin.name,
        version: plugin.version,
        sdk: SDK,
        tools: plugin.tools.iter().map(entry).collect(),
        resources,
        resource_templates: templates.collect(),
        prompts: prompts.collect(),
        capabilities: Capabilities {
            completions: !plugin.completions.is_empty(),
            subscribe: plugin.subscribe,
        },
        skills: plugin
            .skills
            .iter()
            .map(|skill| skill_entry(skill))
            .collect(),
    };
    serde_json::to_vec(&manifest).expect("the manifest is plain JSON")
}

/// A skill's files as resources: `SKILL.md` named and described by its frontmatter (as the
/// skills extension recommends), the others by their file name.
fn skill_files<'a>(skill: &'a SkillDef) -> impl Iterator<Item = ResourceEntry<'a>> + 'a {
    skill.files.iter().map(move |file| {
        let is_skill_md = file.uri == skill.uri;
        ResourceEntry {
            uri: file.uri,
            described: Described {
                name: if is_skill_md {
                    skill.name
                } else {
                    file.file_name()
                },
                title: None,
                description: is_skill_md.then_some(skill.description),
                mime_type: Some(file.mime_type),
                annotations: None,
            },
            size: Some(file.bytes.len() as u64),
        }
    })
}

fn skill_entry<'a>(skill: &'a SkillDef) -> SkillEntry<'a> {
    let frontmatter: &'a serde_json::value::RawValue = serde_json::from_str(skill.frontmatter)
        .unwrap_or_else(|e| panic!("skill \"{}\": frontmatter is not JSON: {e}", skill.name));
    let resources = skill.files.iter().map(|file| SkillResource {
        uri: file.uri,
        digest: file.digest,
        size: file.bytes.len(),
    });
    SkillEntry {
        uri: skill.uri,
        frontmatter,
        resources: resources.collect(),
    }
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
        // An async tool's call is started, never run on the thread that read the request.
        inline: tool.execution == Execution::Inline && !tool.is_async(),
        inline_context: tool.execution == Execution::InlineContext && !tool.is_async(),
        is_async: tool.is_async(),
        task_support: tool.task_support.manifest_value(),
        input_before_task: tool.input_before_task,
    }
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
        let arguments: Vec<_> = plugin.prompts.iter().map(|p| (p.arguments)()).collect();
        serde_json::from_slice(&build(plugin, &arguments)).unwrap()
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
    fn inline_tools_say_so_and_worker_tools_say_nothing() {
        let plugin = Plugin::new("p", "1")
            .tool(tool("fast").with_execution(Execution::Inline))
            .tool(tool("slow").with_execution(Execution::Worker))
            .tool(tool("short").with_execution(Execution::InlineContext));
        let tools = &manifest(&plugin)["tools"];
        assert_eq!(tools[0]["inline"], true);
        assert!(tools[1].get("inline").is_none(), "{tools}");
        assert!(tools[1].get("inlineContext").is_none(), "{tools}");
        // Not `inline`: a host that does not know the key runs it on the workers, context and all.
        assert!(tools[2].get("inline").is_none(), "{tools}");
        assert_eq!(tools[2]["inlineContext"], true);
    }

    #[cfg(feature = "async")]
    #[test]
    fn async_tools_say_so_and_are_never_inline() {
        let run = |_: crate::AsyncCall| -> crate::ToolFuture { unreachable!() };
        let plugin = Plugin::new("p", "1")
            .tool(ToolDef::new_async("io", run).with_execution(Execution::Inline))
            .tool(tool("plain"));
        let tools = &manifest(&plugin)["tools"];
        assert_eq!(tools[0]["async"], true);
        assert!(tools[0].get("inline").is_none(), "{tools}");
        assert!(tools[1].get("async").is_none(), "{tools}");
    }

    #[test]
    fn task_tools_say_so_and_others_say_nothing() {
        let plugin = Plugin::new("p", "1")
            .tool(tool("maybe").with_task_support(crate::TaskSupport::Optional))
            .tool(tool("always").with_task_support(crate::TaskSupport::Required))
            .tool(tool("never").with_task_support(crate::TaskSupport::Forbidden))
            .tool(
                tool("asks")
                    .with_task_support(crate::TaskSupport::Required)
                    .with_input_before_task(true),
            );
        let tools = &manifest(&plugin)["tools"];
        assert_eq!(tools[3]["inputBeforeTask"], true);
        assert!(tools[1].get("inputBeforeTask").is_none(), "{tools}");
        assert_eq!(tools[0]["taskSupport"], "optional");
        assert_eq!(tools[1]["taskSupport"], "required");
        assert!(tools[2].get("taskSupport").is_none(), "{tools}");
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
    fn lists_resources_templates_prompts_and_capabilities() {
        use crate::{CompletionDef, PromptArgument, PromptDef, ResourceDef, ResourceTemplateDef};
        let read = |_: &crate::Context<'_>, _: &crate::ResourceRequest<'_>| Ok(Vec::new());
        let arguments = || {
            vec![PromptArgument {
                name: "city".into(),
                title: None,
                description: Some("Where".into()),
                required: true,
            }]
        };
        let plugin = Plugin::new("p", "1")
            .resource(
                ResourceDef::new("test://a", "a", read)
                    .with_title("A")
                    .with_description("The a")
                    .with_mime_type("text/plain")
                    .with_size(3)
                    .with_annotations(Annotations::new().with_priority(1.0)),
            )
            .resource_template(
                ResourceTemplateDef::new("test://t/{id}", "t", read).with_mime_type("text/plain"),
            )
            .prompt(PromptDef::new("trip", |_, _| Ok(Default::default())).with_arguments(arguments))
            .prompt(PromptDef::new("bare", |_, _| Ok(Default::default())).with_description("b"))
            .completion(CompletionDef::prompt("trip", |_, _| Ok(Default::default())))
            .with_subscribe(true);
        let manifest = manifest(&plugin);
        assert_eq!(
            manifest["resources"],
            json!([{"uri": "test://a", "name": "a", "title": "A", "description": "The a",
                "mimeType": "text/plain", "size": 3, "annotations": {"priority": 1.0}}])
        );
        assert_eq!(
            manifest["resourceTemplates"],
            json!([{"uriTemplate": "test://t/{id}", "name": "t", "mimeType": "text/plain"}])
        );
        assert_eq!(
            manifest["prompts"],
            json!([
                {"name": "trip", "arguments":
                    [{"name": "city", "description": "Where", "required": true}]},
                {"name": "bare", "description": "b"},
            ])
        );
        assert_eq!(
            manifest["capabilities"],
            json!({"completions": true, "subscribe": true})
        );
    }
}
