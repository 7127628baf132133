//! `resources/read` (skill files and static URIs first, then templates in the plugin's order) and
//! `resources/subscribe` / `resources/unsubscribe`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Map;
use serde_json::value::RawValue;

use super::{Registry, Response, parse_params, run};
use crate::error::code::METHOD_NOT_FOUND;
use crate::resource::Common;
use crate::{Context, ProtocolError, ResourceContent, ResourceRequest};

#[derive(Deserialize)]
struct UriParams<'a> {
    #[serde(borrow)]
    uri: Cow<'a, str>,
}

/// MCP `ReadResourceResult`.
#[derive(Serialize)]
struct ReadResult {
    contents: Vec<ResourceContent>,
}

impl Registry {
    pub(super) fn read_resource(&self, ctx: &Context<'_>, params: Option<&RawValue>) -> Response {
        let params: UriParams<'_> = match parse_params("resources/read", params) {
            Ok(params) => params,
            Err(response) => return response,
        };
        let uri = &*params.uri;
        if let Some(file) = self.skill_files.get(uri) {
            let contents = vec![file.content()];
            return Response::ok(serde_json::to_vec(&ReadResult { contents }).unwrap_or_default());
        }
        let Some((common, variables)) = self.find_resource(uri) else {
            return Response::protocol(&ProtocolError::resource_not_found(uri));
        };
        let request = ResourceRequest {
            uri,
            mime_type: common.mime_type,
            variables,
        };
        let what = || format!("resource \"{}\"", common.name);
        run(ctx, what, || {
            let contents = (common.handler)(ctx, &request)?;
            Ok(ReadResult { contents })
        })
    }

    /// Answers `{}` when the plugin lets clients subscribe and serves the URI.
    pub(super) fn subscribe(&self, method: &str, params: Option<&RawValue>) -> Response {
        if !self.plugin.subscribe {
            return Response::error(METHOD_NOT_FOUND, format!("Method not found: {method}"));
        }
        let params: UriParams<'_> = match parse_params(method, params) {
            Ok(params) => params,
            Err(response) => return response,
        };
        let skill_file = self.skill_files.contains_key(&*params.uri);
        match self.find_resource(&params.uri) {
            _ if skill_file => Response::ok(b"{}".to_vec()),
            Some(_) => Response::ok(b"{}".to_vec()),
            None => Response::protocol(&ProtocolError::resource_not_found(&params.uri)),
        }
    }

    /// The resource or template serving `uri`, with the template's variables.
    fn find_resource(&self, uri: &str) -> Option<(&Common, Map<String, serde_json::Value>)> {
        if let Some(&index) = self.resources.get(uri) {
            return Some((&self.plugin.resources[index].common, Map::new()));
        }
        let templates = self.templates.iter().zip(&self.plugin.resource_templates);
        templates
            .filter_map(|(parsed, template)| Some((&template.common, parsed.match_uri(uri)?)))
            .map(|(common, variables)| {
                let variables = variables
                    .into_iter()
                    .map(|(name, value)| (name, value.into()));
                (common, variables.collect())
            })
            .next()
    }
}
