//! Tools that run as tasks: an async one that holds no thread while it waits (with progress),
//! a blocking one that only runs as a task, an async one that asks the client for input, and
//! one that hides or shows the plugin's tools.

use std::time::{Duration, Instant};

use fastmcp_sdk::prelude::*;

#[derive(Deserialize, JsonSchema)]
pub struct JobArgs {
    /// How long the job takes, in milliseconds
    pub ms: u64,
}

/// Waits `ms` on the plugin's runtime, logging its start and reporting progress at the start
/// and the end; may run as a task
#[tool(task = "optional")]
pub async fn long_job(ctx: &Context, args: JobArgs) -> String {
    ctx.info("long_job started");
    ctx.progress(0.0, Some(1.0), Some("started"));
    fastmcp_sdk::tokio::time::sleep(Duration::from_millis(args.ms)).await;
    ctx.progress(1.0, Some(1.0), Some("finished"));
    format!("finished after {} ms", args.ms)
}

/// Works `ms` on a worker thread, stopping early when cancelled; only runs as a task
#[tool(task = "required", blocking)]
pub fn must_task(ctx: &Context, args: JobArgs) -> Result<String, ToolError> {
    let until = Instant::now() + Duration::from_millis(args.ms);
    while Instant::now() < until {
        if ctx.is_cancelled() {
            return Err("cancelled".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(format!("worked {} ms", args.ms))
}

/// Asks the client for a name, then greets it; may run as a task
#[tool(task = "optional")]
pub async fn task_ask(ctx: &Context) -> Result<String, ToolError> {
    let answer = ctx.elicit(json!({
        "mode": "form",
        "message": "Who are you?",
        "requestedSchema": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"]
        }
    }))?;
    Ok(format!(
        "hello {}",
        answer["content"]["name"].as_str().unwrap_or("?")
    ))
}

#[derive(Deserialize, JsonSchema)]
pub struct ListedArgs {
    /// One of this plugin's tools
    pub name: String,
    /// Whether it is listed from now on
    pub listed: bool,
}

/// Hides or shows one of this plugin's tools; may run as a task (whose change the host serves
/// when the call returns, with no request waiting on it)
#[tool(task = "optional", blocking)]
pub fn task_set_listed(ctx: &Context, args: ListedArgs) -> Result<String, ToolError> {
    ctx.set_tool_enabled(&args.name, args.listed)?;
    Ok(format!("{} listed: {}", args.name, args.listed))
}
