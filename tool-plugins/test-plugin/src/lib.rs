//! Tools the fastmcp integration tests call: one per behaviour the server must handle (errors,
//! panics, progress, logging, cancellation, large results, structured output, callers, client
//! requests, reloads, schemas of optional fields).

use std::time::Duration;

use fastmcp_sdk::prelude::*;

mod crash;
mod probe;
mod tasks;

/// What `version_marker` returns: `v1`, or `$FASTMCP_TEST_PLUGIN_MARKER` at build time. Reload
/// tests and the reload load test build a second version of this plugin with another value.
pub const VERSION_MARKER: &str = match option_env!("FASTMCP_TEST_PLUGIN_MARKER") {
    Some(marker) => marker,
    None => "v1",
};

#[derive(Deserialize, JsonSchema)]
struct TextArgs {
    /// The text to return
    text: String,
}

/// Returns its text
#[tool]
fn echo(args: TextArgs) -> String {
    args.text
}

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    /// The first addend
    a: i64,
    /// The second addend
    b: i64,
}

/// Adds two integers
#[tool(read_only, idempotent)]
fn add(args: AddArgs) -> Result<String, &'static str> {
    args.a
        .checked_add(args.b)
        .map(|sum| sum.to_string())
        .ok_or("integer overflow")
}

#[derive(Deserialize, JsonSchema)]
struct MessageArgs {
    /// What to fail or panic with
    message: String,
}

/// Fails with the message (an isError result)
#[tool]
fn fail(args: MessageArgs) -> Result<String, ToolError> {
    Err(ToolError::new(args.message))
}

/// Panics with the message
#[tool]
fn panic(args: MessageArgs) -> String {
    panic!("{}", args.message)
}

#[derive(Deserialize, JsonSchema)]
struct SleepArgs {
    /// Total time to sleep, in milliseconds
    ms: u64,
    /// In how many steps (default 10); progress and a log line follow each step
    steps: Option<u32>,
}

/// Sleeps in steps, reporting progress and logging; stops early when cancelled
#[tool(name = "sleep")]
fn sleep_tool(ctx: &Context, args: SleepArgs) -> Result<String, ToolError> {
    let steps = args.steps.unwrap_or(10).max(1);
    for step in 1..=steps {
        if ctx.is_cancelled() {
            return Err(ToolError::new("cancelled"));
        }
        std::thread::sleep(Duration::from_millis(args.ms) / steps);
        ctx.progress(f64::from(step), Some(f64::from(steps)), None);
        ctx.info(format!("step {step} of {steps}"));
    }
    Ok(format!("slept {} ms", args.ms))
}

#[derive(Deserialize, JsonSchema)]
struct NapArgs {
    /// How long to block, in milliseconds
    ms: u64,
}

/// Blocks for `ms` without a context: an inline tool that should not be (the server moves it)
#[tool]
fn nap(args: NapArgs) -> String {
    std::thread::sleep(Duration::from_millis(args.ms));
    format!("napped {} ms", args.ms)
}

/// Returns its text; marked `blocking`, so it always runs on the plugin's worker threads
#[tool(blocking)]
fn blocking_echo(args: TextArgs) -> String {
    args.text
}

#[derive(Deserialize, JsonSchema)]
struct BigArgs {
    /// How many bytes of text to return
    bytes: usize,
}

/// Returns a text of `bytes` 'x' characters
#[tool]
fn big(args: BigArgs) -> String {
    "x".repeat(args.bytes)
}

#[derive(Deserialize, JsonSchema)]
struct LogArgs {
    /// How many messages to log (levels cycle debug, info, warning)
    count: u32,
}

/// Logs `count` messages
#[tool]
fn log(ctx: &Context, args: LogArgs) -> String {
    let levels = [LogLevel::Debug, LogLevel::Info, LogLevel::Warning];
    for (i, level) in (0..args.count).zip(levels.iter().cycle()) {
        ctx.log(*level, format!("message {i}"));
    }
    format!("logged {}", args.count)
}

#[derive(Serialize, JsonSchema)]
struct Report {
    /// A fixed greeting
    message: String,
    /// A fixed number
    count: u32,
    /// Fixed tags
    tags: Vec<String>,
}

/// Returns structured content (with an output schema)
#[tool]
fn structured() -> Json<Report> {
    let tags = vec!["a".into(), "b".into()];
    Json(Report {
        message: "hello".into(),
        count: 3,
        tags,
    })
}

/// Tells who is calling: `caller=<id|anonymous> scopes=<a,b> protocol=<v> [session=<id>]`
#[tool]
fn whoami(ctx: &Context) -> String {
    let (id, scopes) = ctx.caller().map_or(("anonymous", String::new()), |caller| {
        (caller.id.as_str(), caller.scopes.join(","))
    });
    let mut text = format!(
        "caller={id} scopes={scopes} protocol={}",
        ctx.protocol_version()
    );
    if let Some(session) = ctx.session_id() {
        text.push_str(&format!(" session={session}"));
    }
    text
}

#[derive(Deserialize, JsonSchema)]
struct UriArgs {
    /// The resource that changed
    uri: String,
}

/// Reports a resource as updated (subscribed clients hear about it)
#[tool]
fn touch_resource(ctx: &Context, args: UriArgs) -> String {
    ctx.resource_updated(&args.uri);
    format!("touched {}", args.uri)
}

/// Returns the plugin's version marker
#[tool]
fn version_marker() -> &'static str {
    VERSION_MARKER
}

/// Only for authenticated callers with the `admin` scope
#[tool(requires_auth, scopes = ["admin"])]
fn secret() -> &'static str {
    "the secret"
}

#[derive(Deserialize, JsonSchema)]
struct PromptArgs {
    /// What to ask the client's model
    prompt: String,
}

/// Asks the client's model (sampling) and returns its answer's text
#[tool]
fn sample(ctx: &Context, args: PromptArgs) -> Result<String, ToolError> {
    let answer = ctx.sample(json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": args.prompt}}],
        "maxTokens": 100,
    }))?;
    Ok(answer["content"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Asks the user for a name (elicitation) and returns the answer as JSON
#[tool]
fn elicit(ctx: &Context, args: MessageArgs) -> Result<Value, ToolError> {
    Ok(ctx.elicit(name_request(&args.message))?)
}

/// The elicitation both `elicit` tools send: a form asking for a name.
fn name_request(message: &str) -> Value {
    json!({
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
        },
    })
}

/// Asks the client for a name from an async tool (elicitation) and returns the answer as JSON
#[tool]
async fn async_elicit(ctx: &Context, args: MessageArgs) -> Result<Value, ToolError> {
    fastmcp_sdk::tokio::task::yield_now().await;
    Ok(ctx.elicit(name_request(&args.message))?)
}

/// Lists the client's roots and returns the answer as JSON
#[tool]
fn roots(ctx: &Context) -> Result<Value, ToolError> {
    Ok(ctx.list_roots()?)
}

/// A value with a destructor, kept per thread by `tls_drop`.
struct PerThread(std::cell::Cell<u64>);

impl Drop for PerThread {
    fn drop(&mut self) {
        std::hint::black_box(self.0.get());
    }
}

thread_local! {
    static TLS_CALLS: PerThread = const { PerThread(std::cell::Cell::new(0)) };
}

/// Counts its calls in a `thread_local!` whose value has a `Drop`, which registers a thread-exit
/// destructor: an inline tool that keeps its library mapped while that thread lives
#[tool]
fn tls_drop() -> String {
    let n = TLS_CALLS.with(|c| {
        c.0.set(c.0.get() + 1);
        c.0.get()
    });
    format!("call {n} on this thread")
}

#[derive(Deserialize, JsonSchema)]
struct SpinArgs {
    /// How long to spin, in milliseconds; absent: "forever" (10 minutes)
    ms: Option<u64>,
}

/// Busy-loops for `ms` on a worker thread and never looks at cancellation: a stuck call
#[tool(blocking)]
fn spin(args: SpinArgs) -> String {
    // "Forever" ends after 10 minutes, so a leaked server's threads stop eventually.
    let ms = args.ms.unwrap_or(600_000);
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_millis(ms) {
        std::hint::spin_loop();
    }
    format!("spun {ms} ms")
}

#[derive(Deserialize, JsonSchema)]
struct IoWaitArgs {
    /// How long to wait, in milliseconds
    ms: u64,
}

/// Waits `ms` on the plugin's async runtime (an I/O-bound tool: no thread is held meanwhile)
#[tool]
async fn io_wait(args: IoWaitArgs) -> String {
    fastmcp_sdk::tokio::time::sleep(Duration::from_millis(args.ms)).await;
    format!("waited {} ms", args.ms)
}

#[derive(Deserialize, JsonSchema)]
struct StepsArgs {
    /// How many progress notifications to send
    steps: u32,
}

/// Sends one progress notification and returns: a short tool with a context that the host may
/// run inline for stateless requests (`#[tool(inline)]`)
#[tool(inline)]
fn progress_once(ctx: &Context) -> &'static str {
    ctx.progress(1.0, Some(1.0), Some("done"));
    "progressed once"
}

/// Sends `steps` progress notifications from an async tool, 1 ms apart
#[tool]
async fn io_progress(ctx: &Context, args: StepsArgs) -> String {
    for step in 1..=args.steps {
        fastmcp_sdk::tokio::time::sleep(Duration::from_millis(1)).await;
        ctx.progress(f64::from(step), Some(f64::from(args.steps)), None);
    }
    format!("sent {} progress notifications", args.steps)
}

/// An async tool that panics
#[tool]
async fn async_panic() -> String {
    panic!("async tool panicked on purpose")
}

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Priority {
    Low,
    High,
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct Window {
    /// First hour
    start: u32,
    /// Last hour
    end: u32,
}

#[derive(Deserialize, JsonSchema)]
struct OptionalArgs {
    /// A title
    title: Option<String>,
    /// How urgent
    priority: Option<Priority>,
    /// When
    window: Option<Window>,
    /// A note; null says "no note" explicitly
    #[schemars(transform = fastmcp_sdk::nullable)]
    note: Option<String>,
}

#[derive(Serialize, JsonSchema)]
struct OptionalReply {
    /// The title, null without one (an output field that is always sent)
    title: Option<String>,
    /// The priority, left out without one
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<Priority>,
    /// The window, left out without one
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<Window>,
    /// Whether a note came
    noted: bool,
}

/// Echoes the optional arguments it got: schemas of `Option` fields, in and out
#[tool]
fn optionals(args: OptionalArgs) -> Json<OptionalReply> {
    Json(OptionalReply {
        title: args.title,
        priority: args.priority,
        window: args.window,
        noted: args.note.is_some(),
    })
}

/// The input schema of `handwritten`: a type array, which generated schemas never have.
fn handwritten_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"limit": {"type": ["integer", "null"], "description": "At most this many"}}
    })
}

/// Returns its arguments; its hand-written input schema is served as written (the control of
/// the schema portability test)
#[tool(input_schema = handwritten_schema)]
fn handwritten(args: Value) -> String {
    args.to_string()
}

fastmcp_sdk::export_plugin! {
    name: "test-plugin",
    version: env!("CARGO_PKG_VERSION"),
    tools: [
        echo, add, fail, panic, sleep_tool, big, log, structured, whoami, version_marker, secret,
        sample, elicit, roots, touch_resource, nap, blocking_echo, tls_drop, spin,
        io_wait, io_progress, async_panic, progress_once, async_elicit, optionals,
        handwritten, crash::crash_segv, crash::crash_abort, crash::crash_stack, crash::crash_oom,
        crash::crash_exit, gather::gather, tasks::long_job, tasks::must_task, tasks::task_ask,
        tasks::task_set_listed,
        probe::read_file, probe::connect_tcp, probe::alloc_mib, probe::spin_cpu,
    ],
}

mod gather;

#[cfg(test)]
mod tests;
