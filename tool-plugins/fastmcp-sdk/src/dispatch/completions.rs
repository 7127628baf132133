//! `completion/complete`: finds the completion for the referenced prompt or resource template
//! (one for the argument wins over one for all arguments) and caps its answer. A prompt or
//! template of this plugin without a completion gets an empty answer.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Registry, Response, parse_params, run};
use crate::completion::Target;
use crate::error::code::INVALID_PARAMS;
use crate::{Completion, CompletionDef, CompletionRef, CompletionRequest, Context};

#[derive(Deserialize)]
struct CompleteParams {
    #[serde(rename = "ref")]
    reference: Reference,
    argument: Argument,
    #[serde(default)]
    context: Option<CompleteContext>,
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum Reference {
    #[serde(rename = "ref/prompt")]
    Prompt { name: String },
    #[serde(rename = "ref/resource")]
    Resource { uri: String },
}

#[derive(Deserialize)]
struct Argument {
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct CompleteContext {
    #[serde(default)]
    arguments: HashMap<String, String>,
}

/// MCP `CompleteResult`.
#[derive(Serialize)]
struct CompleteResult {
    completion: Completion,
}

impl Registry {
    pub(super) fn complete(&self, ctx: &Context<'_>, params: Option<&RawValue>) -> Response {
        let params: CompleteParams = match parse_params("completion/complete", params) {
            Ok(params) => params,
            Err(response) => return response,
        };
        let reference = match params.reference {
            Reference::Prompt { name } => {
                if !self.prompts.contains_key(name.as_str()) {
                    return Response::error(INVALID_PARAMS, format!("Unknown prompt: {name}"));
                }
                CompletionRef::Prompt(name)
            }
            Reference::Resource { uri } => {
                let known = self.plugin.resource_templates.iter();
                if !known.clone().any(|t| t.uri_template == uri) {
                    let message = format!("Unknown resource template: {uri}");
                    return Response::error(INVALID_PARAMS, message);
                }
                CompletionRef::ResourceTemplate(uri)
            }
        };
        let argument = params.argument.name;
        let Some(completion) = self.completion_for(&reference, &argument) else {
            return Response::json(&CompleteResult {
                completion: Completion::default().capped(),
            });
        };
        let request = CompletionRequest {
            reference,
            argument,
            value: params.argument.value,
            context: params.context.map(|c| c.arguments).unwrap_or_default(),
        };
        let what = format!("completion for argument \"{}\"", request.argument);
        run(
            ctx,
            || what,
            || {
                let completion = (completion.handler)(ctx, request)?;
                Ok(CompleteResult {
                    completion: completion.capped(),
                })
            },
        )
    }

    fn completion_for(&self, reference: &CompletionRef, argument: &str) -> Option<&CompletionDef> {
        let targets = |completion: &&CompletionDef| match (completion.target, reference) {
            (Target::Prompt(a), CompletionRef::Prompt(b)) => a == b,
            (Target::ResourceTemplate(a), CompletionRef::ResourceTemplate(b)) => a == b,
            _ => false,
        };
        let candidates = self.plugin.completions.iter().filter(targets);
        let mut fallback = None;
        for completion in candidates {
            match completion.argument {
                Some(name) if name == argument => return Some(completion),
                None => fallback = fallback.or(Some(completion)),
                Some(_) => {}
            }
        }
        fallback
    }
}
