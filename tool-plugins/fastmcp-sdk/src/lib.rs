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
//! - Prefer `thread_local!` values without destructors; one with a destructor keeps the old
//!   library mapped until the host thread exits.
//!
//! Plugins must be built with `panic = "unwind"` (the default): with `panic = "abort"` a panic
//! in one tool would kill the server, so this crate refuses to compile then.
//!
//! # Modules
//! `context` (the host during a call), `content` and `result` (what tools return), `tool` (tool
//! definitions and argument parsing), `plugin` and `manifest` (the plugin's definition and its
//! JSON), `dispatch` (serving requests), `shim` and `export` (the C ABI), [`testing`].

#[cfg(panic = "abort")]
compile_error!(
    "fastmcp plugins must be built with panic = \"unwind\": a panic in a tool is caught and \
     reported to the client, but with panic = \"abort\" it kills the whole server. Remove \
     `panic = \"abort\"` from the [profile] sections of your Cargo.toml."
);

mod content;
mod context;
mod dispatch;
mod export;
mod manifest;
mod plugin;
mod result;
mod shim;
pub mod testing;
mod tool;

pub use content::{Content, ResourceLink};
pub use context::{Caller, Context, HostError, LogLevel};
pub use plugin::Plugin;
pub use result::{IntoToolResult, Json, ToolError, ToolResult};
pub use tool::{Handler, ToolAccess, ToolAnnotations, ToolDef};

/// The C ABI this SDK implements (re-exported for hosts and tests).
pub use fastmcp_abi as abi;
pub use schemars;
pub use serde;
pub use serde_json;

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
///
/// Accepted signatures: `fn()`, `fn(args: T)`, `fn(ctx: &Context)`,
/// `fn(ctx: &Context, args: T)`, where `T: DeserializeOwned + JsonSchema` (only
/// `DeserializeOwned` with `input_schema`). Not accepted: `async`, generic or `unsafe`
/// functions, methods, borrowed arguments, `impl Trait` return types.
///
/// The attribute keeps the function as written (call it directly in unit tests, with
/// [`Context::detached`]) and adds a hidden item with the same name in the type namespace,
/// which [`export_plugin!`] uses; so no other type or module in that scope may share the
/// function's name.
///
/// ```compile_fail
/// use fastmcp_sdk::prelude::*;
///
/// #[tool]
/// async fn not_async() -> String { String::new() }
/// # fn main() {}
/// ```
pub use fastmcp_sdk_macros::tool;

/// What plugin authors need: `use fastmcp_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Caller, Content, Context, HostError, IntoToolResult, Json, LogLevel, ToolError, ToolResult,
        export_plugin, tool,
    };
    /// Re-exported so `#[derive(JsonSchema)]` finds `schemars` without a direct dependency.
    pub use schemars::{self, JsonSchema};
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::{Value, json};
}

/// What the macros' generated code refers to. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::dispatch::Registry;
    pub use crate::shim::{PluginSource, table};
    pub use crate::tool::{
        ToolItem, empty_object_schema, input_schema, invoke, invoke_args, invoke_ctx,
        invoke_ctx_args,
    };
    pub use fastmcp_abi as abi;
}
