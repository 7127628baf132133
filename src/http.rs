//! The HTTP front: the router, health endpoints and the Streamable HTTP MCP endpoint.
//!
//! - [`guard`]: Host/Origin, Accept and Content-Type checks.
//! - [`error`]: HTTP errors with JSON-RPC bodies.
//! - [`health`]: `/health` and `/ready`.
//! - [`mcp`]: `POST|GET|DELETE` on the MCP endpoint, JSON or SSE responses.
//! - [`modern`]: protocol 2026-07-28 requests (headers, no sessions, `subscriptions/listen`).
//! - [`sse`]: response streams, resumable streams (`Last-Event-ID`) and the session stream.

pub mod error;
pub mod guard;
pub mod health;
pub mod mcp;
pub mod modern;
pub mod sse;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::mcp::Service;
pub use guard::Security;

/// What every handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The MCP core.
    pub service: Arc<Service>,
    /// Host/Origin rules for the MCP endpoint.
    pub security: Arc<Security>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Stateless mode.
    pub stateless: bool,
    /// Who may use the MCP endpoint.
    pub auth: Arc<crate::auth::AuthConfig>,
}

/// The application's router: `/health`, `/ready` and the MCP endpoint at `endpoint`.
pub fn router(state: AppState, endpoint: &str) -> Router {
    let mcp = get(mcp::get).post(mcp::post).delete(mcp::delete);
    // Without authentication the endpoint pays nothing for it.
    let mcp = if state.auth.is_enabled() {
        mcp.route_layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            crate::auth::require_auth,
        ))
    } else {
        mcp
    };
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route(endpoint, mcp)
        .with_state(state)
}
