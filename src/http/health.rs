//! `/health` (liveness) and `/ready` (readiness: every plugin loaded).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;

/// `GET|HEAD /health`: the process is up.
pub async fn health() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "✓ Ok",
    )
        .into_response()
}

/// `GET|HEAD /ready`: 200 once every configured plugin is served, 503 before.
///
/// `ready`/`total` count plugins serving / configured; stateful mode adds `sessions`. A plugin
/// whose last reload failed is still serving its previous version and reports the failure.
pub async fn ready(State(state): State<AppState>) -> Response {
    let registry = &state.service.registry;
    let total = registry.total();
    let is_ready = registry.is_ready();
    let ready = if is_ready { total } else { 0 };
    let mut body = json!({
        "mode": if state.stateless { "stateless" } else { "stateful" },
        "ready": ready,
        "status": if is_ready { "ready" } else { "starting" },
        "total": total,
    });
    if !state.stateless {
        body["sessions"] = json!(state.service.sessions.len());
    }
    let failures: Vec<_> = registry
        .slots()
        .iter()
        .filter_map(|s| {
            s.last_error()
                .map(|e| json!({"plugin": s.label, "last_reload_error": e}))
        })
        .collect();
    if !failures.is_empty() {
        body["reload_errors"] = json!(failures);
    }
    let status = if is_ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
