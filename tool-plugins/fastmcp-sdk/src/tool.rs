//! [`ToolDef`]: everything the host needs to list and call one tool, and the helpers the
//! `#[tool]` attribute's generated code calls (argument parsing, schemas).

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Context, IntoToolResult, ToolResult};

/// The function that serves a tool: parses the raw JSON text of the `arguments` (absent when
/// the client sent none), runs the tool, and converts what it returned. The text is what the
/// host located and is not checked before: the handler's own parse reports JSON that is not
/// valid, so the arguments are read once.
pub type Handler = for<'c, 'h, 'r> fn(&'c Context<'h>, Option<&'r str>) -> ToolResult;

/// How a tool's calls run: its handler, plain or async.
#[derive(Clone, Copy)]
pub(crate) enum Run {
    /// Called on the thread that serves the call.
    Sync(Handler),
    /// Builds the call's future, which runs on the plugin's async runtime (`runtime`).
    #[cfg(feature = "async")]
    Async(crate::AsyncHandler),
}

/// One tool as the plugin declares it. `#[tool]` builds these; you rarely write one by hand.
#[derive(Clone)]
pub struct ToolDef {
    pub(crate) name: &'static str,
    pub(crate) title: Option<&'static str>,
    pub(crate) description: Option<&'static str>,
    pub(crate) input_schema: fn() -> Value,
    pub(crate) output_schema: fn() -> Option<Value>,
    pub(crate) annotations: ToolAnnotations,
    pub(crate) access: ToolAccess,
    pub(crate) execution: Execution,
    pub(crate) task_support: TaskSupport,
    pub(crate) input_before_task: bool,
    pub(crate) run: Run,
}

/// Whether a client may run the tool as a task: a long call that answers at once with a task
/// id, then is polled (MCP `execution.taskSupport`; the manifest's `taskSupport`).
/// `#[tool(task = "optional")]` or `#[tool(task = "required")]` sets it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TaskSupport {
    /// Never as a task (the default).
    #[default]
    Forbidden,
    /// As a task or as a plain call, as the client asks.
    Optional,
    /// Only as a task: a plain call is refused.
    Required,
}

impl TaskSupport {
    /// The manifest's spelling, `None` for the default.
    pub(crate) fn manifest_value(self) -> Option<&'static str> {
        match self {
            TaskSupport::Forbidden => None,
            TaskSupport::Optional => Some("optional"),
            TaskSupport::Required => Some("required"),
        }
    }
}

/// Where the host may run a tool's calls (the manifest's `execution`, `docs/abi.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Execution {
    /// On one of the plugin's own worker threads: the tool may block, take long, report
    /// progress, be cancelled and ask the client things. The default for hand-built tools.
    #[default]
    Worker,
    /// Directly on the thread that read the request, with no hand-off: for short, pure
    /// functions. Such a tool gets no useful [`Context`] (no progress, cancellation or client
    /// requests) and must not block or keep thread-local state with a destructor. The host
    /// moves a tool whose inline calls block or are often slow to the worker threads.
    /// `#[tool]` picks it for functions without a `Context` parameter unless `blocking` is set.
    Inline,
    /// A tool with a [`Context`] that is as short as an inline one and never waits
    /// (`#[tool(inline)]`): the host may run it inline where its context cannot block (stateless
    /// requests). There its progress and log messages are collected and sent before the result,
    /// requests to the client are unsupported (as in stateless mode anyway), and the call cannot
    /// be cancelled or timed out. Elsewhere it runs on the worker threads. Hosts before this
    /// variant always run it on the worker threads.
    InlineContext,
}

/// Hints about a tool's behaviour, for clients (MCP `ToolAnnotations`); `None` leaves a hint out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// The tool does not change its environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may destroy or overwrite things (meaningful when not read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling it again with the same arguments has no further effect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool talks to an open world of external entities (the web, other services).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

impl ToolAnnotations {
    pub(crate) fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Who may see and call a tool: the manifest's `access` object, enforced by the host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ToolAccess {
    /// Only authenticated callers may use the tool.
    pub authenticated: bool,
    /// Scopes the caller must all hold (implies `authenticated`).
    pub scopes: &'static [&'static str],
}

impl ToolDef {
    /// A tool with this name and handler, no description, an empty object input schema and no
    /// output schema.
    pub fn new(name: &'static str, handler: Handler) -> Self {
        Self::with_run(name, Run::Sync(handler))
    }

    /// An async tool (`#[tool] async fn`): each call's future runs on the plugin's async
    /// runtime, and the host awaits it without holding a thread (`docs/abi.md`, "Async tool
    /// calls"). The execution setting does not apply to it.
    #[cfg(feature = "async")]
    pub fn new_async(name: &'static str, handler: crate::AsyncHandler) -> Self {
        Self::with_run(name, Run::Async(handler))
    }

    fn with_run(name: &'static str, run: Run) -> Self {
        Self {
            name,
            title: None,
            description: None,
            input_schema: empty_object_schema,
            output_schema: || None,
            annotations: ToolAnnotations::default(),
            access: ToolAccess::default(),
            execution: Execution::default(),
            task_support: TaskSupport::default(),
            input_before_task: false,
            run,
        }
    }

    /// Sets where the host may run the tool's calls.
    pub fn with_execution(mut self, execution: Execution) -> Self {
        self.execution = execution;
        self
    }

    /// Sets whether the tool may run as a task (`docs/plugin-authoring.md`, "Tasks").
    pub fn with_task_support(mut self, task_support: TaskSupport) -> Self {
        self.task_support = task_support;
        self
    }

    /// With the 2026-07-28 tasks extension: the first call runs as a plain call, so that the
    /// tool's questions to the client are answered (multi round-trip) before a task exists;
    /// the retry that brings the answers becomes the task. For tools that ask before they
    /// work (`#[tool(task = "...", input_before_task)]`).
    pub fn with_input_before_task(mut self, input_before_task: bool) -> Self {
        self.input_before_task = input_before_task;
        self
    }

    /// Sets the human-readable title.
    pub fn with_title(mut self, title: &'static str) -> Self {
        self.title = Some(title);
        self
    }

    /// Sets the description shown to the model.
    pub fn with_description(mut self, description: &'static str) -> Self {
        self.description = Some(description);
        self
    }

    /// Sets the function producing the input JSON Schema (called once, for the manifest).
    pub fn with_input_schema(mut self, schema: fn() -> Value) -> Self {
        self.input_schema = schema;
        self
    }

    /// Sets the function producing the output JSON Schema, if the tool has structured output.
    pub fn with_output_schema(mut self, schema: fn() -> Option<Value>) -> Self {
        self.output_schema = schema;
        self
    }

    /// Sets the behaviour hints.
    pub fn with_annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.annotations = annotations;
        self
    }

    /// Sets who may see and call the tool.
    pub fn with_access(mut self, access: ToolAccess) -> Self {
        self.access = access;
        self
    }

    /// The tool's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether the tool is async (its calls run on the plugin's async runtime).
    pub fn is_async(&self) -> bool {
        !matches!(self.run, Run::Sync(_))
    }
}

impl fmt::Debug for ToolDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolDef")
            .field("name", &self.name)
            .field("title", &self.title)
            .field("description", &self.description)
            .field("annotations", &self.annotations)
            .field("access", &self.access)
            .field("execution", &self.execution)
            .field("task_support", &self.task_support)
            .field("is_async", &self.is_async())
            .finish_non_exhaustive()
    }
}

/// Implemented by the hidden struct `#[tool]` puts beside each function; `export_plugin!` calls
/// it to collect the definitions.
#[doc(hidden)]
pub trait ToolItem {
    fn definition() -> ToolDef;
}

/// `{"type": "object", "properties": {}}`: the input schema of tools without arguments.
#[doc(hidden)]
pub fn empty_object_schema() -> Value {
    serde_json::json!({"type": "object", "properties": {}})
}

#[doc(hidden)]
pub fn invoke<R: IntoToolResult>(tool: impl FnOnce() -> R) -> ToolResult {
    tool().into_tool_result()
}

#[doc(hidden)]
pub fn invoke_ctx<R: IntoToolResult>(
    ctx: &Context<'_>,
    tool: impl FnOnce(&Context<'_>) -> R,
) -> ToolResult {
    tool(ctx).into_tool_result()
}

#[doc(hidden)]
pub fn invoke_args<T: DeserializeOwned, R: IntoToolResult>(
    name: &str,
    args: Option<&str>,
    tool: impl FnOnce(T) -> R,
) -> ToolResult {
    match parse_arguments(name, args) {
        Ok(args) => tool(args).into_tool_result(),
        Err(invalid) => invalid,
    }
}

#[doc(hidden)]
pub fn invoke_ctx_args<T: DeserializeOwned, R: IntoToolResult>(
    name: &str,
    ctx: &Context<'_>,
    args: Option<&str>,
    tool: impl FnOnce(&Context<'_>, T) -> R,
) -> ToolResult {
    match parse_arguments(name, args) {
        Ok(args) => tool(ctx, args).into_tool_result(),
        Err(invalid) => invalid,
    }
}

/// The arguments of an async tool, parsed as for a plain one; `Err` is the `isError` result.
#[doc(hidden)]
pub fn arguments<T: DeserializeOwned>(name: &str, args: Option<&str>) -> Result<T, ToolResult> {
    parse_arguments(name, args)
}

/// Deserializes a tool's arguments straight from the request bytes; missing arguments are
/// `{}`. On failure returns the `isError` result that names the argument and the reason.
fn parse_arguments<T: DeserializeOwned>(tool: &str, args: Option<&str>) -> Result<T, ToolResult> {
    let json = args.unwrap_or("{}");
    let invalid = |reason: &dyn fmt::Display| {
        ToolResult::error(format!("Invalid arguments for tool \"{tool}\": {reason}"))
    };
    // serde would also accept an array for a struct; MCP arguments are always an object.
    if !json.trim_start().starts_with('{') {
        return Err(invalid(&"expected an object"));
    }
    // The plain parse first: tracking the path costs as much again, and is only needed to
    // explain a failure, so a failed parse runs again with it.
    if let Ok(args) = serde_json::from_str(json) {
        return Ok(args);
    }
    let mut deserializer = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let mut reason = inner.to_string();
        // The position is within the arguments' JSON, which the client never sees as such.
        let position = format!(" at line {} column {}", inner.line(), inner.column());
        if let Some(stripped) = reason.strip_suffix(&position) {
            reason.truncate(stripped.len());
        }
        if path == "." {
            invalid(&reason)
        } else {
            invalid(&format_args!("{path}: {reason}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::input_schema;
    use schemars::JsonSchema;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    enum Operation {
        Add,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Args {
        /// The operation
        #[allow(dead_code)]
        operation: Operation,
        a: f64,
        #[serde(default)]
        steps: Option<u32>,
    }

    fn parse(json: Option<&str>) -> Result<Args, String> {
        parse_arguments::<Args>("calc", json).map_err(|result| {
            assert!(result.is_error());
            result.content()[0].as_text().unwrap().to_owned()
        })
    }

    #[test]
    fn parses_good_arguments() {
        let args = parse(Some(r#"{"operation": "add", "a": 2, "extra": true}"#)).unwrap();
        assert_eq!((args.a, args.steps), (2.0, None));
    }

    #[test]
    fn invalid_arguments_name_the_argument_and_the_reason() {
        let error = parse(Some(r#"{"operation": "modulo", "a": 1}"#)).unwrap_err();
        assert_eq!(
            error,
            "Invalid arguments for tool \"calc\": operation: unknown variant `modulo`, \
             expected `add`"
        );
        let error = parse(Some(r#"{"operation": "add", "a": "x"}"#)).unwrap_err();
        assert_eq!(
            error,
            "Invalid arguments for tool \"calc\": a: invalid type: string \"x\", expected f64"
        );
        let error = parse(Some(r#"{"operation": "add"}"#)).unwrap_err();
        assert_eq!(
            error,
            "Invalid arguments for tool \"calc\": missing field `a`"
        );
        let error = parse(None).unwrap_err();
        assert_eq!(
            error,
            "Invalid arguments for tool \"calc\": missing field `operation`"
        );
        let error = parse(Some("[1, 2]")).unwrap_err();
        assert_eq!(
            error,
            "Invalid arguments for tool \"calc\": expected an object"
        );
    }

    #[test]
    fn input_schemas_are_2020_12_objects_with_field_docs() {
        let schema = input_schema::<Args>();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["type"], "object");
        assert_eq!(
            schema["properties"]["operation"]["description"],
            "The operation"
        );
        assert_eq!(schema["required"], serde_json::json!(["operation", "a"]));
        assert_eq!(
            schema["properties"]["operation"]["enum"],
            serde_json::json!(["add"])
        );
    }
}
