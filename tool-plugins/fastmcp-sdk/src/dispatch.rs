//! Serving requests: the [`Registry`] built once per load (the plugin, its cached manifest,
//! indexes) and the dispatch of one request by method. `tools/call` is served here; the other
//! methods in `dispatch/` (`resources`, `prompts`, `completions`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use fastmcp_abi::{HostContext, STATUS_ERROR, STATUS_INPUT_REQUIRED, STATUS_OK, STATUS_PANIC};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;

use crate::error::code::{INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND};
use crate::shim::{drop_payload, panic_message};
use crate::tool::{Handler, Run};
use crate::{Context, Plugin, ProtocolError, ToolDef, manifest};
use fastmcp_abi::uri_template::UriTemplate;

#[cfg(feature = "async")]
mod async_tools;
mod completions;
mod envelope;
mod prompts;
mod resources;

use envelope::{CallToolParams, Params};

/// A loaded plugin: its definition plus what every request needs, computed once.
#[doc(hidden)]
#[derive(Debug)]
pub struct Registry {
    /// First, so it is dropped first: `unload` stops the runtime (completing its calls) before
    /// the rest goes.
    #[cfg(feature = "async")]
    runtime: crate::runtime::AsyncRuntime,
    plugin: Plugin,
    manifest: Box<[u8]>,
    tools: Index,
    resources: Index,
    /// The parsed templates, in the plugin's order (the first match serves a URI).
    templates: Vec<UriTemplate>,
    prompts: Index,
    /// The files of the plugin's skills by URI, read from the embedded bytes.
    skill_files: rustc_hash::FxHashMap<&'static str, &'static crate::SkillFile>,
    /// The names of each prompt's required arguments, checked before its function runs.
    required_arguments: Vec<Vec<String>>,
}

/// Names to positions. The names are the plugin's own, fixed at load, so a fast non-keyed
/// hash is safe here: SipHash (the default, resistant to chosen keys) was a tenth of the SDK's
/// work on a short tool call.
type Index = rustc_hash::FxHashMap<&'static str, usize>;

/// The bytes reserved for a result before it is serialized.
const RESULT_CAPACITY: usize = 256;

/// A status and the JSON body that goes with it (empty for `STATUS_INPUT_REQUIRED`).
#[derive(Debug)]
pub(crate) struct Response {
    pub status: i32,
    pub body: Vec<u8>,
}

impl Registry {
    /// Builds the manifest and the indexes.
    ///
    /// # Panics
    /// If the manifest is invalid (see `manifest::build`).
    pub fn new(plugin: Plugin) -> Self {
        let prompt_arguments: Vec<_> = plugin.prompts.iter().map(|p| (p.arguments)()).collect();
        let manifest = manifest::build(&plugin, &prompt_arguments).into_boxed_slice();
        let tools = plugin
            .tools
            .iter()
            .enumerate()
            .map(|(i, tool)| (tool.name, i))
            .collect();
        let resources = plugin.resources.iter().enumerate();
        let resources = resources.map(|(i, resource)| (resource.uri, i)).collect();
        let templates = plugin.resource_templates.iter().map(|template| {
            UriTemplate::parse(template.uri_template).expect("checked by the manifest")
        });
        let prompts = plugin.prompts.iter().enumerate();
        let prompts = prompts.map(|(i, prompt)| (prompt.name, i)).collect();
        let required_arguments = prompt_arguments.into_iter().map(|arguments| {
            let required = arguments.into_iter().filter(|a| a.required);
            required.map(|a| a.name).collect()
        });
        let skill_files = plugin.skills.iter().flat_map(|skill| skill.files);
        let skill_files = skill_files.map(|file| (file.uri, file)).collect();
        Self {
            #[cfg(feature = "async")]
            runtime: crate::runtime::AsyncRuntime::new(plugin.name),
            skill_files,
            templates: templates.collect(),
            required_arguments: required_arguments.collect(),
            plugin,
            manifest,
            tools,
            resources,
            prompts,
        }
    }

    /// The manifest JSON.
    pub(crate) fn manifest(&self) -> &[u8] {
        &self.manifest
    }

    /// Serves one request (`{"method", "params", "context"}`).
    ///
    /// # Safety
    /// A non-null `host` must be valid, with working callbacks, until this returns.
    pub(crate) unsafe fn handle(&self, host: *const HostContext, request: &[u8]) -> Response {
        let request = match envelope::parse(request) {
            Ok(request) => request,
            Err(error) => {
                return Response::invalid_request(error);
            }
        };
        let context = request.context.map(|c| c.get().as_bytes());
        if request.method == "tools/call" {
            // SAFETY: the caller guarantees `host` until this returns.
            return unsafe { self.call_tool(host, context, request.params) };
        }
        // SAFETY: the caller guarantees `host`; `ctx` is dropped before this returns.
        let ctx = unsafe { Context::new(host, self.plugin.name, context) };
        #[cfg(feature = "async")]
        let ctx = ctx.with_runtime(&self.runtime);
        let params = request.params.raw();
        match &*request.method {
            "resources/read" => self.read_resource(&ctx, params),
            "resources/subscribe" | "resources/unsubscribe" => {
                self.subscribe(&request.method, params)
            }
            "prompts/get" => self.get_prompt(&ctx, params),
            "completion/complete" => self.complete(&ctx, params),
            method => Response::error(METHOD_NOT_FOUND, format!("Method not found: {method}")),
        }
    }

    /// Serves one `tools/call` whose parts the host located (`PluginTable::call_tool`):
    /// `arguments` is the raw JSON of the arguments, if any, `context` that of the context.
    ///
    /// # Safety
    /// As [`Registry::handle`].
    pub(crate) unsafe fn handle_tool(
        &self,
        host: *const HostContext,
        name: &str,
        arguments: Option<&str>,
        context: Option<&[u8]>,
    ) -> Response {
        // SAFETY: the caller guarantees `host`.
        unsafe { self.run_tool(host, context, name, arguments) }
    }

    fn tool(&self, name: &str) -> Option<&ToolDef> {
        self.tools.get(name).map(|&i| &self.plugin.tools[i])
    }

    /// # Safety
    /// As [`Registry::handle`].
    unsafe fn call_tool(
        &self,
        host: *const HostContext,
        context: Option<&[u8]>,
        params: Params<'_>,
    ) -> Response {
        let params: CallToolParams<'_> = match params {
            Params::Call(params) => params,
            Params::Raw(raw) => match parse_params("tools/call", raw) {
                Ok(params) => params,
                Err(response) => return response,
            },
        };
        let arguments = params.arguments.map(RawValue::get);
        // SAFETY: the caller guarantees `host`.
        unsafe { self.run_tool(host, context, &params.name, arguments) }
    }

    /// Runs the tool `name` (a protocol error if there is none) and turns what it returned,
    /// or its panic, into the response. An async tool runs to its end here, on the runtime's
    /// `block_on` (a host without `start_tool`, or `TestHost::call_tool`).
    ///
    /// # Safety
    /// As [`Registry::handle`].
    unsafe fn run_tool(
        &self,
        host: *const HostContext,
        context: Option<&[u8]>,
        name: &str,
        arguments: Option<&str>,
    ) -> Response {
        let Some(tool) = self.tool(name) else {
            return Response::error(INVALID_PARAMS, format!("Unknown tool: {name}"));
        };
        match tool.run {
            Run::Sync(handler) => {
                // SAFETY: the caller guarantees `host`; `ctx` is dropped before this returns.
                let ctx = unsafe { Context::new(host, self.plugin.name, context) };
                run_sync(&ctx, tool.name, handler, arguments)
            }
            #[cfg(feature = "async")]
            Run::Async(handler) => {
                // SAFETY: the caller guarantees `host`.
                unsafe { self.block_on(tool.name, handler, host, context, arguments) }
            }
        }
    }
}

/// Runs a plain tool's handler.
fn run_sync(ctx: &Context<'_>, tool: &str, handler: Handler, arguments: Option<&str>) -> Response {
    match catch_unwind(AssertUnwindSafe(|| handler(ctx, arguments))) {
        Err(payload) => {
            let message = format!("tool \"{tool}\" panicked: {}", panic_message(&*payload));
            drop_payload(payload);
            Response::panic(message)
        }
        Ok(_) if ctx.input_required() => Response {
            status: STATUS_INPUT_REQUIRED,
            body: Vec::new(),
        },
        Ok(result) => Response::json(&result),
    }
}

/// Parses a method's params (absent ones as `null`); the error is the response to send.
fn parse_params<'a, T: Deserialize<'a>>(
    method: &str,
    params: Option<&'a RawValue>,
) -> Result<T, Response> {
    serde_json::from_str(params.map_or("null", RawValue::get)).map_err(|error| {
        Response::error(
            INVALID_PARAMS,
            format!("Invalid params for {method}: {error}"),
        )
    })
}

/// Runs a resource, prompt or completion function: a panic becomes `STATUS_PANIC` with
/// `what` ("prompt \"p\"") in the message, a request that needs input `STATUS_INPUT_REQUIRED`,
/// an error the protocol error object.
fn run<T: Serialize>(
    ctx: &Context<'_>,
    what: impl FnOnce() -> String,
    function: impl FnOnce() -> Result<T, ProtocolError>,
) -> Response {
    match catch_unwind(AssertUnwindSafe(function)) {
        Err(payload) => {
            let message = format!("{} panicked: {}", what(), panic_message(&*payload));
            drop_payload(payload);
            Response::panic(message)
        }
        Ok(_) if ctx.input_required() => Response {
            status: STATUS_INPUT_REQUIRED,
            body: Vec::new(),
        },
        Ok(Ok(value)) => Response::json(&value),
        Ok(Err(error)) => Response::protocol(&error),
    }
}

impl Response {
    pub(crate) fn ok(body: Vec<u8>) -> Self {
        Self {
            status: STATUS_OK,
            body,
        }
    }

    pub(crate) fn json(value: &impl Serialize) -> Self {
        // Room for a short result up front: growing from empty reallocated it three times.
        let mut body = Vec::with_capacity(RESULT_CAPACITY);
        match serde_json::to_writer(&mut body, value) {
            Ok(()) => Self::ok(body),
            Err(error) => Self::error(
                INTERNAL_ERROR,
                format!("could not serialize the result: {error}"),
            ),
        }
    }

    /// A request the host should never have sent (broken envelope, broken `ToolCall`).
    pub(crate) fn invalid_request(reason: String) -> Self {
        Self::error(INVALID_REQUEST, format!("Invalid request: {reason}"))
    }

    fn error(code: i64, message: String) -> Self {
        let body = json!({"code": code, "message": message})
            .to_string()
            .into_bytes();
        Self {
            status: STATUS_ERROR,
            body,
        }
    }

    fn protocol(error: &ProtocolError) -> Self {
        match serde_json::to_vec(error) {
            Ok(body) => Self {
                status: STATUS_ERROR,
                body,
            },
            Err(_) => Self::error(error.code(), error.message().to_owned()),
        }
    }

    pub(crate) fn panic(message: String) -> Self {
        let body = json!({"message": message}).to_string().into_bytes();
        Self {
            status: STATUS_PANIC,
            body,
        }
    }
}
