//! Prompts: [`PromptDef`], what prompt functions return ([`PromptResult`], [`PromptMessage`],
//! [`IntoPromptResult`]), and the helpers the `#[prompt]` attribute's generated code calls.

use std::fmt::{self, Display};

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{Content, Context, ProtocolError, Role};

/// The function that serves a prompt: builds its messages from the request's arguments.
pub type PromptHandler = for<'c, 'h, 'r> fn(
    &'c Context<'h>,
    &'r Map<String, Value>,
) -> Result<PromptResult, ProtocolError>;

/// One message of a prompt: a role and one content block.
///
/// ```
/// use fastmcp_sdk::{Content, PromptMessage};
///
/// let messages = [
///     PromptMessage::user("What is in this picture?"),
///     PromptMessage::user(Content::image("iVBORw0KGgo...", "image/png")),
///     PromptMessage::assistant("A cat."),
/// ];
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptMessage {
    role: Role,
    content: Content,
}

impl PromptMessage {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<Content>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }

    /// A message from the user.
    pub fn user(content: impl Into<Content>) -> Self {
        Self::new(Role::User, content)
    }

    /// A message from the assistant.
    pub fn assistant(content: impl Into<Content>) -> Self {
        Self::new(Role::Assistant, content)
    }

    /// Who sends it.
    pub fn role(&self) -> Role {
        self.role
    }

    /// What it says.
    pub fn content(&self) -> &Content {
        &self.content
    }
}

/// The answer to `prompts/get` (MCP `GetPromptResult`): messages and an optional description
/// (the prompt's own description when left out).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PromptResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    messages: Vec<PromptMessage>,
}

impl PromptResult {
    /// A result with these messages.
    pub fn new(messages: impl IntoIterator<Item = PromptMessage>) -> Self {
        Self {
            description: None,
            messages: messages.into_iter().collect(),
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Appends a message.
    pub fn with_message(mut self, message: PromptMessage) -> Self {
        self.messages.push(message);
        self
    }

    /// The description, if set.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The messages.
    pub fn messages(&self) -> &[PromptMessage] {
        &self.messages
    }

    /// Fills in the description if the function did not set one.
    pub(crate) fn or_description(mut self, description: Option<&str>) -> Self {
        if self.description.is_none() {
            self.description = description.map(str::to_owned);
        }
        self
    }
}

impl From<Vec<PromptMessage>> for PromptResult {
    fn from(messages: Vec<PromptMessage>) -> Self {
        Self::new(messages)
    }
}

/// A value a `#[prompt]` function may return: [`PromptResult`], a [`PromptMessage`] or a
/// `Vec` of them, `String` / `&str` (one user text message), or `Result<T, E>` with
/// `E: Display` (an `Err` is a JSON-RPC error: `-32603` with the error's text, unless it is a
/// [`ProtocolError`], which keeps its code).
pub trait IntoPromptResult {
    /// Converts the value into the prompt's result.
    fn into_prompt_result(self) -> Result<PromptResult, ProtocolError>;
}

impl IntoPromptResult for PromptResult {
    fn into_prompt_result(self) -> Result<PromptResult, ProtocolError> {
        Ok(self)
    }
}

impl IntoPromptResult for PromptMessage {
    fn into_prompt_result(self) -> Result<PromptResult, ProtocolError> {
        Ok(PromptResult::new([self]))
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> Result<PromptResult, ProtocolError> {
        Ok(self.into())
    }
}

impl IntoPromptResult for String {
    fn into_prompt_result(self) -> Result<PromptResult, ProtocolError> {
        PromptMessage::user(self).into_prompt_result()
    }
}

impl IntoPromptResult for &str {
    fn into_prompt_result(self) -> Result<PromptResult, ProtocolError> {
        PromptMessage::user(self).into_prompt_result()
    }
}

impl<T: IntoPromptResult, E: Display + 'static> IntoPromptResult for Result<T, E> {
    fn into_prompt_result(self) -> Result<PromptResult, ProtocolError> {
        self.map_err(ProtocolError::from_display)?
            .into_prompt_result()
    }
}

/// One argument of a prompt as `prompts/list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptArgument {
    /// The argument's name (the key in `prompts/get` arguments).
    pub name: String,
    /// A human-readable title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the argument is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether `prompts/get` must include it.
    pub required: bool,
}

/// A prompt as the plugin declares it. `#[prompt]` builds these.
#[derive(Clone)]
pub struct PromptDef {
    pub(crate) name: &'static str,
    pub(crate) title: Option<&'static str>,
    pub(crate) description: Option<&'static str>,
    pub(crate) arguments: fn() -> Vec<PromptArgument>,
    pub(crate) handler: PromptHandler,
}

impl PromptDef {
    /// A prompt with this name and handler, no description and no arguments.
    pub fn new(name: &'static str, handler: PromptHandler) -> Self {
        Self {
            name,
            title: None,
            description: None,
            arguments: Vec::new,
            handler,
        }
    }

    /// Sets the human-readable title.
    pub fn with_title(mut self, title: &'static str) -> Self {
        self.title = Some(title);
        self
    }

    /// Sets the description.
    pub fn with_description(mut self, description: &'static str) -> Self {
        self.description = Some(description);
        self
    }

    /// Sets the function listing the arguments (called once, for the manifest). Required ones
    /// are checked before the handler runs.
    pub fn with_arguments(mut self, arguments: fn() -> Vec<PromptArgument>) -> Self {
        self.arguments = arguments;
        self
    }

    /// The prompt's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Debug for PromptDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromptDef")
            .field("name", &self.name)
            .field("title", &self.title)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

/// Implemented by the hidden struct `#[prompt]` puts beside each function.
#[doc(hidden)]
pub trait PromptItem {
    fn definition() -> PromptDef;
}

/// The arguments of a prompt taking `T`: its schema's properties, in the struct's field order,
/// with their descriptions and whether they are required.
#[doc(hidden)]
pub fn prompt_arguments<T: DeserializeOwned + JsonSchema>() -> Vec<PromptArgument> {
    let schema = crate::schema::input_schema::<T>();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let text = |property: &Value, key: &str| property[key].as_str().map(str::to_owned);
    let argument = |name: &str| PromptArgument {
        name: name.to_owned(),
        title: text(&properties[name], "title"),
        description: text(&properties[name], "description"),
        required: required.contains(&name),
    };
    // The schema's map is sorted by name; the struct's fields give the declared order.
    let ordered = crate::args::struct_fields::<T>().unwrap_or_default();
    let mut arguments: Vec<PromptArgument> = ordered
        .iter()
        .filter(|name| properties.contains_key(**name))
        .map(|name| argument(name))
        .collect();
    for name in properties.keys() {
        if !ordered.contains(&name.as_str()) {
            arguments.push(argument(name));
        }
    }
    arguments
}

/// Runs a prompt function without arguments.
#[doc(hidden)]
pub fn get_prompt<R: IntoPromptResult>(
    function: impl FnOnce() -> R,
) -> Result<PromptResult, ProtocolError> {
    function().into_prompt_result()
}

/// Deserializes the arguments into `T` and runs the prompt function with them.
#[doc(hidden)]
pub fn get_prompt_args<T: DeserializeOwned, R: IntoPromptResult>(
    name: &str,
    arguments: &Map<String, Value>,
    function: impl FnOnce(T) -> R,
) -> Result<PromptResult, ProtocolError> {
    let arguments = crate::args::from_map(arguments).map_err(|reason| {
        ProtocolError::invalid_params(format!("Invalid arguments for prompt \"{name}\": {reason}"))
    })?;
    function(arguments).into_prompt_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Args {
        /// Where to go
        zeta_city: String,
        /// How many days
        #[schemars(title = "Days")]
        days: Option<u32>,
        alpha: String,
    }

    #[test]
    fn arguments_come_from_the_schema_in_field_order() {
        let arguments = prompt_arguments::<Args>();
        assert_eq!(
            serde_json::to_value(arguments).unwrap(),
            json!([
                {"name": "zetaCity", "description": "Where to go", "required": true},
                {"name": "days", "title": "Days", "description": "How many days", "required": false},
                {"name": "alpha", "required": true},
            ])
        );
        let map = prompt_arguments::<std::collections::HashMap<String, String>>();
        assert!(map.is_empty());
    }

    #[test]
    fn results_serialize_to_the_mcp_shape() {
        let result = PromptResult::new([PromptMessage::user("hi")]).with_message(
            PromptMessage::assistant(Content::image("AAAA", "image/png")),
        );
        assert_eq!(
            serde_json::to_value(&result).unwrap(),
            json!({"messages": [
                {"role": "user", "content": {"type": "text", "text": "hi"}},
                {"role": "assistant", "content":
                    {"type": "image", "data": "AAAA", "mimeType": "image/png"}},
            ]})
        );
        let described = "hi".into_prompt_result().unwrap().or_description(Some("d"));
        assert_eq!(described.description(), Some("d"));
        let failed: Result<String, ProtocolError> = Err(ProtocolError::invalid_params("no"));
        assert_eq!(failed.into_prompt_result().unwrap_err().code(), -32602);
    }

    #[test]
    fn invalid_arguments_are_invalid_params() {
        let arguments = json!({"zetaCity": "Oslo", "alpha": "a", "days": "many"});
        let error =
            get_prompt_args("trip", arguments.as_object().unwrap(), |_: Args| "x").unwrap_err();
        assert_eq!(error.code(), -32602);
        assert_eq!(
            error.message(),
            "Invalid arguments for prompt \"trip\": days: invalid value: string \"many\", \
             expected u32"
        );
    }
}
