//! The diagnostic tools of the suite's `server-stateless` scenario (protocol 2026-07-28): a
//! tool that needs a capability the client may not declare, one that logs, and one that asks
//! the user something while its response stream is open.

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
