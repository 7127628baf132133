//! The responses to MCP requests, for every protocol revision: a request's answer as JSON, or
//! as SSE when the handler sends something first; an inline call's answer; the 403 for
//! missing scopes. [`super::mcp`] and [`super::per_request`] both answer through here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rmcp::model::RequestId;
use serde_json::value::RawValue;

use super::AppState;
use super::error::HttpError;
use super::sse;
use crate::auth::Caller;
use crate::mcp::RequestCtx;
use crate::mcp::service::{InlineAnswer, MissingScopes};
use crate::mcp::sink::{Drops, Outbound, outbound_channel};
use crate::mcp::state::ProtocolState;

/// Cancels a call when dropped, unless [disarmed](Self::disarm): the future that answers a
/// request is dropped when its client goes away.
struct CancelOnDrop {
    cancel: Arc<AtomicBool>,
    armed: bool,
}

impl CancelOnDrop {
    fn new(cancel: Arc<AtomicBool>) -> Self {
        CancelOnDrop {
            cancel,
            armed: true,
        }
    }

    /// The call's fate no longer depends on this future: it finished, or a stream carries it.
    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.cancel.store(true, Ordering::Relaxed);
        }
    }
}

/// One request to answer.
pub(crate) struct Call {
    pub(crate) id: RequestId,
    pub(crate) method: String,
    pub(crate) params: Option<Box<RawValue>>,
    pub(crate) caller: Option<Caller>,
}

/// 403 for a tool whose scopes the authenticated caller lacks, with the scope challenge.
fn insufficient_scope(state: &AppState, id: RequestId, needed: &[String]) -> Response {
    let err = MissingScopes(needed.to_vec()).error();
    let mut r = HttpError::rpc(StatusCode::FORBIDDEN, Some(id), err).into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, state.auth.scope_challenge(needed));
    r
}

/// Serves one request: JSON if the handler finishes without sending anything first, else SSE.
/// A stored session records the stream's events, so the client can resume it.
pub(crate) async fn answer(state: &AppState, protocol: ProtocolState, call: Call) -> Response {
    let Call {
        id,
        method,
        params,
        caller,
    } = call;
    let cancel = Arc::new(AtomicBool::new(false));
    let drops = Drops::new(state.service.options().metrics.clone());
    let (tx, mut rx) = outbound_channel(cancel.clone(), drops.clone());
    // Cancels the call if the client goes away before the JSON answer (this future dropped).
    let mut guard = CancelOnDrop::new(cancel.clone());
    let service = state.service.clone();
    let mode = sse::StreamMode {
        resumable: protocol.session().cloned(),
        priming: protocol.version_cmp("2025-11-25").is_ge(),
        cancel: cancel.clone(),
        drops,
    };
    let per_request = protocol.is_per_request();
    let ctx = RequestCtx {
        protocol,
        outbound: Some(tx),
        cancel,
        caller,
    };
    // For the shutdown cut-off's error, which needs the id after `work` took it.
    let cut_id = id.clone();
    let work = async move {
        let out = service
            .handle_request(&id, &method, params.as_deref(), &ctx)
            .await;
        drop(ctx);
        out
    };
    let mut work = Box::pin(work);
    let first = tokio::select! {
        handled = &mut work => {
            guard.disarm();
            if let Some(missing) = handled.missing_scopes {
                return insufficient_scope(state, cut_id, &missing.0);
            }
            let out = handled.response;
            // Messages sent before the answer go first, on a stream; a stream-close request
            // alone does not need one.
            let first = loop {
                match rx.try_recv() {
                    Ok(Outbound::Message(m)) => break Outbound::Message(m),
                    Ok(Outbound::CloseStream) => {}
                    Err(_) if per_request => return per_request_json_response(out),
                    Err(_) => return json_response(out),
                }
            };
            return sse::request_stream(Box::pin(async move { out }), first, rx, mode);
        }
        Some(first) = rx.recv() => first,
        // The shutdown timeout ran out: `work` is dropped, and `guard` cancels the call.
        () = state.cutoff.fired() => return state.cutoff.json_answer(cut_id),
    };
    guard.disarm();
    // A refusal for want of scopes comes before the tool runs, so before anything is sent:
    // an answer on a stream is a full response.
    let work: sse::Work = Box::pin(async move { work.await.response });
    let work = state.cutoff.guard(work, cut_id, mode.cancel.clone());
    sse::request_stream(work, first, rx, mode)
}

/// The answer of a call served inline: JSON, or SSE when the tool sent something first.
pub(crate) fn inline_response(answer: InlineAnswer) -> Response {
    if answer.messages.is_empty() {
        return json_response(answer.response);
    }
    let messages = || answer.messages.iter().chain([&answer.response]);
    let size = messages().map(|m| m.len() + sse::EVENT_OVERHEAD).sum();
    let mut body = String::with_capacity(size);
    for message in messages() {
        sse::write_event(&mut body, message, None);
    }
    sse::response(axum::body::Body::from(body))
}

/// A 2026-07-28 JSON answer: MissingRequiredClientCapabilityError (-32021) goes out with
/// status 400, as the revision requires.
fn per_request_json_response(body: String) -> Response {
    // `jsonrpc::error` writes the error object this way; a result's text cannot contain it
    // unescaped.
    if body.contains(r#""error":{"code":-32021,"#) {
        let headers = [(header::CONTENT_TYPE, "application/json")];
        return (StatusCode::BAD_REQUEST, headers, body).into_response();
    }
    json_response(body)
}

/// Built directly: axum's `(headers, String)` response first sets a `text/plain` type that
/// the header then replaces, on every call.
fn json_response(body: String) -> Response {
    let mut response = Response::new(axum::body::Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}
