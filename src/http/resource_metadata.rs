//! OAuth 2.0 Protected Resource Metadata (RFC 9728): how a client learns, from fastmcp itself,
//! which authorization server issues tokens for it.
//!
//! Served only with `--oauth-issuer`, without credentials, at
//! `/.well-known/oauth-protected-resource` and at its form suffixed with the MCP endpoint's path
//! (`/.well-known/oauth-protected-resource/mcp`), which is the URL a `401`'s
//! `resource_metadata` names. `scopes_supported` lists the scopes the loaded tools require, read
//! at request time so a reload that adds a scoped tool shows it.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// The path of the metadata for a resource at the server's root.
pub(crate) const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// `GET` on either metadata path.
pub(crate) async fn get(State(state): State<AppState>) -> Response {
    let Some(oauth) = state.auth.oauth() else {
        return super::error::not_found().await;
    };
    let catalog = state.service.registry().catalog();
    let mut scopes: Vec<&str> = catalog
        .tools
        .iter()
        .flat_map(|(_, e)| e.access.scopes.iter().map(String::as_str))
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    let body = serde_json::json!({
        "resource": oauth.resource(),
        "authorization_servers": [oauth.issuer()],
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
        "resource_name": "fastmcp",
    });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            // Public metadata that browser-based clients (the MCP Inspector) fetch cross-origin.
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        body.to_string(),
    )
        .into_response()
}
