//! The tasks-extension fixtures of the conformance suite (`tasks-*` scenarios): a plain tool
//! (`greet`), and task tools that sleep, fail, crash, ask for one input, ask for two at once,
//! and one that only runs as a task.

use std::time::{Duration, Instant};

use fastmcp_sdk::prelude::*;

#[derive(Deserialize, JsonSchema)]
pub struct GreetArgs {
    /// Who to greet
    pub name: String,
}

/// Says hello (never a task)
#[tool]
pub fn greet(args: GreetArgs) -> String {
    format!("Hello, {}!", args.name)
}

/// Sleeps up to `seconds`, in short slices so that a cancellation stops it at once.
fn sleep_unless_cancelled(ctx: &Context, seconds: f64) -> bool {
    let until = Instant::now() + Duration::from_secs_f64(seconds.clamp(0.0, 3600.0));
    while Instant::now() < until {
        if ctx.is_cancelled() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !ctx.is_cancelled()
}

#[derive(Deserialize, JsonSchema)]
pub struct ComputeArgs {
    /// How long to work, in seconds (0: at once)
    pub seconds: f64,
    /// A label echoed in the result
    #[serde(default)]
    pub label: Option<String>,
}

/// Works for `seconds`, then reports what it computed (may run as a task)
#[tool(task = "optional", blocking)]
pub fn slow_compute(ctx: &Context, args: ComputeArgs) -> Result<String, ToolError> {
    if !sleep_unless_cancelled(ctx, args.seconds) {
        return Err("cancelled".into());
    }
    let label = args.label.as_deref().unwrap_or("job");
    Ok(format!("Computed {label} in {} s", args.seconds))
}

/// Works for a second, then fails with a tool error (only as a task)
#[tool(task = "required", blocking)]
pub fn failing_job(ctx: &Context) -> Result<String, ToolError> {
    sleep_unless_cancelled(ctx, 1.0);
    Err("The job failed: the input could not be processed".into())
}

/// Crashes, which a task reports as failed with a JSON-RPC error (may run as a task)
#[tool(task = "optional", blocking)]
pub fn protocol_error_job(ctx: &Context) -> String {
    if !ctx.is_cancelled() {
        panic!("protocol_error_job always crashes");
    }
    "cancelled".into()
}

#[derive(Deserialize, JsonSchema)]
pub struct DeleteArgs {
    /// The file to delete
    pub filename: String,
}

/// What a user answered to a confirmation form.
fn confirmed(answer: &Value) -> bool {
    answer["action"] == "accept" && answer["content"]["confirm"] != false
}

fn confirm_request(message: String) -> Value {
    json!({
        "mode": "form",
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": {"confirm": {"type": "boolean", "description": "Go ahead"}},
            "required": ["confirm"]
        }
    })
}

/// Asks the user to confirm, then "deletes" the file (may run as a task)
#[tool(task = "optional", blocking)]
pub fn confirm_delete(ctx: &Context, args: DeleteArgs) -> Result<String, ToolError> {
    let answer = ctx.elicit(confirm_request(format!("Delete {}?", args.filename)))?;
    Ok(if confirmed(&answer) {
        format!("Deleted {}", args.filename)
    } else {
        format!("Kept {}", args.filename)
    })
}

/// Asks two questions at once, then reports both answers (may run as a task)
#[tool(task = "optional", blocking)]
pub fn multi_input(ctx: &Context) -> Result<String, ToolError> {
    // Both requests go out before either answer is needed, so both are pending together.
    let first = ctx.elicit(confirm_request("First question".into()));
    let second = ctx.elicit(confirm_request("Second question".into()));
    let (first, second) = (first?, second?);
    Ok(format!(
        "first={}, second={}",
        first["content"], second["content"]
    ))
}

/// Asks for the user's name, then greets them (only as a task, which starts once the name is in)
#[tool(task = "required", input_before_task, blocking)]
pub fn test_tool_with_task(ctx: &Context) -> Result<String, ToolError> {
    let answer = ctx.elicit(json!({
        "mode": "form",
        "message": "What is your name?",
        "requestedSchema": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"]
        }
    }))?;
    let name = answer["content"]["name"].as_str().unwrap_or("stranger");
    Ok(format!("Hello, {name}!"))
}

#[cfg(test)]
mod tests {
    use fastmcp_sdk::abi::{STATUS_OK, STATUS_PANIC};
    use fastmcp_sdk::prelude::*;
    use fastmcp_sdk::testing::TestHost;

    use crate::fastmcp_plugin_entry;

    #[test]
    fn the_task_fixtures_declare_task_support_and_behave() {
        let host = TestHost::new(fastmcp_plugin_entry);
        let manifest = host.manifest();
        let support = |name: &str| {
            let tools = manifest["tools"].as_array().unwrap();
            let tool = tools.iter().find(|t| t["name"] == name).unwrap();
            tool.get("taskSupport").cloned().unwrap_or(Value::Null)
        };
        assert_eq!(support("greet"), Value::Null);
        assert_eq!(support("slow_compute"), "optional");
        assert_eq!(support("failing_job"), "required");
        assert_eq!(support("test_tool_with_task"), "required");

        assert_eq!(
            host.call_tool("greet", json!({"name": "Ann"})).text(),
            "Hello, Ann!"
        );
        let done = host.call_tool("slow_compute", json!({"seconds": 0, "label": "x"}));
        assert_eq!(done.text(), "Computed x in 0 s");
        let failed = host.call_tool("failing_job", json!({}));
        assert_eq!(failed.status, STATUS_OK);
        assert!(failed.is_error(), "{failed:?}");
        let crashed = host.call_tool("protocol_error_job", json!({}));
        assert_eq!(crashed.status, STATUS_PANIC, "{crashed:?}");
    }
}
