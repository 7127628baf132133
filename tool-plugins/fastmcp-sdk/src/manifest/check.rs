//! The checks a plugin definition must pass before its manifest is served: what the compiler
//! could not see across items. Each failure panics with a message naming the item.

use std::collections::HashSet;

use crate::Plugin;
use crate::completion::Target;
use crate::prompt::PromptArgument;
use fastmcp_abi::uri_template::UriTemplate;

/// Checks every item of `plugin`; `prompt_arguments` holds each prompt's arguments.
///
/// # Panics
/// On the first problem, with a message naming the item.
pub(crate) fn plugin(plugin: &Plugin, prompt_arguments: &[Vec<PromptArgument>]) {
    let mut seen = HashSet::new();
    for tool in &plugin.tools {
        assert!(
            valid_tool_name(tool.name),
            "invalid tool name {:?}: use 1 to 128 characters of A-Z a-z 0-9 _ - .",
            tool.name
        );
        assert!(
            seen.insert(tool.name),
            "tool \"{}\" is defined twice",
            tool.name
        );
    }
    let mut seen = HashSet::new();
    for resource in &plugin.resources {
        assert!(!resource.uri.is_empty(), "a resource has an empty URI");
        assert!(
            !resource.common.name.is_empty(),
            "resource \"{}\" has an empty name",
            resource.uri
        );
        assert!(
            seen.insert(resource.uri),
            "resource \"{}\" is defined twice",
            resource.uri
        );
    }
    let mut names = HashSet::new();
    for skill in &plugin.skills {
        assert!(
            names.insert(skill.name),
            "skill \"{}\" is added twice",
            skill.name
        );
        for file in skill.files {
            assert!(
                seen.insert(file.uri),
                "resource \"{}\" is defined twice (a skill file and a resource)",
                file.uri
            );
        }
    }
    let mut seen = HashSet::new();
    for template in &plugin.resource_templates {
        if let Err(error) = UriTemplate::parse(template.uri_template) {
            panic!("resource template \"{}\": {error}", template.uri_template);
        }
        assert!(
            seen.insert(template.uri_template),
            "resource template \"{}\" is defined twice",
            template.uri_template
        );
    }
    let mut seen = HashSet::new();
    for prompt in &plugin.prompts {
        assert!(!prompt.name.is_empty(), "a prompt has an empty name");
        assert!(
            seen.insert(prompt.name),
            "prompt \"{}\" is defined twice",
            prompt.name
        );
    }
    completions(plugin, prompt_arguments);
}

/// Every completion targets a prompt or template of this plugin, and an argument it has.
fn completions(plugin: &Plugin, prompt_arguments: &[Vec<PromptArgument>]) {
    let mut seen = HashSet::new();
    for completion in &plugin.completions {
        let (what, arguments): (String, Vec<String>) = match completion.target {
            Target::Prompt(name) => {
                let Some(index) = plugin.prompts.iter().position(|p| p.name == name) else {
                    panic!("completion for prompt \"{name}\": this plugin has no such prompt");
                };
                let names = prompt_arguments[index].iter().map(|a| a.name.clone());
                (format!("prompt \"{name}\""), names.collect())
            }
            Target::ResourceTemplate(uri_template) => {
                let what = format!("resource template \"{uri_template}\"");
                let known = plugin.resource_templates.iter();
                if !known.clone().any(|t| t.uri_template == uri_template) {
                    panic!("completion for {what}: this plugin has no such resource template");
                }
                let template = UriTemplate::parse(uri_template).unwrap_or_else(|e| panic!("{e}"));
                (what, template.variables().map(str::to_owned).collect())
            }
        };
        if let Some(argument) = completion.argument {
            assert!(
                arguments.iter().any(|a| a == argument),
                "completion for {what}: it has no argument \"{argument}\" (it has: {})",
                arguments.join(", ")
            );
        }
        assert!(
            seen.insert((completion.target, completion.argument)),
            "completion for {what}{} is defined twice",
            completion
                .argument
                .map(|a| format!(", argument \"{a}\""))
                .unwrap_or_default()
        );
    }
}

/// MCP tool names: 1 to 128 characters of `A-Z a-z 0-9 _ - .`.
fn valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Completion, CompletionDef, Context, PromptArgument, PromptDef, ResourceContent,
        ResourceDef, ResourceRequest, ResourceTemplateDef, ToolDef, ToolResult,
    };

    fn read(
        _: &Context<'_>,
        _: &ResourceRequest<'_>,
    ) -> Result<Vec<ResourceContent>, crate::ProtocolError> {
        Ok(Vec::new())
    }

    fn complete(
        _: &Context<'_>,
        _: crate::CompletionRequest,
    ) -> Result<Completion, crate::ProtocolError> {
        Ok(Completion::default())
    }

    fn trip() -> PromptDef {
        PromptDef::new("trip", |_, _| Ok(Default::default())).with_arguments(|| {
            vec![PromptArgument {
                name: "city".into(),
                title: None,
                description: None,
                required: true,
            }]
        })
    }

    /// The panic message of checking `plugin`.
    fn failure(plugin: Plugin) -> String {
        let arguments: Vec<_> = plugin.prompts.iter().map(|p| (p.arguments)()).collect();
        let result = std::panic::catch_unwind(|| super::plugin(&plugin, &arguments));
        match result.unwrap_err().downcast::<String>() {
            Ok(message) => *message,
            Err(payload) => payload.downcast::<&str>().unwrap().to_string(),
        }
    }

    #[test]
    fn a_good_plugin_passes() {
        let plugin = Plugin::new("p", "1")
            .resource(ResourceDef::new("test://a", "a", read))
            .resource_template(ResourceTemplateDef::new("test://t/{id}", "t", read))
            .prompt(trip())
            .completion(CompletionDef::prompt("trip", complete).for_argument("city"))
            .completion(CompletionDef::prompt("trip", complete))
            .completion(CompletionDef::resource_template("test://t/{id}", complete));
        let arguments: Vec<_> = plugin.prompts.iter().map(|p| (p.arguments)()).collect();
        super::plugin(&plugin, &arguments);
    }

    #[test]
    fn names_the_offending_item() {
        let tool = || ToolDef::new("t", |_, _| ToolResult::new());
        let cases = [
            (
                Plugin::new("p", "1").tool(tool()).tool(tool()),
                "tool \"t\" is defined twice",
            ),
            (
                Plugin::new("p", "1").tool(ToolDef::new("a b", |_, _| ToolResult::new())),
                "invalid tool name \"a b\"",
            ),
            (
                Plugin::new("p", "1")
                    .resource(ResourceDef::new("test://a", "a", read))
                    .resource(ResourceDef::new("test://a", "b", read)),
                "resource \"test://a\" is defined twice",
            ),
            (
                Plugin::new("p", "1")
                    .resource_template(ResourceTemplateDef::new("x://{", "x", read)),
                "resource template \"x://{\": a `{` without its `}`",
            ),
            (
                Plugin::new("p", "1").prompt(trip()).prompt(trip()),
                "prompt \"trip\" is defined twice",
            ),
            (
                Plugin::new("p", "1").completion(CompletionDef::prompt("nope", complete)),
                "completion for prompt \"nope\": this plugin has no such prompt",
            ),
            (
                Plugin::new("p", "1")
                    .prompt(trip())
                    .completion(CompletionDef::prompt("trip", complete).for_argument("days")),
                "completion for prompt \"trip\": it has no argument \"days\" (it has: city)",
            ),
            (
                Plugin::new("p", "1")
                    .prompt(trip())
                    .completion(CompletionDef::prompt("trip", complete))
                    .completion(CompletionDef::prompt("trip", complete)),
                "completion for prompt \"trip\" is defined twice",
            ),
            (
                Plugin::new("p", "1")
                    .completion(CompletionDef::resource_template("x://{id}", complete)),
                "completion for resource template \"x://{id}\": this plugin has no such",
            ),
        ];
        for (plugin, expected) in cases {
            let message = failure(plugin);
            assert!(message.starts_with(expected), "{message:?} vs {expected:?}");
        }
    }
}
