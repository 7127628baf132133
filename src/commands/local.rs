//! One MCP request to one plugin without a server: what `call`, `read`, `prompt` and
//! `complete` send.
//!
//! The request goes through the host's [`Service`], the same path as over HTTP and stdio, so
//! the plugin sees the same parameters and its reply gets the same checks. The caller is
//! `local`, holding every scope the plugin's tools ask for: whoever runs the command owns the
//! plugin, and access rules never hide anything from them.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rmcp::model::RequestId;
use serde_json::value::to_raw_value;
use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::cli::{CompleteArgs, PromptArgs, ReadArgs};
use crate::config::ConfigError;
use crate::mcp::SessionStore;
use crate::mcp::mrtr::Mrtr;
use crate::mcp::protocol::LATEST_HANDSHAKE;
use crate::mcp::service::{RequestCtx, Service, ServiceOptions, Stores};
use crate::mcp::state::{ProtocolState, RequestState};
use crate::plugin::{PluginError, Registry, Slot};

/// Why a one-shot request printed no result.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The plugin could not be built or loaded.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The server side refused the request (unknown name, bad arguments, a plugin error).
    #[error("{method} failed: {message} (JSON-RPC error {code})")]
    Refused {
        /// The MCP method sent.
        method: &'static str,
        /// The JSON-RPC error code.
        code: i64,
        /// The error's message.
        message: String,
    },
}

/// A validated `read`, `prompt` or `complete` command line.
#[derive(Debug, Clone, PartialEq)]
pub enum LocalRequest {
    /// `resources/read` of one URI.
    Read {
        /// The resource URI.
        uri: String,
    },
    /// `prompts/get` with its arguments.
    Prompt {
        /// The prompt's name.
        name: String,
        /// Its arguments (strings, as MCP wants them).
        arguments: Map<String, Value>,
    },
    /// `completion/complete` of one argument.
    Complete {
        /// `{"type": "ref/prompt", "name"}` or `{"type": "ref/resource", "uri"}`.
        reference: Value,
        /// The argument being completed.
        argument: String,
        /// What has been typed so far.
        value: String,
        /// The other arguments' values, if given.
        context: Option<Map<String, Value>>,
    },
}

impl LocalRequest {
    /// `fastmcp read PLUGIN URI`.
    pub fn read(args: &ReadArgs) -> LocalRequest {
        LocalRequest::Read {
            uri: args.uri.clone(),
        }
    }

    /// `fastmcp prompt PLUGIN NAME --args JSON`; `--args` must be an object of strings.
    pub fn prompt(args: &PromptArgs) -> Result<LocalRequest, ConfigError> {
        Ok(LocalRequest::Prompt {
            name: args.name.clone(),
            arguments: string_object("--args", &args.args)?,
        })
    }

    /// `fastmcp complete PLUGIN (--prompt NAME | --template URI) ARGUMENT [VALUE]`.
    pub fn complete(args: &CompleteArgs) -> Result<LocalRequest, ConfigError> {
        let reference = match (&args.prompt, &args.template) {
            (Some(name), None) => json!({"type": "ref/prompt", "name": name}),
            (None, Some(uri)) => json!({"type": "ref/resource", "uri": uri}),
            // clap's group already refuses these; the message is for callers other than main.
            _ => {
                return Err(ConfigError::invalid(
                    "--prompt/--template",
                    "",
                    "give exactly one of --prompt NAME or --template URI_TEMPLATE",
                ));
            }
        };
        let context = args
            .context
            .as_deref()
            .map(|c| string_object("--context", c))
            .transpose()?;
        Ok(LocalRequest::Complete {
            reference,
            argument: args.argument.clone(),
            value: args.value.clone(),
            context,
        })
    }

    /// The MCP method and its params.
    fn method_and_params(&self) -> (&'static str, Value) {
        match self {
            LocalRequest::Read { uri } => ("resources/read", json!({"uri": uri})),
            LocalRequest::Prompt { name, arguments } => {
                ("prompts/get", json!({"name": name, "arguments": arguments}))
            }
            LocalRequest::Complete {
                reference,
                argument,
                value,
                context,
            } => {
                let mut params = json!({
                    "ref": reference,
                    "argument": {"name": argument, "value": value},
                });
                if let Some(arguments) = context {
                    params["context"] = json!({"arguments": arguments});
                }
                ("completion/complete", params)
            }
        }
    }
}

/// A JSON object whose values are all strings (prompt arguments and completion context).
fn string_object(flag: &str, text: &str) -> Result<Map<String, Value>, ConfigError> {
    let map = match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return Err(ConfigError::invalid(
                flag,
                text,
                r#"expected a JSON object of strings like {"name": "value"}"#,
            ));
        }
        Err(e) => {
            return Err(ConfigError::invalid(
                flag,
                text,
                format!("not valid JSON: {e}"),
            ));
        }
    };
    if let Some((key, _)) = map.iter().find(|(_, v)| !v.is_string()) {
        return Err(ConfigError::invalid(
            flag,
            text,
            format!("the value of `{key}` is not a string (MCP passes these as strings)"),
        ));
    }
    Ok(map)
}

/// Sends `request` to the plugin built from or at `plugin` and returns the result JSON.
/// Blocking.
pub fn run(plugin: &Path, profile: &str, request: &LocalRequest) -> Result<Value, RequestError> {
    let (method, params) = request.method_and_params();
    let call = super::Call {
        plugin,
        profile,
        isolation: &crate::plugin::isolate::Isolation::None,
    };
    let reply = send(&call, method, params)?;
    match (reply.get("result"), reply.get("error")) {
        (Some(result), _) => Ok(result.clone()),
        (None, error) => Err(RequestError::Refused {
            method,
            code: error.and_then(|e| e["code"].as_i64()).unwrap_or(0),
            message: error
                .and_then(|e| e["message"].as_str())
                .unwrap_or("no reply")
                .to_string(),
        }),
    }
}

/// Loads the plugin and sends one request through a stateless service over it, with no
/// inline calls (nothing of the plugin runs on this thread). Returns the JSON-RPC reply.
/// Blocking.
pub(crate) fn send(
    call: &super::Call<'_>,
    method: &str,
    params: Value,
) -> Result<Value, PluginError> {
    let plugin = call.plugin;
    let library = super::library_of(plugin, call.profile)?;
    let isolation = call.isolation.clone();
    let registry = Arc::new(Registry::new(1).with_isolation(isolation, Default::default()));
    registry.load_all(vec![Slot::new(plugin.display().to_string(), library)])?;
    let caller = local_caller(&registry);
    let options = ServiceOptions {
        stateless: true,
        tool_timeout: CALL_TIMEOUT,
        inline_tools: false,
        metrics: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PluginError::Runtime)?;
    Ok(runtime.block_on(async {
        let stores = Stores {
            sessions: SessionStore::new(crate::config::DEFAULT_MAX_SESSIONS),
            tasks: Arc::default(),
            mrtr: Mrtr::new(None),
        };
        let service = Service::new(registry, options, stores);
        let ctx = RequestCtx {
            protocol: ProtocolState::Request(RequestState::handshake(LATEST_HANDSHAKE)),
            outbound: None,
            cancel: Arc::new(AtomicBool::new(false)),
            caller: Some(caller),
        };
        let params = to_raw_value(&params).ok();
        let id = RequestId::Number(1);
        let response = service
            .handle_request(&id, method, params.as_deref(), &ctx)
            .await
            .response;
        serde_json::from_str::<Value>(&response).unwrap_or(Value::Null)
    }))
}

/// The caller `local`, holding every scope the plugin's tools ask for.
fn local_caller(registry: &Registry) -> Caller {
    let mut scopes: Vec<String> = registry
        .catalog()
        .tools
        .iter()
        .flat_map(|(_, t)| t.access.scopes.iter().cloned())
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    Caller {
        id: "local".into(),
        scopes,
    }
}

/// How long a one-shot request lets the plugin run: there is nobody to hand a timeout error
/// to but the user, who can press Ctrl-C.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_arguments_must_be_strings() {
        let ok = string_object("--args", r#"{"city": "Paris"}"#).unwrap();
        assert_eq!(ok["city"], "Paris");
        let err = string_object("--args", r#"{"n": 1}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--args") && err.contains("`n` is not a string"),
            "{err}"
        );
        let err = string_object("--context", "[1]").unwrap_err().to_string();
        assert!(
            err.contains("--context") && err.contains("JSON object"),
            "{err}"
        );
        let err = string_object("--args", "{").unwrap_err().to_string();
        assert!(err.contains("not valid JSON"), "{err}");
    }

    #[test]
    fn complete_params_follow_the_spec() {
        let request = LocalRequest::Complete {
            reference: json!({"type": "ref/prompt", "name": "p"}),
            argument: "arg1".into(),
            value: "pa".into(),
            context: Some(Map::from_iter([("arg2".into(), json!("x"))])),
        };
        let (method, params) = request.method_and_params();
        assert_eq!(method, "completion/complete");
        assert_eq!(
            params,
            json!({
                "ref": {"type": "ref/prompt", "name": "p"},
                "argument": {"name": "arg1", "value": "pa"},
                "context": {"arguments": {"arg2": "x"}},
            })
        );
    }
}
