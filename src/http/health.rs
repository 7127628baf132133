//! `/health` (liveness) and `/ready` (readiness: every plugin loaded, and none whose blocking
//! calls are all stuck).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;

/// `GET|HEAD /health`: the process is up.
pub(crate) async fn health() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "✓ Ok",
    )
        .into_response()
}

/// `GET|HEAD /ready`: 200 once every configured plugin is served, 503 before (`starting`),
/// while a crate whose first build (or load) failed waits for a fix (`not_loaded`),
/// and while a plugin's worker threads all run stuck calls (`degraded`).
///
/// `ready`/`total` count plugins serving / configured; stateful mode adds `sessions`. A
/// waiting crate is listed under `not_loaded` with the compiler's errors (capped at
/// [`MAX_ERROR_CHARS`]); the other plugins serve meanwhile. A plugin whose last reload failed
/// is still serving its previous version and reports the failure. A plugin whose every worker
/// runs a call that overran `--tool-timeout` and ignores its cancellation cannot run blocking
/// calls any more: it is listed under `stuck` and does not count as ready, until a reload or
/// restart gives it new threads. An isolated plugin whose child crashed in a loop is not
/// restarted: it is listed under `failed` with the reason (status `failed`) until a reload.
pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    let registry = &state.service.registry();
    let total = registry.total();
    let serving = registry.is_serving();
    let (stuck, unbuilt, failed) = if serving {
        (registry.stuck(), registry.waiting(), registry.failed())
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let status = if !serving {
        "starting"
    } else if !unbuilt.is_empty() {
        "not_loaded"
    } else if !failed.is_empty() {
        "failed"
    } else if !stuck.is_empty() {
        "degraded"
    } else {
        "ready"
    };
    let ready = if serving {
        total.saturating_sub(stuck.len() + unbuilt.len() + failed.len())
    } else {
        0
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
    if !failed.is_empty() {
        body["failed"] = failed
            .iter()
            .map(|(plugin, generation, reason)| {
                json!({"plugin": plugin, "generation": generation, "reason": capped(reason)})
            })
            .collect();
    }
    if !unbuilt.is_empty() {
        body["not_loaded"] = unbuilt
            .iter()
            .map(|(slot, e)| json!({"plugin": slot.label, "error": capped(e)}))
            .collect();
    }
    if !state.stateless {
        body["sessions"] = json!(state.service.sessions().len());
    }
    let failures: Vec<_> = registry
        .slots()
        .iter()
        .filter(|s| !unbuilt.iter().any(|(u, _)| std::ptr::eq(*u, *s)))
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

/// The most of a compiler's errors `/ready` shows: the first errors are the ones to fix, and
/// a probe's body should stay small.
pub(crate) const MAX_ERROR_CHARS: usize = 4096;

/// `text` cut to [`MAX_ERROR_CHARS`] on a character boundary, saying how much was left out.
fn capped(text: &str) -> String {
    if text.len() <= MAX_ERROR_CHARS {
        return text.to_string();
    }
    let mut end = MAX_ERROR_CHARS;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… ({} more bytes)", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_capped_on_a_char_boundary() {
        assert_eq!(capped("error: x"), "error: x");
        let long = "é".repeat(MAX_ERROR_CHARS);
        let cut = capped(&long);
        assert!(cut.len() < long.len(), "{}", cut.len());
        assert!(cut.ends_with(&format!("({} more bytes)", long.len() - MAX_ERROR_CHARS)));
    }
}
