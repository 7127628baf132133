//! HTTP-level failures of the MCP endpoint, answered with a JSON-RPC error body.
//!
//! Messages say what the client did wrong and never carry internal details; those are logged.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rmcp::model::{ErrorCode, ErrorData, RequestId};

use crate::mcp::jsonrpc;

/// An HTTP status with a JSON-RPC error body.
#[derive(Debug)]
pub struct HttpError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON-RPC error code in the body.
    pub code: i32,
    /// The message in the body.
    pub message: String,
    /// The request id, when it was readable.
    pub id: Option<RequestId>,
    /// Structured error data (e.g. the supported protocol versions).
    pub data: Option<serde_json::Value>,
}

impl HttpError {
    /// An error with the generic server-error code -32000.
    pub fn new(status: StatusCode, message: impl Into<String>) -> HttpError {
        HttpError {
            status,
            code: -32000,
            message: message.into(),
            id: None,
            data: None,
        }
    }

    /// 403 for a rejected Host or Origin.
    pub fn forbidden(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::FORBIDDEN, message)
    }

    /// An error carrying a specific JSON-RPC error.
    pub fn rpc(status: StatusCode, id: Option<RequestId>, err: ErrorData) -> HttpError {
        HttpError {
            status,
            code: err.code.0,
            message: err.message.into_owned(),
            id,
            data: err.data,
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = jsonrpc::error(
            self.id.as_ref(),
            &ErrorData::new(ErrorCode(self.code), self.message, self.data),
        );
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}
