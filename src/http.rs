//! The HTTP front: the router, health endpoints and the Streamable HTTP MCP endpoint.
//!
//! - [`guard`]: Host/Origin, Accept and Content-Type checks.
//! - [`cutoff`]: the JSON-RPC error calls get when the shutdown timeout cuts them off.
//! - [`edge`]: the layer in front of the MCP handlers: authentication, Host/Origin, metrics.
//! - [`error`]: HTTP errors with JSON-RPC bodies.
//! - [`health`]: `/health` and `/ready`.
//! - [`mcp`]: `POST|GET|DELETE` on the MCP endpoint, JSON or SSE responses.
//! - [`per_request`]: protocol 2026-07-28 requests (headers, no sessions, `subscriptions/listen`).
//! - [`resource_metadata`]: the OAuth Protected Resource Metadata, with `--oauth-issuer`.
//! - [`respond`]: a request's answer, JSON or SSE, for every protocol revision.
//! - [`sse`]: response streams, resumable streams (`Last-Event-ID`) and the session stream.

mod body;
pub(crate) mod cutoff;
pub(crate) mod edge;
pub(crate) mod error;
pub(crate) mod guard;
pub(crate) mod health;
pub(crate) mod mcp;
pub(crate) mod per_request;
pub(crate) mod resource_metadata;
pub(crate) mod respond;
pub(crate) mod sse;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::mcp::Service;
pub(crate) use guard::Security;

/// What every handler needs: one `Arc`, because axum clones the state for every request.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<AppShared>);

impl AppState {
    pub(crate) fn new(shared: AppShared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppShared;

    fn deref(&self) -> &AppShared {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Debug)]
pub(crate) struct AppShared {
    /// The MCP core.
    pub(crate) service: Arc<Service>,
    /// Host/Origin rules for the MCP endpoint.
    pub(crate) security: Arc<Security>,
    /// Largest request body accepted, in bytes.
    pub(crate) max_body_bytes: usize,
    /// Stateless mode.
    pub(crate) stateless: bool,
    /// Who may use the MCP endpoint.
    pub(crate) auth: Arc<crate::auth::AuthConfig>,
    /// Fired when the shutdown timeout runs out: calls still running answer with an error.
    pub(crate) cutoff: Arc<cutoff::Cutoff>,
}

/// The methods the MCP endpoint answers, for `Allow`.
fn endpoint_methods(stateless: bool) -> &'static str {
    if stateless {
        "POST"
    } else {
        "GET, POST, DELETE"
    }
}

/// The methods `/health` and `/ready` answer, for `Allow`.
const PROBE_METHODS: &str = "GET, HEAD";

/// What a connection serves: the application's router behind the [edge layer](edge).
pub(crate) type App = edge::EdgeService<Router>;

/// `router` (with `/metrics` merged in, if it is on) behind the edge layer, which guards the MCP
/// endpoint of `state`.
pub(crate) fn app(router: Router, state: &AppState, endpoint: &str) -> App {
    use tower_layer::Layer;
    let edge = edge::Edge {
        endpoint: endpoint.to_owned(),
        state: state.clone(),
    };
    edge::EdgeLayer(Arc::new(edge)).layer(router)
}

/// The application's router: `/health`, `/ready` and the MCP endpoint at `endpoint`. Any other
/// path is 404 and any other method 405 with `Allow`, both with a JSON-RPC error body.
pub(crate) fn router(state: AppState, endpoint: &str) -> Router {
    let mcp = get(mcp::get).post(mcp::post).delete(mcp::delete);
    let allow = endpoint_methods(state.stateless);
    let refuse = move || async move { error::method_not_allowed(allow) };
    // axum would answer HEAD with the GET handler, which opens (and so replaces) the session's
    // stream. HEAD gets 405 like every other method the endpoint does not serve (the edge
    // layer passes them: refused the same way with or without credentials).
    let mcp = mcp.head(refuse).fallback(refuse);
    let probe_refuse = || async { error::method_not_allowed(PROBE_METHODS) };
    let mut router = Router::new()
        .route("/health", get(health::health).fallback(probe_refuse))
        .route("/ready", get(health::ready).fallback(probe_refuse))
        .route(endpoint, mcp);
    if state.auth.oauth().is_some() {
        let metadata = get(resource_metadata::get).fallback(probe_refuse);
        let suffixed = format!("{}{endpoint}", resource_metadata::WELL_KNOWN);
        router = router
            .route(resource_metadata::WELL_KNOWN, metadata.clone())
            .route(&suffixed, metadata);
    }
    router.fallback(error::not_found).with_state(state)
}

/// `GET /metrics`, behind authentication when `auth` is given (`--metrics-auth` with
/// authentication on). Merged into the application's router; other methods get 405, outside
/// the auth layer as on the other routes.
pub(crate) fn metrics_router(
    metrics: Arc<crate::metrics::Metrics>,
    auth: Option<Arc<crate::auth::AuthConfig>>,
) -> Router {
    let route = get(crate::metrics::handler);
    let route = match auth {
        Some(auth) => route.route_layer(axum::middleware::from_fn_with_state(
            auth,
            crate::auth::require_auth,
        )),
        None => route,
    };
    let refuse = || async { error::method_not_allowed(PROBE_METHODS) };
    Router::new()
        .route("/metrics", route.fallback(refuse))
        .with_state(metrics)
}
