//! `/health` (liveness) and `/ready` (readiness: every plugin loaded, and none whose blocking
//! calls are all stuck).

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

/// `GET|HEAD /ready`: 200 once every configured plugin is served, 503 before (`starting`)
/// and while a plugin's worker threads all run stuck calls (`degraded`).
///
/// `ready`/`total` count plugins serving / configured; stateful mode adds `sessions`. A plugin
/// whose last reload failed is still serving its previous version and reports the failure. A
/// plugin whose every worker runs a call that overran `--tool-timeout` and ignores its
/// cancellation cannot run blocking calls any more: it is listed under `stuck` and does not
/// count as ready, until a reload or restart gives it new threads.
pub async fn ready(State(state): State<AppState>) -> Response {
    let registry = &state.service.registry;
    let total = registry.total();
    let is_ready = registry.is_ready();
    let stuck = if is_ready {
        registry.stuck()
    } else {
        Vec::new()
    };
    let (ready, status) = match (is_ready, stuck.is_empty()) {
        (false, _) => (0, "starting"),
        (true, true) => (total, "ready"),
        (true, false) => (total.saturating_sub(stuck.len()), "degraded"),
    };
    let mut body = json!({
        "mode": if state.stateless { "stateless" } else { "stateful" },
        "ready": ready,
        "status": status,
        "total": total,
    });
    if !stuck.is_empty() {
        body["stuck"] = stuck
            .iter()
            .map(|s| json!({"plugin": s.plugin, "generation": s.generation, "calls": s.calls}))
            .collect();
    }
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
    let status = if status == "ready" {
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
