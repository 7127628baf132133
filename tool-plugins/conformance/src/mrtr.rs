//! The suite's multi round-trip fixtures (protocol 2026-07-28, `input-required-result-*`):
//! tools and a prompt that ask the client for input under the keys the suite expects and
//! check what it answers; and a resource that asks the same way.
//!
//! The host runs them again on each retry: a request answered by the client returns its
//! answer, an unanswered one ends the run (`?` on [`HostError::InputRequired`]) and the host
//! replies with an `InputRequiredResult` carrying every request asked so far and a sealed
//! `requestState`. A tampered state is refused by the host before the tool runs again.

use fastmcp_sdk::prelude::*;

/// An `elicitation/create` request for one string field, required.
fn ask_for(field: &str, message: &str) -> Value {
    json!({
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": {field: {"type": "string"}},
            "required": [field]
        }
    })
}

/// The accepted value of `field` in an elicitation answer; an error when the user declined,
/// cancelled, or accepted without it.
fn accepted<'a>(answer: &'a Value, field: &str) -> Result<&'a Value, ToolError> {
    match answer["action"].as_str() {
        Some("accept") => answer["content"]
            .get(field)
            .ok_or_else(|| ToolError::new(format!("the answer has no {field}"))),
        other => Err(ToolError::new(format!(
            "the user did not accept (action {})",
            other.unwrap_or("missing")
        ))),
    }
}

/// The accepted string value of `field`.
fn accepted_str<'a>(answer: &'a Value, field: &str) -> Result<&'a str, ToolError> {
    accepted(answer, field)?
        .as_str()
        .ok_or_else(|| ToolError::new(format!("{field} is not a string")))
}

/// Asks for the user's name (key `user_name`) and greets them
#[tool]
pub fn test_input_required_result_elicitation(ctx: &Context) -> Result<String, ToolError> {
    let answer = ctx.request_keyed(
        "user_name",
        "elicitation/create",
        ask_for("name", "What is your name?"),
    )?;
    Ok(format!("Hello, {}!", accepted_str(&answer, "name")?))
}

/// The text of a `CreateMessageResult` (`content` is one block or a list of them).
fn sampled_text(answer: &Value) -> String {
    let content = &answer["content"];
    let blocks = content
        .as_array()
        .map_or(std::slice::from_ref(content), Vec::as_slice);
    let text: Vec<&str> = blocks.iter().filter_map(|b| b["text"].as_str()).collect();
    text.join("\n")
}

fn sampling_request(text: &str, max_tokens: u32) -> Value {
    json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
        "maxTokens": max_tokens
    })
}

/// Asks the client's model for the capital of France (key `capital_question`)
#[tool]
pub fn test_input_required_result_sampling(ctx: &Context) -> Result<String, ToolError> {
    let question = sampling_request("What is the capital of France?", 100);
    let answer = ctx.request_keyed("capital_question", "sampling/createMessage", question)?;
    Ok(format!("The model answered: {}", sampled_text(&answer)))
}

/// The roots of a `ListRootsResult`, as `uri (name)`.
fn root_names(answer: &Value) -> Vec<String> {
    let roots = answer["roots"].as_array().map_or(&[][..], Vec::as_slice);
    roots
        .iter()
        .map(|root| {
            let uri = root["uri"].as_str().unwrap_or("?");
            match root["name"].as_str() {
                Some(name) => format!("{uri} ({name})"),
                None => uri.to_string(),
            }
        })
        .collect()
}

/// Lists the client's roots (key `client_roots`) and names them
#[tool]
pub fn test_input_required_result_list_roots(ctx: &Context) -> Result<String, ToolError> {
    let answer = ctx.request_keyed("client_roots", "roots/list", json!({}))?;
    let roots = root_names(&answer);
    Ok(format!("{} root(s): {}", roots.len(), roots.join(", ")))
}

/// Asks the user to confirm (key `confirm`, a boolean `ok`); `Ok(true)` when they did.
fn confirm(ctx: &Context) -> Result<bool, ToolError> {
    let request = json!({
        "message": "Please confirm",
        "requestedSchema": {
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"]
        }
    });
    let answer = ctx.request_keyed("confirm", "elicitation/create", request)?;
    accepted(&answer, "ok")?
        .as_bool()
        .ok_or_else(|| ToolError::new("ok is not a boolean"))
}

/// Asks for a confirmation; the answer comes back with the sealed requestState, which the
/// host verifies before running the tool again ("state-ok")
#[tool]
pub fn test_input_required_result_request_state(ctx: &Context) -> Result<String, ToolError> {
    let confirmed = confirm(ctx)?;
    Ok(format!("state-ok: confirmed={confirmed}"))
}

/// Asks for a confirmation like `test_input_required_result_request_state`; the suite then
/// retries with a tampered requestState, which the host must refuse
#[tool]
pub fn test_input_required_result_tampered_state(ctx: &Context) -> Result<String, ToolError> {
    let confirmed = confirm(ctx)?;
    Ok(format!("state-ok: confirmed={confirmed}"))
}

/// Asks three things at once: the user's name, a greeting from the model and the roots
#[tool]
pub fn test_input_required_result_multiple_inputs(ctx: &Context) -> Result<String, ToolError> {
    // All three are asked before any `?`, so one round asks for them together.
    let name = ctx.request_keyed(
        "user_name",
        "elicitation/create",
        ask_for("name", "What is your name?"),
    );
    let greeting = ctx.request_keyed(
        "greeting",
        "sampling/createMessage",
        sampling_request("Generate a greeting", 50),
    );
    let roots = ctx.request_keyed("client_roots", "roots/list", json!({}));
    let (name, greeting, roots) = (name?, greeting?, roots?);
    Ok(format!(
        "{}: {} (roots: {})",
        accepted_str(&name, "name")?,
        sampled_text(&greeting),
        root_names(&roots).join(", ")
    ))
}

/// Asks for a name, then (in a second round) for a favourite colour
#[tool]
pub fn test_input_required_result_multi_round(ctx: &Context) -> Result<String, ToolError> {
    let step1 = ctx.request_keyed(
        "step1",
        "elicitation/create",
        ask_for("name", "Step 1: What is your name?"),
    )?;
    let name = accepted_str(&step1, "name")?;
    let step2 = ctx.request_keyed(
        "step2",
        "elicitation/create",
        ask_for("color", "Step 2: What is your favorite color?"),
    )?;
    let color = accepted_str(&step2, "color")?;
    Ok(format!("{name}'s favorite color is {color}"))
}

/// Asks the user for a preference when the client can elicit, else the client's model: the
/// host refuses requests for capabilities the client did not declare
#[tool]
pub fn test_input_required_result_capabilities(ctx: &Context) -> Result<String, ToolError> {
    let asked = ctx.request_keyed(
        "preference",
        "elicitation/create",
        ask_for("preference", "Which do you prefer, tea or coffee?"),
    );
    match asked {
        Err(HostError::Unsupported(_)) => {}
        other => {
            let answer = other?;
            return Ok(format!(
                "The user prefers {}",
                accepted_str(&answer, "preference")?
            ));
        }
    }
    let question = sampling_request("Which is better, tea or coffee?", 50);
    let answer = ctx.request_keyed("model_preference", "sampling/createMessage", question)?;
    Ok(format!("The model prefers: {}", sampled_text(&answer)))
}

/// A greeting for the user, who gives their name first (key `user_name`): not one of the
/// suite's fixtures, but `resources/read` may ask the client too (2026-07-28)
#[resource(
    uri = "test://input-required-resource",
    name = "input-required-resource",
    mime_type = "text/plain"
)]
pub fn input_required_resource(ctx: &Context) -> Result<String, ProtocolError> {
    let answer = ctx.request_keyed(
        "user_name",
        "elicitation/create",
        ask_for("name", "What is your name?"),
    )?;
    let name =
        accepted_str(&answer, "name").map_err(|e| ProtocolError::invalid_params(e.to_string()))?;
    Ok(format!("Hello, {name}!"))
}

/// A prompt built around the context the user gives (key `user_context`)
#[prompt]
pub fn test_input_required_result_prompt(ctx: &Context) -> Result<String, ProtocolError> {
    let answer = ctx.request_keyed(
        "user_context",
        "elicitation/create",
        ask_for("context", "What context should the prompt use?"),
    )?;
    let context = accepted_str(&answer, "context")
        .map_err(|e| ProtocolError::invalid_params(e.to_string()))?;
    Ok(format!("Answer the question using this context: {context}"))
}
