//! The diagnostic tools of the suite's `server-stateless` scenario (protocol 2026-07-28): a
//! tool that needs a capability the client may not declare, one that logs, and one that asks
//! the user something while its response stream is open; and the hooks that change the tool
//! and prompt lists at runtime (`Context::set_tool_enabled`), with what they hide and show.

use std::sync::atomic::{AtomicBool, Ordering};

use fastmcp_sdk::prelude::*;

/// Needs the client's sampling capability: without it the host refuses the request, the
/// tool fails, and the host answers MissingRequiredClientCapabilityError (-32021)
#[tool]
pub fn test_missing_capability(ctx: &Context) -> Result<String, ToolError> {
    let answer = ctx.sample(json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": "Say hello"}}],
        "maxTokens": 20,
    }))?;
    let text = answer["content"]["text"].as_str().unwrap_or_default();
    Ok(format!("The model said: {text}"))
}

/// Logs two messages (sent only when the request set a log level) and returns
#[tool]
pub fn test_logging_tool(ctx: &Context) -> &'static str {
    ctx.info("test_logging_tool started");
    ctx.debug("test_logging_tool is about to return");
    "Logging tool finished"
}

/// Reports progress, then asks the user for a confirmation: in protocol 2026-07-28 that
/// question goes back in the result (an InputRequiredResult), never as a request of its own
/// on the response stream
#[tool]
pub fn test_streaming_elicitation(ctx: &Context) -> Result<String, ToolError> {
    ctx.progress(1.0, Some(2.0), Some("about to ask the user"));
    let answer = ctx.request_keyed(
        "confirmation",
        "elicitation/create",
        json!({
            "message": "Continue?",
            "requestedSchema": {
                "type": "object",
                "properties": {"continue": {"type": "boolean"}},
                "required": ["continue"]
            }
        }),
    )?;
    let action = answer["action"].as_str().unwrap_or("missing");
    Ok(format!("The user answered {action}: {}", answer["content"]))
}

/// Whether `test_dynamic_tool` / `test_dynamic_prompt` are listed now: each trigger flips one.
static DYNAMIC_TOOL_LISTED: AtomicBool = AtomicBool::new(true);
static DYNAMIC_PROMPT_LISTED: AtomicBool = AtomicBool::new(true);

/// A tool that `test_trigger_tool_change` hides and shows again
#[tool]
pub fn test_dynamic_tool() -> &'static str {
    "This tool comes and goes."
}

/// A prompt that `test_trigger_prompt_change` hides and shows again
#[prompt]
pub fn test_dynamic_prompt() -> &'static str {
    "This prompt comes and goes."
}

/// Changes the tool list for real: hides `test_dynamic_tool` if it is listed, else shows it
/// again (the host then sends notifications/tools/list_changed)
#[tool]
pub fn test_trigger_tool_change(ctx: &Context) -> Result<String, ToolError> {
    let listed = !DYNAMIC_TOOL_LISTED.load(Ordering::SeqCst);
    ctx.set_tool_enabled("test_dynamic_tool", listed)?;
    DYNAMIC_TOOL_LISTED.store(listed, Ordering::SeqCst);
    Ok(format!("test_dynamic_tool is now {}", shown(listed)))
}

/// Changes the prompt list for real: hides `test_dynamic_prompt` if it is listed, else shows
/// it again (the host then sends notifications/prompts/list_changed)
#[tool]
pub fn test_trigger_prompt_change(ctx: &Context) -> Result<String, ToolError> {
    let listed = !DYNAMIC_PROMPT_LISTED.load(Ordering::SeqCst);
    ctx.set_prompt_enabled("test_dynamic_prompt", listed)?;
    DYNAMIC_PROMPT_LISTED.store(listed, Ordering::SeqCst);
    Ok(format!("test_dynamic_prompt is now {}", shown(listed)))
}

fn shown(listed: bool) -> &'static str {
    if listed { "listed" } else { "hidden" }
}
