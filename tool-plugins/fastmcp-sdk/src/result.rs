//! What a tool returns: [`ToolResult`] (an MCP `CallToolResult`) and the [`IntoToolResult`]
//! conversions that let tools return plain values.

use std::fmt::{self, Display};

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::{Content, HostError};

/// The result of one tool call: content blocks, optional structured content, and whether the
/// tool failed. Serializes to the MCP `CallToolResult`.
///
/// ```
/// use fastmcp_sdk::{Content, ToolResult};
/// use serde_json::json;
///
/// let result = ToolResult::text("3 files")
///     .with_content(Content::resource_link("file:///a.txt", "a.txt"))
///     .with_structured_content(json!({"count": 3}));
/// assert!(!result.is_error());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResult {
    content: Vec<Content>,
    #[serde(skip_serializing_if = "Option::is_none")]
    structured_content: Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    is_error: bool,
}

impl ToolResult {
    /// A successful result with no content.
    pub fn new() -> Self {
        Self::default()
    }

    /// A successful result with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        // Sized for its one block: pushing onto an empty `Vec` would allocate room for four.
        Self {
            content: vec![Content::text(text)],
            ..Self::default()
        }
    }

    /// A failed result (`isError: true`) with the message as its text block.
    pub fn error(message: impl Into<String>) -> Self {
        Self::text(message).with_error(true)
    }

    /// Appends a content block.
    pub fn with_content(mut self, content: Content) -> Self {
        self.content.push(content);
        self
    }

    /// Sets the structured content (a JSON object matching the tool's output schema).
    pub fn with_structured_content(mut self, value: Value) -> Self {
        self.structured_content = Some(value);
        self
    }

    /// Marks the result as failed or not.
    pub fn with_error(mut self, is_error: bool) -> Self {
        self.is_error = is_error;
        self
    }

    /// The content blocks.
    pub fn content(&self) -> &[Content] {
        &self.content
    }

    /// The structured content, if any.
    pub fn structured_content(&self) -> Option<&Value> {
        self.structured_content.as_ref()
    }

    /// Whether the tool failed.
    pub fn is_error(&self) -> bool {
        self.is_error
    }
}

impl From<Vec<Content>> for ToolResult {
    fn from(content: Vec<Content>) -> Self {
        Self {
            content,
            ..Self::default()
        }
    }
}

/// A value a `#[tool]` function may return.
///
/// Implemented for `String`, `&str`, `()`, [`Content`], `Vec<Content>`, [`ToolResult`],
/// [`Json<T>`], [`serde_json::Value`] and `Result<T, E>` where `T: IntoToolResult` and
/// `E: Display` (an `Err` becomes an `isError: true` result carrying the error's text).
pub trait IntoToolResult {
    /// Converts the value into the call's result.
    fn into_tool_result(self) -> ToolResult;

    /// The JSON Schema of the structured content this type produces, if it produces any; it
    /// becomes the tool's `outputSchema`.
    fn output_schema() -> Option<Value> {
        None
    }
}

impl IntoToolResult for ToolResult {
    fn into_tool_result(self) -> ToolResult {
        self
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> ToolResult {
        ToolResult::text(self)
    }
}

impl IntoToolResult for &str {
    fn into_tool_result(self) -> ToolResult {
        ToolResult::text(self)
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> ToolResult {
        ToolResult::new()
    }
}

impl IntoToolResult for Content {
    fn into_tool_result(self) -> ToolResult {
        ToolResult::new().with_content(self)
    }
}

impl IntoToolResult for Vec<Content> {
    fn into_tool_result(self) -> ToolResult {
        self.into()
    }
}

/// A JSON value becomes a text block holding it; an object is also sent as structured content.
impl IntoToolResult for Value {
    fn into_tool_result(self) -> ToolResult {
        let result = ToolResult::text(self.to_string());
        if self.is_object() {
            result.with_structured_content(self)
        } else {
            result
        }
    }
}

impl<T: IntoToolResult, E: Display> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> ToolResult {
        match self {
            Ok(value) => value.into_tool_result(),
            Err(error) => ToolResult::error(error.to_string()),
        }
    }

    fn output_schema() -> Option<Value> {
        T::output_schema()
    }
}

/// Structured output: the value becomes the result's `structuredContent` (plus one text block
/// holding the same JSON, for clients that only read text), and the JSON Schema of `T` becomes
/// the tool's `outputSchema`.
///
/// `T` must serialize to a JSON object (a struct, or a map); the manifest refuses other schemas.
///
/// ```
/// use fastmcp_sdk::prelude::*;
///
/// #[derive(Serialize, JsonSchema)]
/// struct Weather { temperature: f64, conditions: String }
///
/// /// Current weather
/// #[tool]
/// fn weather() -> Json<Weather> {
///     Json(Weather { temperature: 22.5, conditions: "sunny".into() })
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: Serialize + JsonSchema> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> ToolResult {
        match serde_json::to_value(&self.0) {
            Ok(value) => ToolResult::text(value.to_string()).with_structured_content(value),
            Err(error) => {
                ToolResult::error(format!("could not serialize the tool's output: {error}"))
            }
        }
    }

    fn output_schema() -> Option<Value> {
        Some(crate::schema::output_schema::<T>())
    }
}

/// A tool failure: its message becomes the text of an `isError: true` result.
///
/// Converts from `String`, `&str` and [`HostError`], so `?` works on host requests:
/// `let answer = ctx.elicit(params)?;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    message: String,
}

impl ToolError {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message shown to the client.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ToolError {}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

impl From<HostError> for ToolError {
    fn from(error: HostError) -> Self {
        Self::new(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire(result: impl IntoToolResult) -> Value {
        serde_json::to_value(result.into_tool_result()).unwrap()
    }

    #[test]
    fn plain_values_become_text() {
        assert_eq!(
            wire("hi"),
            json!({"content": [{"type": "text", "text": "hi"}]})
        );
        assert_eq!(wire(String::from("hi")), wire("hi"));
        assert_eq!(wire(()), json!({"content": []}));
        assert_eq!(
            wire(vec![Content::text("a"), Content::text("b")])["content"][1]["text"],
            "b"
        );
        assert_eq!(
            wire(json!([1, 2])),
            json!({"content": [{"type": "text", "text": "[1,2]"}]})
        );
        assert_eq!(wire(json!({"a": 1}))["structuredContent"], json!({"a": 1}));
    }

    #[test]
    fn errors_set_is_error() {
        let failed: Result<String, ToolError> = Err("no such file".into());
        assert_eq!(
            wire(failed),
            json!({"content": [{"type": "text", "text": "no such file"}], "isError": true})
        );
        let host: Result<(), ToolError> = Err(HostError::Cancelled.into());
        assert_eq!(wire(host)["isError"], true);
    }

    #[test]
    fn json_gives_structured_content_and_an_output_schema() {
        #[derive(Serialize, JsonSchema)]
        struct Point {
            x: i32,
            y: i32,
        }
        let value = wire(Json(Point { x: 1, y: 2 }));
        assert_eq!(value["structuredContent"], json!({"x": 1, "y": 2}));
        assert_eq!(value["content"][0]["text"], r#"{"x":1,"y":2}"#);
        let schema = <Result<Json<Point>, ToolError>>::output_schema().unwrap();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["x", "y"]));
        assert_eq!(String::output_schema(), None);
    }
}
