//! The MCP endpoint for protocol 2026-07-28 requests: header validation, no sessions (each
//! request carries its protocol state in `_meta`), 404 for unknown methods, and
//! `subscriptions/listen` streams.
//!
//! - `headers`: the revision's header rules (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`).

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rmcp::model::{ErrorCode, ErrorData};
use serde::Deserialize;
use serde_json::value::RawValue;

mod headers;

use super::AppState;
use super::error::HttpError;
use super::respond::{self, answer};
use super::sse;
use crate::auth::Caller;
use crate::mcp::jsonrpc::Incoming;
use crate::mcp::listen::Filter;
use crate::mcp::per_request::{self, METHODS};
use crate::mcp::protocol::REVISION;
use crate::mcp::state::{ProtocolState, RequestState};
use crate::mcp::tasks::EXTENSION_METHODS;

/// Serves one POSTed message of a 2026-07-28 client.
pub(crate) async fn post(
    state: &AppState,
    headers: &HeaderMap,
    message: Incoming<'_>,
    caller: Option<Caller>,
) -> Result<Response, HttpError> {
    let (id, method, params) = match message {
        // No client notification is defined over HTTP in this revision; accept and ignore.
        Incoming::Notification { .. } => return Ok(StatusCode::ACCEPTED.into_response()),
        Incoming::Response { id, .. } => {
            return Err(HttpError::rpc(
                StatusCode::BAD_REQUEST,
                Some(id),
                ErrorData::invalid_request(
                    "Invalid request: clients do not send responses in protocol 2026-07-28",
                    None,
                ),
            ));
        }
        Incoming::Request { id, method, params } => (id, method, params),
    };
    if !METHODS.contains(&method.as_ref()) && !EXTENSION_METHODS.contains(&method.as_ref()) {
        return Err(HttpError::rpc(
            StatusCode::NOT_FOUND,
            Some(id),
            ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("Method not found: {method}"),
                None,
            ),
        ));
    }
    // A body version other than the header's is a mismatch (checked with the headers).
    let meta = per_request::request_meta(params);
    let schema = (method == "tools/call")
        .then(|| tool_schema(state, params))
        .flatten();
    headers::check(headers, &method, params, &meta, schema.as_deref())
        .map_err(|e| HttpError::rpc(StatusCode::BAD_REQUEST, Some(id.clone()), e))?;
    if !state.service.registry().is_serving() {
        return Err(HttpError::still_loading(id));
    }
    if method == "subscriptions/listen" {
        #[derive(Deserialize, Default)]
        struct P {
            #[serde(default)]
            notifications: Filter,
        }
        let p: P = params
            .and_then(|p| serde_json::from_str(p.get()).ok())
            .unwrap_or_default();
        let rx = state.service.listeners().listen(id, p.notifications);
        let drops = crate::mcp::sink::Drops::new(state.service.options().metrics.clone());
        return Ok(sse::session_stream(rx, drops));
    }
    let declared = RequestState::declared(
        REVISION,
        meta.client_capabilities,
        meta.log_level.as_deref(),
    );
    let call = respond::Call {
        id,
        method: method.into_owned(),
        params: params.map(|p| p.to_owned()),
        caller,
    };
    Ok(answer(state, ProtocolState::Request(declared), call).await)
}

/// The input schema of the tool a `tools/call` names, for `Mcp-Param-*` checks (shared, not
/// copied: this runs on every call).
fn tool_schema(
    state: &AppState,
    params: Option<&RawValue>,
) -> Option<std::sync::Arc<serde_json::Map<String, serde_json::Value>>> {
    #[derive(Deserialize)]
    struct P<'a> {
        #[serde(borrow)]
        name: std::borrow::Cow<'a, str>,
    }
    let p: P = serde_json::from_str(params?.get()).ok()?;
    let cat = state.service.registry().catalog();
    cat.tool(&p.name).map(|(e, _)| e.tool.input_schema.clone())
}
