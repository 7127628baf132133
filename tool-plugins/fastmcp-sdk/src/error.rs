//! [`ProtocolError`]: how resources, prompts and completions fail. Unlike a tool failure (an
//! `isError` result the model reads), these are JSON-RPC errors the client sees.

use std::any::Any;
use std::fmt::{self, Display};

use serde::Serialize;
use serde_json::{Value, json};

use crate::HostError;

/// JSON-RPC codes used in the error objects plugins return.
pub(crate) mod code {
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    /// MCP's "resource not found" (the host maps it to the code of the protocol version in use).
    pub const RESOURCE_NOT_FOUND: i64 = -32002;
}

/// A JSON-RPC error answered to a `resources/read`, `prompts/get` or `completion/complete`.
///
/// Resource, prompt and completion functions may return `Result<T, E>`: an `Err` that is a
/// `ProtocolError` is sent as it is; any other error type becomes an internal error (`-32603`)
/// carrying the error's text.
///
/// ```
/// use fastmcp_sdk::ProtocolError;
///
/// let missing = ProtocolError::resource_not_found("file:///gone.txt");
/// assert_eq!(missing.code(), -32002);
/// assert_eq!(missing.message(), "Resource not found: file:///gone.txt");
/// assert_eq!(ProtocolError::new("disk on fire").code(), -32603);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProtocolError {
    code: i64,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Value>,
}

impl ProtocolError {
    /// An internal error (`-32603`) with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_code(code::INTERNAL_ERROR, message)
    }

    /// An error with any JSON-RPC code.
    pub fn with_code(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// The request's parameters are wrong (`-32602`).
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::with_code(code::INVALID_PARAMS, message)
    }

    /// The resource does not exist (`-32002`, `"Resource not found: <uri>"`, data `{uri}`).
    pub fn resource_not_found(uri: &str) -> Self {
        Self::with_code(
            code::RESOURCE_NOT_FOUND,
            format!("Resource not found: {uri}"),
        )
        .with_data(json!({ "uri": uri }))
    }

    /// Attaches the error's `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The JSON-RPC code.
    pub fn code(&self) -> i64 {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `data`, if any.
    pub fn data(&self) -> Option<&Value> {
        self.data.as_ref()
    }

    /// Any error a function returned: a `ProtocolError` as it is, anything else as `-32603`.
    pub(crate) fn from_display<E: Display + 'static>(error: E) -> Self {
        match (&error as &dyn Any).downcast_ref::<Self>() {
            Some(protocol) => protocol.clone(),
            None => Self::new(error.to_string()),
        }
    }
}

impl Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProtocolError {}

impl From<String> for ProtocolError {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for ProtocolError {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

/// A failed request to the client. [`HostError::InputRequired`] needs no special care: the call
/// ends with the status the host expects whatever the function returns.
impl From<HostError> for ProtocolError {
    fn from(error: HostError) -> Self {
        Self::new(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_errors_become_internal_errors_and_protocol_errors_stay() {
        let io = std::io::Error::other("disk full");
        assert_eq!(
            ProtocolError::from_display(io),
            ProtocolError::new("disk full")
        );
        let not_found = ProtocolError::resource_not_found("x://1");
        assert_eq!(ProtocolError::from_display(not_found.clone()), not_found);
        assert_eq!(
            serde_json::to_value(&not_found).unwrap(),
            json!({"code": -32002, "message": "Resource not found: x://1",
                "data": {"uri": "x://1"}})
        );
        assert_eq!(
            serde_json::to_value(ProtocolError::invalid_params("bad")).unwrap(),
            json!({"code": -32602, "message": "bad"})
        );
    }
}
