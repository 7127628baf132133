//! HTTP-level failures, answered with a JSON-RPC error body (`id: null` unless the request's id
//! was readable).
//!
//! Messages say what the client did wrong and never carry internal details; those are logged.
//! Every refusal the router makes itself goes through here too: [`not_found`] for a path it
//! does not serve and [`method_not_allowed`] (with `Allow`) for a method a path does not
//! answer. hyper's own 400, 414 and 431 for requests it cannot parse are the exception: they are
//! written before the router sees a request (docs/architecture.md, "Error bodies").

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rmcp::model::{ErrorCode, ErrorData, RequestId};

use crate::mcp::jsonrpc;

/// An HTTP status with a JSON-RPC error body.
#[derive(Debug)]
pub(crate) struct HttpError {
    /// The HTTP status.
    pub(crate) status: StatusCode,
    /// The JSON-RPC error code in the body.
    pub(crate) code: i32,
    /// The message in the body.
    pub(crate) message: String,
    /// The request id, when it was readable.
    pub(crate) id: Option<RequestId>,
    /// Structured error data (e.g. the supported protocol versions).
    pub(crate) data: Option<serde_json::Value>,
}

impl HttpError {
    /// An error with the generic server-error code -32000.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> HttpError {
        HttpError {
            status,
            code: -32000,
            message: message.into(),
            id: None,
            data: None,
        }
    }

    /// 403 for a rejected Host or Origin.
    pub(crate) fn forbidden(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::FORBIDDEN, message)
    }

    /// 503 for a request that comes before every plugin has loaded.
    pub(crate) fn still_loading(id: RequestId) -> HttpError {
        HttpError::rpc(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(id),
            ErrorData::new(
                rmcp::model::ErrorCode(-32000),
                "Service Unavailable: plugins are still loading",
                None,
            ),
        )
    }

    /// An error carrying a specific JSON-RPC error.
    pub(crate) fn rpc(status: StatusCode, id: Option<RequestId>, err: ErrorData) -> HttpError {
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

/// The router's fallback: 404 for a path this server does not serve.
pub(crate) async fn not_found() -> Response {
    HttpError::new(StatusCode::NOT_FOUND, "Not Found: no such path").into_response()
}

/// 405 for a method `path` does not answer, with `Allow` listing the ones it does. A `HEAD`
/// request gets the same status and headers without the body (RFC 9110 §9.3.2).
pub(crate) fn method_not_allowed(allow: &'static str) -> Response {
    let mut r = HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method Not Allowed: use {allow}"),
    )
    .into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(r.into_body(), 4096).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn router_refusals_have_json_rpc_bodies() {
        let r = not_found().await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let v = body(r).await;
        assert_eq!(v["jsonrpc"], "2.0");
        assert_eq!(v["id"], serde_json::Value::Null);
        assert_eq!(v["error"]["code"], -32000);

        let r = method_not_allowed("GET, HEAD");
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        let v = body(r).await;
        assert_eq!(v["error"]["code"], -32000);
        assert_eq!(v["error"]["message"], "Method Not Allowed: use GET, HEAD");
    }
}
