//! The attributes for resources, resource templates, prompts and completions, with their
//! documentation (`#[tool]` is documented in the crate root).
//!
//! Like `#[tool]`, each keeps the function as written (call it directly in unit tests) and adds
//! a hidden item with the same name in the type namespace, which [`export_plugin!`](crate::export_plugin)
//! uses; so no other type or module in that scope may share the function's name. None accepts
//! generic or `unsafe` functions, methods or `impl Trait` return types.
//!
//! Each accepts an `async fn` (with the `async` feature): the call's worker thread runs its
//! future to the end on the plugin's async runtime, so async clients work there too.

/// Makes a function the resource at a fixed URI.
///
/// ```
/// use fastmcp_sdk::prelude::*;
///
/// /// The server's settings
/// #[resource(uri = "config://settings", mime_type = "application/json")]
/// fn settings(ctx: &Context) -> Result<String, ProtocolError> {
///     ctx.debug("reading settings");
///     Ok(json!({"theme": "dark"}).to_string())
/// }
/// # fn main() {}
/// ```
///
/// Options: `uri = "..."` (required), `name = "..."` (default: the function's name),
/// `title`, `description` (default: the doc comments), `mime_type`, `size = <bytes>`.
///
/// Signatures: `fn()`, `fn(ctx: &Context)`. The function returns anything implementing
/// [`IntoResourceResult`](crate::IntoResourceResult): `String` / `&str` (text with the resource's
/// URI and MIME type), `Vec<u8>` (a blob), [`ResourceContent`](crate::ResourceContent)s,
/// `Option<T>` (`None`: resource not found, `-32002`) or `Result<T, E>` (`Err`: `-32603` with
/// its text, or the [`ProtocolError`](crate::ProtocolError) itself).
pub use fastmcp_sdk_macros::resource;

/// Makes a function serve every URI that matches an RFC 6570 URI template.
///
/// ```
/// use fastmcp_sdk::prelude::*;
///
/// #[derive(Deserialize)]
/// struct FileParams {
///     path: String,
///     version: Option<u32>,
/// }
///
/// /// A file of the project, optionally at an older version
/// #[resource_template(uri_template = "project:///{+path}{?version}", mime_type = "text/plain")]
/// fn project_file(uri: &str, params: FileParams) -> Result<ResourceContent, ProtocolError> {
///     if params.path.contains("..") {
///         return Err(ProtocolError::resource_not_found(uri));
///     }
///     let version = params.version.map_or("latest".into(), |v| v.to_string());
///     Ok(ResourceContent::text(uri, "text/plain", format!("{} at {version}", params.path)))
/// }
/// # fn main() {}
/// ```
///
/// Options: `uri_template = "..."` (required, checked at compile time), `name`, `title`,
/// `description`, `mime_type`, as for [`#[resource]`](macro@crate::resource).
///
/// Parameters, each optional, in this order: `ctx: &Context`, `uri: &str` (the URI the client
/// asked for), and one owned type `T: DeserializeOwned` that the template's variables are
/// deserialized into (a struct, or `HashMap<String, String>`). Variables are strings; a field
/// may still be a number, a bool or a unit enum, parsed from the string. Values are
/// percent-decoded; `{?a,b}` variables may be absent. A URI whose variables do not fit `T` is
/// answered with `-32602` naming the variable. Return values as for `#[resource]`; text and
/// blobs get the requested URI.
pub use fastmcp_sdk_macros::resource_template;

/// Makes a function an MCP prompt.
///
/// ```
/// use fastmcp_sdk::prelude::*;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct ReviewArgs {
///     /// The code to review
///     code: String,
///     /// What to focus on
///     focus: Option<String>,
/// }
///
/// /// Asks for a code review
/// #[prompt(name = "code_review", title = "Code review")]
/// fn code_review(args: ReviewArgs) -> PromptResult {
///     let focus = args.focus.unwrap_or_else(|| "anything".into());
///     PromptResult::new([
///         PromptMessage::user(format!("Review this code, looking for {focus}:")),
///         PromptMessage::user(args.code),
///     ])
/// }
/// # fn main() {}
/// ```
///
/// Options: `name`, `title`, `description` (default: the doc comments).
///
/// Signatures: `fn()`, `fn(args: T)`, `fn(ctx: &Context)`, `fn(ctx: &Context, args: T)`, where
/// `T: DeserializeOwned + JsonSchema`. The manifest lists `T`'s fields as the prompt's
/// arguments (field doc comments as descriptions; non-`Option` fields without a default are
/// required). Prompt arguments are strings on the wire; number, bool and unit-enum fields are
/// parsed from them. `prompts/get` without a required argument is answered with `-32602`
/// naming it, before the function runs.
///
/// The function returns anything implementing [`IntoPromptResult`](crate::IntoPromptResult):
/// [`PromptResult`](crate::PromptResult), [`PromptMessage`](crate::PromptMessage)s, a `String`
/// (one user message) or a `Result` of those (`Err`: a protocol error, as for resources).
pub use fastmcp_sdk_macros::prompt;

/// Makes a function suggest values for a prompt's arguments or a resource template's variables
/// (`completion/complete`).
///
/// ```
/// use fastmcp_sdk::prelude::*;
///
/// /// Suggests languages
/// #[completion(prompt = "code_review", argument = "language")]
/// fn languages(request: CompletionRequest) -> Vec<String> {
///     request.filter(["rust", "python", "typescript"])
/// }
///
/// /// Suggests files, from what the user typed so far
/// #[completion(resource_template = "project:///{+path}")]
/// fn files(ctx: &Context, request: CompletionRequest) -> Completion {
///     ctx.debug(format!("completing {}", request.argument));
///     Completion::new(request.filter(["README.md", "src/lib.rs"])).with_total(2)
/// }
/// # fn main() {}
/// ```
///
/// Options: `prompt = "name"` or `resource_template = "uri template"` (exactly one, an item of
/// the same plugin), and optionally `argument = "name"`: without it the function completes
/// every argument; with it, only that one (and it wins over a function for all arguments).
///
/// Signatures: `fn(request: CompletionRequest)`, `fn(ctx: &Context, request: CompletionRequest)`.
/// The function returns anything implementing [`IntoCompletion`](crate::IntoCompletion): a
/// `Vec<String>`, a `Vec<&str>`, a [`Completion`](crate::Completion) (with a total or
/// "has more"), or a `Result` of those. At most 100 values are sent; `total` counts all of
/// them. Declaring any completion sets the manifest's `capabilities.completions`.
pub use fastmcp_sdk_macros::completion;
