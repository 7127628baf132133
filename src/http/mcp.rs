//! The Streamable HTTP MCP endpoint.
//!
//! `POST` carries one JSON-RPC message. A request is answered with `application/json` unless
//! the tool sends something first (progress, a log line, a request to the client); then the
//! answer switches to a `text/event-stream` that carries those messages and ends with the
//! response. `GET` opens a session's stream for messages not tied to a request; `DELETE` ends a
//! session. In stateless mode a POST carries its own protocol state (no session is made) and
//! GET/DELETE answer 405.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{AsHeaderName, HeaderName};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rmcp::model::ErrorData;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::AppState;
use super::body::BodyError;
use super::error::HttpError;
use super::guard;
use super::respond::{self, answer, inline_response};
use super::sse;
use crate::auth::Caller;
use crate::mcp::Session;
use crate::mcp::events::parse_event_id;
use crate::mcp::jsonrpc::{self, Incoming};
use crate::mcp::protocol::{DEFAULT_VERSION, HANDSHAKE_VERSIONS, REVISION};
use crate::mcp::service::InlineCall;
use crate::mcp::sink::Drops;
use crate::mcp::state::{ProtocolState, RequestState};

/// The session header.
pub(crate) const SESSION_HEADER: &str = "mcp-session-id";
/// The protocol version header.
pub(crate) const VERSION_HEADER: &str = "mcp-protocol-version";

/// [`SESSION_HEADER`] and [`VERSION_HEADER`] as header names: looking one up by `&str`
/// parses the name again on every request.
const SESSION: HeaderName = HeaderName::from_static(SESSION_HEADER);
const PROTOCOL_VERSION: HeaderName = HeaderName::from_static(VERSION_HEADER);

fn header(headers: &HeaderMap, name: impl AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The session a stateful request names: 400 without the header, 404 when unknown, 503 when
/// the shared session store cannot be reached.
async fn session(
    state: &AppState,
    headers: &HeaderMap,
    caller: Option<&Caller>,
) -> Result<Arc<Session>, HttpError> {
    let id = header(headers, &SESSION).ok_or_else(|| {
        HttpError::new(
            StatusCode::BAD_REQUEST,
            "Bad Request: Mcp-Session-Id header is required",
        )
    })?;
    match state.service.sessions().lookup(id).await {
        // Another caller's session does not exist, as far as this caller can tell.
        Ok(Some(s)) if !s.owned_by(caller.map(|c| c.id.as_str())) => Err(session_not_found()),
        Ok(Some(s)) => {
            s.touch();
            Ok(s)
        }
        Ok(None) => Err(session_not_found()),
        Err(e) => Err(store_down(&e)),
    }
}

fn session_not_found() -> HttpError {
    HttpError {
        status: StatusCode::NOT_FOUND,
        code: -32001,
        message: "Session not found".into(),
        id: None,
        data: None,
    }
}

fn store_down(e: &crate::mcp::store::StoreError) -> HttpError {
    tracing::error!(error = %e, "session store unavailable");
    HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable: the session store cannot be reached",
    )
}

/// 503 for an `initialize` past `--max-sessions` (the store logs it): sessions end when their
/// clients delete them or at the idle timeout.
fn server_full(id: rmcp::model::RequestId, full: &crate::mcp::session::SessionsFull) -> HttpError {
    HttpError::rpc(
        StatusCode::SERVICE_UNAVAILABLE,
        Some(id),
        ErrorData::new(
            rmcp::model::ErrorCode(-32000),
            format!(
                "Service Unavailable: the server is full ({} sessions); try again later",
                full.max
            ),
            None,
        ),
    )
}

/// Whether a request speaks protocol 2026-07-28 (no sessions, no GET/DELETE).
fn is_per_request(headers: &HeaderMap) -> bool {
    header(headers, &PROTOCOL_VERSION) == Some(REVISION)
}

fn not_allowed() -> Response {
    let mut r = HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method Not Allowed: this server (or protocol version) has no sessions; use POST",
    )
    .into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    r
}

/// The protocol version a request declares in its header (default 2025-03-26). A version not
/// served is 400: -32020 when the body's `_meta` names another version (the two disagree),
/// else -32022 with the supported list; the error carries the request's id.
fn header_version(
    declared: Option<&str>,
    message: &Incoming<'_>,
) -> Result<&'static str, HttpError> {
    let v = match declared {
        None => return Ok(DEFAULT_VERSION),
        Some(v) => match HANDSHAKE_VERSIONS.iter().find(|known| **known == v) {
            Some(known) => return Ok(known),
            None => v,
        },
    };
    let (id, params) = match message {
        Incoming::Request { id, params, .. } => (Some(id.clone()), *params),
        Incoming::Notification { params, .. } => (None, *params),
        Incoming::Response { id, .. } => (Some(id.clone()), None),
    };
    let body = crate::mcp::per_request::request_meta(params).protocol_version;
    let err = match body {
        Some(b) if b != v => ErrorData::new(
            rmcp::model::ErrorCode::HEADER_MISMATCH,
            format!(
                "Header mismatch: MCP-Protocol-Version header value '{v}' does not match body value '{b}'"
            ),
            None,
        ),
        _ => crate::mcp::per_request::unsupported_version(v),
    };
    Err(HttpError::rpc(StatusCode::BAD_REQUEST, id, err))
}

async fn read_body(state: &AppState, body: Body) -> Result<Bytes, HttpError> {
    super::body::read_limited(body, state.max_body_bytes)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "Payload Too Large: the limit is {} bytes",
                    state.max_body_bytes
                ),
            ),
            BodyError::Unreadable => HttpError::new(
                StatusCode::BAD_REQUEST,
                "Bad Request: the request body could not be read",
            ),
        })
}

/// The `method` label of a response's `requests_total` sample, set by the handler that
/// parsed a JSON-RPC message (only when metrics are on: it costs an allocation). Without it
/// the label is the HTTP method (`GET`, `DELETE`) or `other`: a request refused before its
/// body was read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MethodLabel(pub(crate) &'static str);

/// `POST` on the MCP endpoint. The JSON-RPC method goes to the edge layer's metrics in a
/// [`MethodLabel`] extension.
pub(crate) async fn post(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;
    let bytes = match read_post(&state, headers, body).await {
        Ok(bytes) => bytes,
        Err(e) => return e.into_response(),
    };
    let message = match jsonrpc::parse(&bytes) {
        Ok(message) => message,
        Err(e) => {
            let (id, err) = e.to_error();
            return HttpError::rpc(StatusCode::BAD_REQUEST, id, err).into_response();
        }
    };
    let label = match &message {
        Incoming::Request { method, .. } | Incoming::Notification { method, .. } => {
            crate::metrics::method_label(method)
        }
        Incoming::Response { .. } => "response",
    };
    let caller = parts.extensions.get::<Caller>().cloned();
    let mut response = dispatch(&state, headers, message, caller)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    if state.service.options().metrics.is_some() {
        response.extensions_mut().insert(MethodLabel(label));
    }
    response
}

/// The checks a POST passes before its body is parsed: headers, then the body's size.
async fn read_post(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Bytes, HttpError> {
    guard::check_post(headers)?;
    read_body(state, body).await
}

/// Serves one parsed message, by the protocol version its headers declare.
async fn dispatch(
    state: &AppState,
    headers: &HeaderMap,
    message: Incoming<'_>,
    caller: Option<Caller>,
) -> Result<Response, HttpError> {
    let declared = header(headers, &PROTOCOL_VERSION);
    if declared == Some(REVISION) {
        return super::per_request::post(state, headers, message, caller).await;
    }
    let version = header_version(declared, &message)?;
    match message {
        Incoming::Notification { method, params } => {
            let s = if state.stateless {
                None
            } else {
                Some(session(state, headers, caller.as_ref()).await?)
            };
            state
                .service
                .handle_notification(&method, params, s.as_deref());
            Ok(StatusCode::ACCEPTED.into_response())
        }
        Incoming::Response { id, outcome } => {
            if !state.stateless {
                let s = session(state, headers, caller.as_ref()).await?;
                if !s.answer(&id, outcome) {
                    tracing::debug!(request = ?id, "answer to an unknown or expired server request");
                }
            }
            Ok(StatusCode::ACCEPTED.into_response())
        }
        Incoming::Request { id, method, params } => {
            let call = RequestRef {
                id,
                method: &method,
                params,
                caller,
            };
            request(state, headers, version, call).await
        }
    }
}

/// A JSON-RPC request of a handshake revision (the versions in `HANDSHAKE_VERSIONS`).
struct RequestRef<'a> {
    id: rmcp::model::RequestId,
    method: &'a str,
    params: Option<&'a RawValue>,
    caller: Option<Caller>,
}

impl RequestRef<'_> {
    /// The request, owned, for [`answer`].
    fn into_call(self) -> respond::Call {
        respond::Call {
            id: self.id,
            method: self.method.to_owned(),
            params: self.params.map(|p| p.to_owned()),
            caller: self.caller,
        }
    }
}

/// Serves a request of a handshake revision: inline when the tool allows, else in its session
/// (a new one for `initialize`), or in stateless mode with the state its header declares.
async fn request(
    state: &AppState,
    headers: &HeaderMap,
    version: &'static str,
    call: RequestRef<'_>,
) -> Result<Response, HttpError> {
    if !state.service.registry().is_serving() {
        return Err(HttpError::still_loading(call.id));
    }
    let inline = |protocol_version: &str, session_id: Option<&str>| {
        if call.method != "tools/call" {
            return None;
        }
        // A tool that runs inline is answered here: no session object, no stream.
        state.service.try_call_inline(InlineCall {
            id: &call.id,
            params: call.params,
            protocol_version,
            session_id,
            caller: call.caller.as_ref(),
        })
    };
    if state.stateless {
        if let Some(answer) = inline(version, None) {
            return Ok(inline_response(answer));
        }
        let protocol = ProtocolState::Request(RequestState::handshake(version));
        return Ok(answer(state, protocol, call.into_call()).await);
    }
    let (session, new_session) = if call.method == "initialize" {
        let s = state
            .service
            .sessions()
            .create(version)
            .map_err(|full| server_full(call.id.clone(), &full))?;
        s.set_owner(call.caller.as_ref().map(|c| c.id.as_str()));
        (s, true)
    } else {
        let s = session(state, headers, call.caller.as_ref()).await?;
        if let Some(answer) = inline(&s.protocol_version(), Some(&s.id)) {
            return Ok(inline_response(answer));
        }
        (s, false)
    };
    let persist = new_session || call.method == "logging/setLevel";
    let protocol = ProtocolState::Session(session.clone());
    let response = answer(state, protocol, call.into_call()).await;
    finish_session(state, &session, new_session, persist, response).await
}

/// After a request of a handshake revision: an `initialize` that failed (bad params) opens no
/// session, as it would take a place under --max-sessions until the idle timeout; a new or
/// changed session is written to the shared store; a new one's id goes out in its header.
async fn finish_session(
    state: &AppState,
    session: &Arc<Session>,
    new_session: bool,
    persist: bool,
    mut response: Response,
) -> Result<Response, HttpError> {
    let sessions = state.service.sessions();
    let id = &*session.id;
    if new_session && session.negotiated().client_info.is_none() {
        sessions.remove(id);
        return Ok(response);
    }
    if persist
        && sessions.is_shared()
        && let Err(e) = sessions.persist(session).await
    {
        if new_session {
            sessions.remove(id);
        }
        return Err(store_down(&e));
    }
    if new_session && let Ok(sid) = HeaderValue::from_str(id) {
        response.headers_mut().insert(SESSION, sid);
    }
    Ok(response)
}

/// `GET` on the MCP endpoint: the session's stream for messages not tied to a request, or,
/// with `Last-Event-ID`, the rest of a response stream the client lost.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    headers: HeaderMap,
) -> Response {
    let caller = caller.map(|c| c.0);
    let state = &state;
    if state.stateless || is_per_request(&headers) {
        return not_allowed();
    }
    if let Err(e) = guard::check_get(&headers) {
        return e.into_response();
    }
    let session = match session(state, &headers, caller.as_ref()).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if let Some((stream, seq)) = header(&headers, "last-event-id").and_then(parse_event_id) {
        let resumed = session
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .resume(stream, seq);
        if let Some(resumed) = resumed {
            return sse::resumed_stream(stream, resumed);
        }
    }
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    session.set_standalone(tx);
    sse::session_stream(rx, Drops::new(state.service.options().metrics.clone()))
}

/// `DELETE` on the MCP endpoint: ends the session.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    headers: HeaderMap,
) -> Response {
    let caller = caller.map(|c| c.0);
    let state = &state;
    if state.stateless || is_per_request(&headers) {
        return not_allowed();
    }
    let Some(id) = header(&headers, &SESSION) else {
        return HttpError::new(
            StatusCode::BAD_REQUEST,
            "Bad Request: Mcp-Session-Id header is required",
        )
        .into_response();
    };
    // Only the caller that opened a session may end it.
    if let Err(e) = session(state, &headers, caller.as_ref()).await {
        return e.into_response();
    }
    match state.service.sessions().delete(id).await {
        Ok(true) => {
            tracing::info!(session = id, "session deleted by the client");
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => session_not_found().into_response(),
        Err(e) => store_down(&e).into_response(),
    }
}
