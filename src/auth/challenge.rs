//! The `WWW-Authenticate` challenges (RFC 6750 §3) of a refused request.
//!
//! A `401` says `invalid_token` when a credential was presented and nothing more when none was
//! (the client should simply authenticate). With OAuth on, every challenge also carries
//! `resource_metadata` (RFC 9728 §5.1), the URL from which a client learns which authorization
//! server to get a token from: that is how the MCP SDKs discover the server's auth. A `403` for a
//! tool whose scope the caller lacks says `insufficient_scope` and the `scope` it needs, the MCP
//! specification's scope challenge.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AuthConfig, AuthError};

impl AuthError {
    /// The `WWW-Authenticate` challenge: `invalid_token` only when a credential was presented.
    pub(crate) fn challenge(&self) -> &'static str {
        match self {
            AuthError::Missing => r#"Bearer realm="fastmcp""#,
            _ => r#"Bearer realm="fastmcp", error="invalid_token""#,
        }
    }

    /// The message in the JSON-RPC error body: no more than the challenge says.
    pub(crate) fn public_message(&self) -> &'static str {
        match self {
            AuthError::Missing => "Unauthorized: authentication required",
            _ => "Unauthorized: invalid or expired credentials",
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match &self {
            AuthError::Missing => tracing::debug!("request without credentials refused"),
            other => tracing::info!(reason = %other, "authentication failed"),
        }
        let body = serde_json::json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": {"code": -32000, "message": self.public_message()},
        });
        let mut response = (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(self.challenge()),
        );
        response
    }
}

impl AuthConfig {
    /// The `401` for `err`, naming the Protected Resource Metadata when OAuth is on.
    pub(crate) fn refuse(&self, err: AuthError) -> Response {
        let challenge = self.oauth.as_ref().and_then(|o| {
            let v = format!(
                r#"{}, resource_metadata="{}""#,
                err.challenge(),
                o.metadata_url()
            );
            HeaderValue::from_str(&v).ok()
        });
        let mut response = err.into_response();
        if let Some(v) = challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
    }

    /// The challenge of a `403` for a tool that needs `scopes` the caller lacks.
    pub(crate) fn scope_challenge(&self, scopes: &[String]) -> HeaderValue {
        // Scope tokens never hold quotes or backslashes (RFC 6749 §3.3); a manifest's that do
        // are left out rather than break the header.
        let scope: Vec<&str> = scopes
            .iter()
            .map(String::as_str)
            .filter(|s| {
                s.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
            })
            .collect();
        let mut v = format!(
            r#"Bearer realm="fastmcp", error="insufficient_scope", scope="{}""#,
            scope.join(" ")
        );
        if let Some(o) = &self.oauth {
            v.push_str(&format!(r#", resource_metadata="{}""#, o.metadata_url()));
        }
        HeaderValue::from_str(&v).unwrap_or_else(|_| {
            HeaderValue::from_static(r#"Bearer realm="fastmcp", error="insufficient_scope""#)
        })
    }
}
