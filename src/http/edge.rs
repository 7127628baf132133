//! The one layer in front of the MCP endpoint's handlers, for the work every request shares:
//! authentication (when it is on), the Host/Origin checks, and the request metrics
//! (`requests_total`). Handlers do only their own work; a POST handler names the JSON-RPC
//! method it served in a [`MethodLabel`] response extension, which the layer reads.
//!
//! Order: authentication first (a refusal is 401 whatever the Host), then Host/Origin, then
//! the handler. Every response the layer sees is counted, refusals included.
//!
//! A tower [`Layer`] written out rather than `axum::middleware::from_fn`: this runs on every
//! request, and `from_fn` boxes the handler's future and clones the route for each one. Without
//! authentication the checks are synchronous, so the handler's future is wrapped as it is, and
//! a POST on the endpoint goes straight to its handler (boxed, as the router's route would box
//! it) instead of through the router. Authentication, which may await an identity provider,
//! boxes and then calls the router.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use tower_layer::Layer;
use tower_service::Service;

use super::AppState;
use super::mcp::MethodLabel;
use crate::metrics::Metrics;

/// What the layer needs, shared by every request.
#[derive(Debug)]
pub(crate) struct Edge {
    /// The MCP endpoint's path: the layer guards its GET, POST and DELETE, nothing else.
    pub(crate) endpoint: String,
    /// The application's state: its authentication, Host/Origin rules and metrics are the
    /// layer's, and the endpoint's POST handler, which the layer calls itself when no
    /// authentication is on (a POST on the endpoint is most of the traffic, and going through
    /// the router would cost it a route lookup and its parameters for nothing), takes it.
    pub(crate) state: AppState,
}

/// The layer, around the whole router: a layer inside the router (`route_layer`) would cost a
/// boxed clone of the route on every request.
#[derive(Debug, Clone)]
pub(crate) struct EdgeLayer(pub(crate) Arc<Edge>);

impl<S> Layer<S> for EdgeLayer {
    type Service = EdgeService<S>;

    fn layer(&self, inner: S) -> EdgeService<S> {
        EdgeService {
            edge: self.0.clone(),
            inner,
        }
    }
}

/// The layer around the router.
#[derive(Debug, Clone)]
pub(crate) struct EdgeService<S> {
    edge: Arc<Edge>,
    inner: S,
}

impl<S> Service<Request> for EdgeService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !self.edge.guards(&request) {
            // The probes, `/metrics` (its own auth), 404s, and the 405 of other methods (HEAD
            // included) are answered the same way with or without credentials.
            return EdgeFuture {
                state: Stage::Handler {
                    future: self.inner.call(request),
                },
                count: None,
            };
        }
        let count = self.edge.metrics().cloned().map(|m| Count {
            metrics: m,
            http_label: http_label(request.method()),
        });
        let state = if self.edge.state.auth.is_enabled() {
            // The service that was made ready goes into the future; a clone stays (tower's rule).
            let clone = self.inner.clone();
            let inner = std::mem::replace(&mut self.inner, clone);
            Stage::Boxed {
                future: Box::pin(authenticated(self.edge.clone(), request, inner)),
            }
        } else {
            match self.edge.state.security.check(request.headers()) {
                Ok(()) if request.method() == Method::POST => Stage::Boxed {
                    future: Box::pin(super::mcp::post(State(self.edge.state.clone()), request)),
                },
                Ok(()) => Stage::Handler {
                    future: self.inner.call(request),
                },
                Err(e) => Stage::Refused {
                    response: Some(e.into_response()),
                },
            }
        };
        EdgeFuture { state, count }
    }
}

impl Edge {
    /// Where requests are counted, when metrics are on.
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.state.service.options().metrics.as_ref()
    }

    /// Whether `request` is one the layer guards: a method the MCP endpoint serves, on it.
    fn guards(&self, request: &Request) -> bool {
        matches!(
            *request.method(),
            Method::GET | Method::POST | Method::DELETE
        ) && request.uri().path() == self.endpoint
    }
}

/// The label of a response no handler labelled.
fn http_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::DELETE => "DELETE",
        _ => "other",
    }
}

/// Authentication, then Host/Origin, then the handler.
async fn authenticated<S>(edge: Arc<Edge>, mut request: Request, mut inner: S) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    match edge.state.auth.authenticate(request.headers()).await {
        Ok(Some(caller)) => {
            request.extensions_mut().insert(caller);
        }
        Ok(None) => {}
        Err(e) => return edge.state.auth.refuse(e),
    }
    if let Err(e) = edge.state.security.check(request.headers()) {
        return e.into_response();
    }
    match inner.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Where a response is counted.
struct Count {
    metrics: Arc<Metrics>,
    http_label: &'static str,
}

pin_project_lite::pin_project! {
    /// The response future of [`EdgeService`]: counts the response when it is ready.
    pub(crate) struct EdgeFuture<F> {
        #[pin]
        state: Stage<F>,
        count: Option<Count>,
    }
}

pin_project_lite::pin_project! {
    #[project = StageProj]
    enum Stage<F> {
        Refused { response: Option<Response> },
        Handler { #[pin] future: F },
        /// Authentication then the router, or the endpoint's POST handler.
        Boxed { future: BoxFuture<'static, Response> },
    }
}

impl<F> Future for EdgeFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.state.project() {
            StageProj::Refused { response } => {
                response.take().expect("EdgeFuture polled after completion")
            }
            StageProj::Handler { future } => match std::task::ready!(future.poll(cx)) {
                Ok(response) => response,
                Err(never) => match never {},
            },
            StageProj::Boxed { future } => std::task::ready!(future.as_mut().poll(cx)),
        };
        if let Some(count) = this.count.take() {
            let label = response
                .extensions()
                .get::<MethodLabel>()
                .map_or(count.http_label, |l| l.0);
            count
                .metrics
                .record_request(label, response.status().as_u16());
        }
        Poll::Ready(Ok(response))
    }
}
