//! The suite's tools, except elicitation (`elicitation`): content of every type, logging,
//! progress, errors, sampling, a hand-written 2020-12 schema, a tool whose arguments travel
//! in `Mcp-Param-*` headers too, and the SSE polling tool.

use std::time::Duration;

use fastmcp_sdk::prelude::*;

use crate::assets::{PNG, WAV};

/// Returns a simple text
#[tool]
pub fn test_simple_text() -> &'static str {
    "This is a simple text response for testing."
}

/// Returns a 1x1 PNG image
#[tool]
pub fn test_image_content() -> Content {
    Content::image(PNG, "image/png")
}

/// Returns a short WAV sound
#[tool]
pub fn test_audio_content() -> Content {
    Content::audio(WAV, "audio/wav")
}

/// Returns an embedded text resource
#[tool]
pub fn test_embedded_resource() -> Content {
    let text = "This is an embedded resource content.";
    ResourceContent::text("test://embedded-resource", "text/plain", text).into()
}

/// Returns text, an image and an embedded JSON resource
#[tool]
pub fn test_multiple_content_types() -> Vec<Content> {
    let data = json!({"test": "data", "value": 123}).to_string();
    vec![
        Content::text("Multiple content types test:"),
        Content::image(PNG, "image/png"),
        ResourceContent::text("test://mixed-content-resource", "application/json", data).into(),
    ]
}

/// Sends three log messages at info level, 50 ms apart, while it runs
#[tool]
pub fn test_tool_with_logging(ctx: &Context) -> &'static str {
    ctx.info("Tool execution started");
    std::thread::sleep(Duration::from_millis(50));
    ctx.info("Tool processing data");
    std::thread::sleep(Duration::from_millis(50));
    ctx.info("Tool execution completed");
    "Tool with logging executed successfully"
}

/// Always fails with an error result
#[tool]
pub fn test_error_handling() -> Result<String, ToolError> {
    Err(ToolError::new(
        "This tool intentionally returns an error for testing",
    ))
}

/// Reports progress 0, 50 and 100 of 100, 50 ms apart
#[tool]
pub fn test_tool_with_progress(ctx: &Context) -> Result<&'static str, ToolError> {
    for (i, progress) in [0.0, 50.0, 100.0].into_iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(50));
        }
        if ctx.is_cancelled() {
            return Err(ToolError::new("cancelled"));
        }
        ctx.progress(progress, Some(100.0), None);
    }
    Ok("Progress tool completed")
}

#[derive(Deserialize, JsonSchema)]
pub struct SamplingArgs {
    /// The prompt to send to the LLM
    pub prompt: String,
}

/// Asks the client's LLM (sampling/createMessage) and returns its answer
#[tool]
pub fn test_sampling(ctx: &Context, args: SamplingArgs) -> Result<String, ToolError> {
    let answer = ctx.sample(json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": args.prompt}}],
        "maxTokens": 100,
    }))?;
    // `content` is one block, or (since 2025-11-25) possibly a list of them.
    let content = &answer["content"];
    let blocks = content
        .as_array()
        .map_or(std::slice::from_ref(content), Vec::as_slice);
    let text: Vec<&str> = blocks.iter().filter_map(|b| b["text"].as_str()).collect();
    Ok(format!("LLM response: {}", text.join("\n")))
}

/// The hand-written input schema of `json_schema_2020_12_tool`, served exactly as written.
fn json_schema_2020_12() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {
                    "street": {"type": "string"},
                    "city": {"type": "string"}
                }
            }
        },
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"}
        },
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {
            "properties": {"contactMethod": {"const": "phone"}},
            "required": ["contactMethod"]
        },
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": false
    })
}

/// Tool with JSON Schema 2020-12 features ($schema, $defs, $anchor, allOf/anyOf,
/// if/then/else, additionalProperties)
#[tool(input_schema = json_schema_2020_12)]
pub fn json_schema_2020_12_tool(args: Value) -> String {
    format!("Received: {args}")
}

/// Closes its SSE stream mid-call, so the client resumes with GET + Last-Event-ID, then
/// answers after about 2 seconds
#[tool]
pub fn test_reconnection(ctx: &Context) -> Result<&'static str, ToolError> {
    ctx.close_stream();
    for _ in 0..20 {
        if ctx.is_cancelled() {
            return Err(ToolError::new("cancelled"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok("Reconnection test completed successfully")
}

/// The input schema of `test_custom_headers`: two arguments mirrored in `Mcp-Param-*` headers.
fn custom_headers_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "region": {
                "type": "string",
                "description": "Where to route the request",
                "x-mcp-header": "Region"
            },
            "priority": {
                "type": "integer",
                "description": "How urgent it is",
                "x-mcp-header": "Priority"
            }
        },
        "required": ["region"]
    })
}

/// Echoes its arguments; in protocol 2026-07-28 the client also sends them as `Mcp-Param-Region`
/// and `Mcp-Param-Priority` headers, which the host checks against the body (SEP-2243)
#[tool(input_schema = custom_headers_schema)]
pub fn test_custom_headers(args: Value) -> Result<String, ToolError> {
    let region = args["region"].as_str().ok_or("region must be a string")?;
    Ok(match args["priority"].as_i64() {
        Some(priority) => format!("Routed to {region} with priority {priority}"),
        None => format!("Routed to {region}"),
    })
}
