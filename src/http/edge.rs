//! The one layer in front of the MCP endpoint's handlers, for the work every request shares:
//! authentication (when it is on), the Host/Origin checks, and the request metrics
//! (`requests_total`). Handlers do only their own work; a POST handler names the JSON-RPC
//! method it served in a [`MethodLabel`] response extension, which the layer reads.
//!
//! Order: authentication first (a refusal is 401 whatever the Host), then Host/Origin, then
//! the handler. Every response the layer sees is counted, refusals included.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Security;
use crate::auth::AuthConfig;
use crate::metrics::Metrics;

/// What the layer needs, shared by every request.
#[derive(Debug)]
pub(crate) struct Edge {
    pub(crate) auth: Arc<AuthConfig>,
    pub(crate) security: Arc<Security>,
    pub(crate) metrics: Option<Arc<Metrics>>,
}

/// The `method` label of a response's `requests_total` sample, set by the handler that
/// parsed a JSON-RPC message. Without it the label is the HTTP method (`GET`, `DELETE`) or
/// `other`: a request refused before its body was read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MethodLabel(pub(crate) &'static str);

/// The middleware: checks the request, runs the handler, counts the response.
pub(crate) async fn edge(State(edge): State<Arc<Edge>>, request: Request, next: Next) -> Response {
    let Some(metrics) = edge.metrics.as_ref() else {
        return checked(&edge, request, next).await;
    };
    let http_label = match *request.method() {
        Method::GET => "GET",
        Method::DELETE => "DELETE",
        _ => "other",
    };
    let response = checked(&edge, request, next).await;
    let label = response
        .extensions()
        .get::<MethodLabel>()
        .map_or(http_label, |l| l.0);
    metrics.record_request(label, response.status().as_u16());
    response
}

/// Authentication, then Host/Origin, then the handler.
async fn checked(edge: &Edge, mut request: Request, next: Next) -> Response {
    // Without authentication the endpoint pays nothing for it.
    if edge.auth.is_enabled() {
        match edge.auth.authenticate(request.headers()).await {
            Ok(Some(caller)) => {
                request.extensions_mut().insert(caller);
            }
            Ok(None) => {}
            Err(e) => return edge.auth.refuse(e),
        }
    }
    if let Err(e) = edge.security.check(request.headers()) {
        return e.into_response();
    }
    next.run(request).await
}
