//! `prompts/get`: unknown prompts and missing required arguments are `-32602` errors that name
//! them; the prompt's own description fills in a result without one.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{Registry, Response, parse_params, run};
use crate::error::code::INVALID_PARAMS;
use crate::{Context, ProtocolError};

#[derive(Deserialize)]
struct GetPromptParams<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default)]
    arguments: Option<Map<String, Value>>,
}

impl Registry {
    pub(super) fn get_prompt(&self, ctx: &Context<'_>, params: Option<&RawValue>) -> Response {
        let params: GetPromptParams<'_> = match parse_params("prompts/get", params) {
            Ok(params) => params,
            Err(response) => return response,
        };
        let Some(&index) = self.prompts.get(&*params.name) else {
            return Response::error(INVALID_PARAMS, format!("Unknown prompt: {}", params.name));
        };
        let prompt = &self.plugin.prompts[index];
        let arguments = params.arguments.unwrap_or_default();
        let missing: Vec<&str> = self.required_arguments[index]
            .iter()
            .filter(|name| arguments.get(name.as_str()).is_none_or(Value::is_null))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let error = ProtocolError::invalid_params(format!(
                "Missing required argument{} for prompt \"{}\": {}",
                if missing.len() == 1 { "" } else { "s" },
                prompt.name,
                missing.join(", ")
            ));
            return Response::protocol(&error);
        }
        let what = || format!("prompt \"{}\"", prompt.name);
        run(ctx, what, || {
            let result = (prompt.handler)(ctx, &arguments)?;
            Ok(result.or_description(prompt.description))
        })
    }
}
