//! Write MCP tools as plain Rust functions; build them into a `cdylib` that the `fastmcp`
//! dev server loads, serves and hot-reloads.
//!
//! # Example
//! A plugin crate has `crate-type = ["cdylib"]` and depends on `fastmcp-sdk` and `serde`
//! (serde's derives expand to paths into `serde`):
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! fastmcp-sdk = "0.1"
//! serde = { version = "1", features = ["derive"] }
//! ```
//!
//! `fastmcp new NAME` writes such a crate, with tests, a README and a Dockerfile. An unreleased
//! SDK is a git dependency (`{ git = "https://github.com/fastmcp-rs/fastmcp" }`) or a path into
//! a fastmcp checkout (`{ path = "../fastmcp/tool-plugins/fastmcp-sdk" }`).
//!
//! ```
//! use fastmcp_sdk::prelude::*;
//!
//! #[derive(Deserialize, JsonSchema)]
//! #[serde(rename_all = "lowercase")]
//! pub enum Operation { Add, Subtract, Multiply, Divide }
//!
//! #[derive(Deserialize, JsonSchema)]
//! pub struct CalculateArgs {
//!     /// The operation to perform
//!     pub operation: Operation,
//!     /// The first operand
//!     pub a: f64,
//!     /// The second operand
//!     pub b: f64,
//! }
//!
//! /// Perform a calculation
//! #[tool(read_only, idempotent, open_world = false)]
//! fn calculate(args: CalculateArgs) -> String {
//!     let result = match args.operation {
//!         Operation::Add => args.a + args.b,
//!         Operation::Subtract => args.a - args.b,
//!         Operation::Multiply => args.a * args.b,
//!         Operation::Divide => args.a / args.b,
//!     };
//!     format!("Result: {result}")
//! }
//!
//! #[derive(Deserialize, JsonSchema)]
//! pub struct SleepArgs {
//!     /// How long to sleep, in milliseconds
//!     pub ms: u64,
//! }
//!
//! /// Sleeps, reporting progress
//! #[tool(name = "sleep", title = "Sleep")]
//! fn sleep_tool(ctx: &Context, args: SleepArgs) -> Result<String, ToolError> {
//!     for step in 1..=10 {
//!         if ctx.is_cancelled() {
//!             return Err(ToolError::new("cancelled"));
//!         }
//!         std::thread::sleep(std::time::Duration::from_millis(args.ms / 10));
//!         ctx.progress(f64::from(step), Some(10.0), None);
//!     }
//!     Ok(format!("slept {} ms", args.ms))
//! }
//!
//! fastmcp_sdk::export_plugin! {
//!     name: "calculator",
//!     version: env!("CARGO_PKG_VERSION"),
//!     tools: [calculate, sleep_tool],
//! }
//! # fn main() {
//! # let host = fastmcp_sdk::testing::TestHost::new(fastmcp_plugin_entry);
//! # let reply = host.call_tool("calculate", json!({"operation": "add", "a": 2, "b": 3}));
//! # assert_eq!(reply.text(), "Result: 5");
//! # assert_eq!(host.call_tool("sleep", json!({"ms": 10})).text(), "slept 10 ms");
//! # }
//! ```
//!
//! `cargo build --release` then gives `target/release/libcalculator.so` (`.dylib` on macOS).
//!
//! # Tools
//! [`#[tool]`](macro@tool) turns a function into a tool. The function takes nothing, the call's
//! [`Context`], its arguments (one type implementing `Deserialize` and `JsonSchema`; field doc
//! comments become the schema's descriptions), or both, in the order `(ctx, args)`. It returns
//! anything implementing [`IntoToolResult`]: text, [`Content`] blocks, a [`ToolResult`],
//! structured output with [`Json`], or a `Result` of those whose `Err` becomes an `isError`
//! result.
//!
//! Arguments that do not match the type are answered with an `isError` result naming the
//! argument and the reason, without calling the function. A panic is caught and reported;
//! the plugin keeps serving.
//!
//! [`Context`] reports progress, sends log messages, tells whether the call was cancelled, who
//! is calling, and sends requests to the client (sampling, elicitation, roots).
//!
//! [`testing::TestHost`] calls a plugin in-process the way the server does, for unit tests.
//!
//! # How a tool's calls run
//! - `#[tool] async fn`: on the plugin's async runtime (below). For I/O: HTTP clients,
//!   databases, timers. Thousands of calls can wait at once on a few threads.
//! - `#[tool] fn` with a [`Context`], or `#[tool(blocking)] fn`: on the plugin's worker threads,
//!   one thread per running call (a bounded pool). For work that blocks or computes.
//! - `#[tool] fn` without a `Context` ([`Execution::Inline`]): on the server's own I/O thread,
//!   with no hand-off. Only for short, pure functions; such a tool must not block and must not
//!   keep a `thread_local!` value with a destructor (it would keep the library mapped after a
//!   reload).
//!
//! # Async tools
//! An `async fn` tool takes the same parameters and returns the same types as a plain one.
//! Each call's future runs on a tokio multi-thread runtime that belongs to the plugin: its
//! threads are named `<plugin>-rt` (as many as the machine has cores, at most 4), it has tokio's
//! I/O and time drivers, so tokio-based crates (reqwest, hyper, sqlx, redis) work inside a tool,
//! and [`tokio`] is re-exported for `tokio::time::sleep` and friends. The runtime starts when
//! the server loads a plugin that has async tools, and stops when the plugin is unloaded: every
//! call still running is dropped, and every runtime thread joined, before the library goes.
//!
//! A server with ABI 1.2 starts such a call without holding a thread of its own and is told when
//! it ends. A cancelled call (the client cancelled or went away, the call timed out) is dropped
//! at its next `.await`: its destructors run, nothing after that await does. An older server
//! calls it like a plain tool on its worker thread, which then runs the future to its end (or
//! until the call is cancelled).
//!
//! The future must be `Send`: hold nothing that is not (`Rc`, a `std::sync::MutexGuard`) across
//! an `.await`. The [`Context`] may be held: it is `Send` and `Sync`. [`Context::request`] and
//! the requests built on it (sampling, elicitation, roots) block until the client answers; the
//! runtime moves its other tasks off the thread meanwhile, but the call holds one runtime thread
//! while it waits. [`Context::cancelled`] resolves when the call is cancelled. Do not block in
//! an async tool otherwise (`std::thread::sleep`, blocking file or network I/O): use the async
//! versions, or `tokio::task::spawn_blocking`.
//!
//! The runtime needs the `async` cargo feature, on by default. A plugin without async tools may
//! turn it off (`default-features = false`) to build without tokio; an `async fn` tool is then
//! a compile error that says so.
//!
//! # Resources, prompts and completions
//! The rest of MCP works the same way: a plain function, its doc comment as the description,
//! and one more list in [`export_plugin!`].
//! - [`#[resource]`](macro@resource) serves a fixed URI; [`#[resource_template]`](macro@resource_template)
//!   serves every URI matching an RFC 6570 template, with the variables deserialized into the
//!   function's parameter type. They return text (`String`), bytes (`Vec<u8>`), or
//!   [`ResourceContent`]s ([`IntoResourceResult`]); `None` or an `Err` become protocol errors.
//! - [`#[prompt]`](macro@prompt) builds messages ([`PromptMessage`], [`PromptResult`]) from
//!   arguments whose type lists them in the manifest, with descriptions and which are required.
//! - [`#[completion]`](macro@completion) suggests values for a prompt's arguments or a
//!   template's variables.
//!
//! Each may be an `async fn`; its future runs to its end on the plugin's async runtime while the
//! worker thread serving the request waits for it.
//!
//! ```
//! use fastmcp_sdk::prelude::*;
//!
//! /// The greeting shown on the home page
//! #[resource(uri = "config://greeting", mime_type = "text/plain")]
//! fn greeting() -> &'static str {
//!     "Hello!"
//! }
//!
//! #[derive(Deserialize)]
//! struct UserParams {
//!     id: u32,
//! }
//!
//! /// A user's profile, as JSON
//! #[resource_template(uri_template = "users://{id}/profile", mime_type = "application/json")]
//! fn user_profile(params: UserParams) -> Option<String> {
//!     (params.id == 1).then(|| json!({"id": 1, "name": "Ada"}).to_string())
//! }
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct TripArgs {
//!     /// Where to go
//!     city: String,
//!     /// How many days (default 3)
//!     days: Option<u32>,
//! }
//!
//! /// Plans a trip
//! #[prompt(name = "plan_trip")]
//! fn plan_trip(args: TripArgs) -> Vec<PromptMessage> {
//!     let days = args.days.unwrap_or(3);
//!     vec![
//!         PromptMessage::user(format!("Plan {days} days in {}.", args.city)),
//!         PromptMessage::user(Content::resource_text("config://greeting", "text/plain", "Hello!")),
//!     ]
//! }
//!
//! /// Suggests cities
//! #[completion(prompt = "plan_trip", argument = "city")]
//! fn cities(request: CompletionRequest) -> Vec<String> {
//!     request.filter(["Paris", "Parma", "Oslo"])
//! }
//!
//! fastmcp_sdk::export_plugin! {
//!     name: "travel",
//!     version: "1.0.0",
//!     resources: [greeting],
//!     resource_templates: [user_profile],
//!     prompts: [plan_trip],
//!     completions: [cities],
//! }
//! # fn main() {
//! # let host = fastmcp_sdk::testing::TestHost::new(fastmcp_plugin_entry);
//! # let read = host.read_resource("users://1/profile");
//! # assert_eq!(read.body["contents"][0]["text"], r#"{"id":1,"name":"Ada"}"#);
//! # assert_eq!(host.read_resource("users://2/profile").body["code"], -32002);
//! # let prompt = host.get_prompt("plan_trip", json!({"city": "Oslo"}));
//! # assert_eq!(prompt.body["messages"][0]["content"]["text"], "Plan 3 days in Oslo.");
//! # let done = host.complete(json!({"type": "ref/prompt", "name": "plan_trip"}), "city", "par");
//! # assert_eq!(done.body["completion"]["values"], json!(["Paris", "Parma"]));
//! # }
//! ```
//!
//! # Staying reloadable
//! The server reloads a plugin when its library changes: calls in flight finish on the old
//! code, new calls go to the new code, and the old library is unloaded once its calls are done.
//! For that to be safe:
//! - Threads the plugin spawns must end before the call that spawned them returns (use
//!   [`std::thread::scope`]). A thread still running when the library is unloaded crashes the
//!   server.
//! - Global state (statics, `OnceLock`s, caches) does not survive a reload: the new library
//!   starts fresh. Keep state that must last outside the plugin (files, a database).
//! - Do not keep the [`Context`], or anything borrowed from it, after the call returns.
//! - Do not start an async runtime of your own in a static: write `#[tool] async fn` tools,
//!   which run on the SDK's runtime. Tasks a tool spawns on it (`tokio::spawn`) may outlive the
//!   call; they are dropped when the plugin is unloaded. Blocking work (`spawn_blocking`) still
//!   running then delays the unload until it returns.
//! - `thread_local!` values with a destructor (`Drop`) are safe in worker-thread and async
//!   tools: those calls run on threads the host or the SDK joins (running the destructors)
//!   before the library is unloaded. Worker threads also exit after 30 s idle, so such values
//!   make poor caches. Inline tools (`#[tool] fn` without a `Context`, and `#[tool(inline)]`
//!   in stateless requests) must not keep one: it stays on a server thread that never exits
//!   and keeps that copy of the library mapped after a reload (a leak; the server then logs a
//!   warning and runs the plugin's inline tools on worker threads). Mark such a tool
//!   `#[tool(blocking)]`. Statics that hold heap memory are never dropped by Rust; the SDK
//!   frees its own on unload, but a plugin's own caches leak a little per reload unless they
//!   are small.
//!
//! Plugins must be built with `panic = "unwind"` (the default): with `panic = "abort"` a panic
//! in one tool would kill the server, so this crate refuses to compile then.
//!
//! # Modules
//! `context` (the host during a call), `content` and `result` (what tools return), `tool` (tool
//! definitions and argument parsing), `schema` (generated JSON Schemas), `resource`, `prompt`,
//! `completion` and `error` (the other MCP items and their protocol errors), `args` (typed
//! parameters from string maps), `plugin` and `manifest` (the plugin's definition and its
//! JSON), `dispatch` (serving requests), `runtime` and `async_call` (the async runtime and one
//! async call on it), `shim` and `export` (the C ABI), [`testing`]. Resource templates are
//! matched by `fastmcp_abi::uri_template`, as on the host.

#[cfg(panic = "abort")]
compile_error!(
    "fastmcp plugins must be built with panic = \"unwind\": a panic in a tool is caught and \
     reported to the client, but with panic = \"abort\" it kills the whole server. Remove \
     `panic = \"abort\"` from the [profile] sections of your Cargo.toml."
);

/// The README's example, compiled and run as a doctest so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod args;
#[cfg(feature = "async")]
mod async_call;
mod base64;
mod completion;
mod content;
mod context;
mod dispatch;
mod error;
mod export;
mod manifest;
mod plugin;
mod prompt;
mod resource;
mod result;
#[cfg(feature = "async")]
mod runtime;
mod schema;
mod shim;
mod skill;
pub mod testing;
mod tool;

#[cfg(feature = "async")]
pub use async_call::{AsyncCall, AsyncHandler, AsyncOutcome, ToolFuture};
pub use base64::base64_encode;
pub use completion::{
    Completion, CompletionDef, CompletionHandler, CompletionRef, CompletionRequest, IntoCompletion,
};
pub use content::{Annotations, Content, ResourceLink, Role};
pub use context::{Caller, Context, HostError, LogLevel};
pub use error::ProtocolError;
pub use plugin::Plugin;
pub use prompt::{
    IntoPromptResult, PromptArgument, PromptDef, PromptHandler, PromptMessage, PromptResult,
};
pub use resource::{
    IntoResourceResult, ResourceContent, ResourceDef, ResourceHandler, ResourceRequest,
    ResourceTemplateDef,
};
pub use result::{IntoToolResult, Json, ToolError, ToolResult};
pub use schema::nullable;
pub use skill::{SkillDef, SkillFile, Skills};
pub use tool::{Execution, Handler, TaskSupport, ToolAccess, ToolAnnotations, ToolDef};

/// The C ABI this SDK implements (re-exported for hosts and tests).
pub use fastmcp_abi as abi;
pub use schemars;
pub use serde;
pub use serde_json;
/// The tokio the plugin's async runtime runs (features `rt-multi-thread`, `net`, `time`), for
/// `tokio::time::sleep` and friends without a dependency of your own. Depend on `tokio`
/// yourself for more features; cargo builds one tokio for both.
#[cfg(feature = "async")]
pub use tokio;

/// Makes a function an MCP tool.
///
/// ```
/// use fastmcp_sdk::prelude::*;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct DeleteArgs {
///     /// The file to delete
///     path: String,
/// }
///
/// /// Deletes a file
/// #[tool(title = "Delete a file", destructive, requires_auth, scopes = ["files:write"])]
/// fn delete(ctx: &Context, args: DeleteArgs) -> Result<String, ToolError> {
///     ctx.info(format!("deleting {}", args.path));
///     std::fs::remove_file(&args.path).map_err(|e| ToolError::new(e.to_string()))?;
///     Ok(format!("deleted {}", args.path))
/// }
/// # fn main() {}
/// ```
///
/// Options, all optional:
/// - `name = "..."`: the tool's name (default: the function's name).
/// - `title = "..."`: a human-readable title.
/// - `description = "..."`: the description (default: the function's doc comments).
/// - `read_only`, `destructive`, `idempotent`, `open_world`: behaviour hints for clients
///   (annotations); `open_world = false` states the opposite explicitly.
/// - `requires_auth`, `scopes = ["a", "b"]`: only authenticated callers (holding every scope)
///   may see and call the tool; the server enforces it.
/// - `input_schema = path::to::fn`: a `fn() -> serde_json::Value` returning a hand-written input
///   schema instead of the one generated from the argument type.
/// - `blocking`: the tool may block or run long (network, disk, heavy computation). A tool
///   without a `Context` parameter is otherwise [`Execution::Inline`]: the server runs it on
///   the thread that read the request, with no hand-off, which is much faster for short pure
///   functions but holds up that thread while it runs. Tools with a `Context` always run on
///   the plugin's worker threads. Not for `async fn` tools, which never block.
/// - `task = "optional"` or `task = "required"`: clients may (or must) run the tool as a task,
///   answered at once with a task id and polled ([`TaskSupport`]; `docs/plugin-authoring.md`,
///   "Tasks"). `input_before_task`: with the 2026-07-28 tasks extension, the tool's questions to
///   the client are answered before its task is created.
///
/// Accepted signatures: `fn()`, `fn(args: T)`, `fn(ctx: &Context)`,
/// `fn(ctx: &Context, args: T)`, and the same as `async fn`, where
/// `T: DeserializeOwned + JsonSchema` (only `DeserializeOwned` with `input_schema`). Not
/// accepted: generic or `unsafe` functions, methods, borrowed arguments, `impl Trait` return
/// types.
///
/// An `async fn` tool runs on the plugin's async runtime (see "Async tools" in the crate
/// docs); its future must be `Send`, so hold nothing that is not `Send` (an `Rc`, a
/// `std::sync::MutexGuard`) across an `.await`. It needs the `async` feature (on by default):
///
/// ```
/// use fastmcp_sdk::prelude::*;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct WaitArgs {
///     /// How long to wait, in milliseconds
///     ms: u64,
/// }
///
/// /// Waits without holding a thread
/// #[tool]
/// async fn wait(ctx: &Context, args: WaitArgs) -> String {
///     fastmcp_sdk::tokio::time::sleep(std::time::Duration::from_millis(args.ms)).await;
///     ctx.progress(1.0, Some(1.0), None);
///     format!("waited {} ms", args.ms)
/// }
/// # fn main() {}
/// ```
///
/// The attribute keeps the function as written (call it directly in unit tests, with
/// [`Context::detached`]) and adds a hidden item with the same name in the type namespace,
/// which [`export_plugin!`] uses; so no other type or module in that scope may share the
/// function's name.
///
/// ```compile_fail
/// use fastmcp_sdk::prelude::*;
///
/// /// An async tool says nothing about blocking: it must not block.
/// #[tool(blocking)]
/// async fn contradiction() -> String { String::new() }
/// # fn main() {}
/// ```
pub use fastmcp_sdk_macros::tool;

mod attributes;
pub use attributes::{completion, prompt, resource, resource_template};

/// Embeds a directory of Agent Skills in the plugin at build time (the MCP skills extension,
/// SEP-2640).
///
/// ```ignore
/// fastmcp_sdk::export_plugin! {
///     name: "docs",
///     version: env!("CARGO_PKG_VERSION"),
///     skills: fastmcp_sdk::skills!("skills"),
/// }
/// ```
///
/// The path is relative to the crate's `Cargo.toml`. Each subdirectory is one skill: a
/// `SKILL.md` that begins with YAML frontmatter holding at least `name` (equal to the
/// directory's name, following the Agent Skills naming rules) and `description`, plus any
/// supporting files and subdirectories (hidden files are skipped, other files at the top level
/// are ignored). Everything is checked at compile time: a missing `SKILL.md`, frontmatter or
/// field, a name that does not match, a skill over 512 files or 16 MiB, or frontmatter YAML
/// outside the supported subset is a compile error naming the file.
///
/// Every file is embedded with `include_bytes!`, so editing one rebuilds the plugin. Adding or
/// removing a file is seen at the next build that recompiles the crate; to make cargo watch the
/// directory, add a `build.rs` with
/// `fn main() { println!("cargo:rerun-if-changed=skills"); }`.
///
/// The host serves each file as the resource `skill://<name>/<path>`, and the skills as
/// `skills/list`, `skills/get` and `resources/directory/read`.
pub use fastmcp_sdk_macros::skills;

/// What plugin authors need: `use fastmcp_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Annotations, Caller, Completion, CompletionRef, CompletionRequest, Content, Context,
        HostError, IntoToolResult, Json, LogLevel, PromptMessage, PromptResult, ProtocolError,
        ResourceContent, Role, ToolError, ToolResult, completion, export_plugin, prompt, resource,
        resource_template, tool,
    };
    /// Re-exported so `#[derive(JsonSchema)]` finds `schemars` without a direct dependency.
    pub use schemars::{self, JsonSchema};
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::{Value, json};
}

/// What the macros' generated code refers to. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::__async_tool as async_tool;
    #[cfg(feature = "async")]
    pub use crate::async_call::block_on;
    pub use crate::completion::{CompletionItem, complete};
    pub use crate::dispatch::Registry;
    pub use crate::prompt::{PromptItem, get_prompt, get_prompt_args, prompt_arguments};
    pub use crate::resource::{ResourceItem, ResourceTemplateItem, read, read_params};
    pub use crate::schema::input_schema;
    pub use crate::shim::{PluginSource, RegistryCell, table};
    pub use crate::tool::{
        ToolItem, arguments, empty_object_schema, invoke, invoke_args, invoke_ctx, invoke_ctx_args,
    };
    /// Never called: an async item is a compile error without the `async` feature
    /// (`__async_tool!`); this keeps its generated code compiling meanwhile.
    #[cfg(not(feature = "async"))]
    pub fn block_on<F: core::future::Future>(_: &crate::Context<'_>, _: F) -> F::Output {
        unreachable!("async items need the async feature of fastmcp-sdk")
    }
    #[cfg(feature = "async")]
    pub use crate::{AsyncCall, AsyncOutcome, ToolFuture};
    pub use fastmcp_abi as abi;
}

/// Picks what the attributes generate for an `async fn`: `{ with } { without }`, the first with
/// the `async` feature; without it, the second (a stand-in that keeps the rest of the crate
/// compiling) and one clear error.
#[doc(hidden)]
#[cfg(feature = "async")]
#[macro_export]
macro_rules! __async_tool {
    ({ $($with:tt)* } { $($without:tt)* }) => { $($with)* };
}

#[doc(hidden)]
#[cfg(not(feature = "async"))]
#[macro_export]
macro_rules! __async_tool {
    ({ $($with:tt)* } { $($without:tt)* }) => {
        ::core::compile_error!(
            "an `async fn` tool, resource, prompt or completion needs the `async` feature of \
             fastmcp-sdk, which is on by default: remove `default-features = false` from the \
             fastmcp-sdk dependency or add `features = [\"async\"]`"
        );
        $($without)*
    };
}
