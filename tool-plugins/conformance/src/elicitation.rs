//! The suite's elicitation tools: a simple form, defaults for every primitive type (SEP-1034)
//! and the five enum shapes (SEP-1330). Each returns what the user answered, as text.

use fastmcp_sdk::prelude::*;

/// Sends `elicitation/create` and describes the answer: `action=..., content={...}`.
fn elicit(ctx: &Context, message: &str, requested_schema: Value) -> Result<String, ToolError> {
    let answer = ctx.elicit(json!({"message": message, "requestedSchema": requested_schema}))?;
    let action = answer["action"].as_str().unwrap_or("unknown");
    let content = answer.get("content").cloned().unwrap_or(json!({}));
    Ok(format!("action={action}, content={content}"))
}

#[derive(Deserialize, JsonSchema)]
pub struct MessageArgs {
    /// The message to show the user
    pub message: String,
}

/// Asks the user for a username and an email address (elicitation)
#[tool]
pub fn test_elicitation(ctx: &Context, args: MessageArgs) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"}
        },
        "required": ["username", "email"]
    });
    let answer = elicit(ctx, &args.message, schema)?;
    Ok(format!("User response: {answer}"))
}

/// Asks for a form whose fields all have defaults (SEP-1034)
#[tool]
pub fn test_elicitation_sep1034_defaults(ctx: &Context) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {
                "type": "string",
                "description": "User status",
                "enum": ["active", "inactive", "pending"],
                "default": "active"
            },
            "verified": {"type": "boolean", "description": "Verification status", "default": true}
        },
        "required": []
    });
    let message = "Please review and update the form fields with defaults";
    Ok(format!(
        "Elicitation completed: {}",
        elicit(ctx, message, schema)?
    ))
}

/// Asks for a form with every enum shape: untitled, titled, legacy, and multi-select (SEP-1330)
#[tool]
pub fn test_elicitation_sep1330_enums(ctx: &Context) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "untitledSingle": {
                "type": "string",
                "description": "Choose one option",
                "enum": ["option1", "option2", "option3"]
            },
            "titledSingle": {
                "type": "string",
                "description": "Choose one titled option",
                "oneOf": [
                    {"const": "value1", "title": "First Option"},
                    {"const": "value2", "title": "Second Option"},
                    {"const": "value3", "title": "Third Option"}
                ]
            },
            "legacyEnum": {
                "type": "string",
                "description": "Choose one option (legacy)",
                "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"]
            },
            "untitledMulti": {
                "type": "array",
                "description": "Choose several options",
                "items": {"type": "string", "enum": ["option1", "option2", "option3"]}
            },
            "titledMulti": {
                "type": "array",
                "description": "Choose several titled options",
                "items": {
                    "anyOf": [
                        {"const": "value1", "title": "First Choice"},
                        {"const": "value2", "title": "Second Choice"},
                        {"const": "value3", "title": "Third Choice"}
                    ]
                }
            }
        },
        "required": []
    });
    let message = "Please select options from the enum fields";
    Ok(format!(
        "Elicitation completed: {}",
        elicit(ctx, message, schema)?
    ))
}
