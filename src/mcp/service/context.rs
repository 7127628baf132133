//! What a plugin sees of a request: the `context` object (`docs/abi.md`) and the generic
//! `{"method","params","context"}` request, written directly (this runs on every call).

use rmcp::model::RequestId;
use serde_json::value::RawValue;

use super::RequestCtx;
use crate::auth::Caller;

/// What the plugin sees of a request's context (`docs/abi.md`).
pub(super) struct PluginContext<'a> {
    protocol_version: &'a str,
    session_id: Option<&'a str>,
    caller: Option<&'a Caller>,
    request_id: &'a RequestId,
}

impl<'a> PluginContext<'a> {
    pub(super) fn new(
        protocol_version: &'a str,
        session_id: Option<&'a str>,
        caller: Option<&'a Caller>,
        request_id: &'a RequestId,
    ) -> Self {
        PluginContext {
            protocol_version,
            session_id,
            caller,
            request_id,
        }
    }

    /// The context of a request on the full path; `version` is its session's protocol version.
    pub(super) fn of(ctx: &'a RequestCtx, version: &'a str, request_id: &'a RequestId) -> Self {
        Self::new(
            version,
            ctx.protocol.session_id(),
            ctx.caller.as_ref(),
            request_id,
        )
    }

    /// `{"protocolVersion","sessionId"?,"caller"?,"requestId"}`, written directly: this runs on
    /// every call. Writing into a `Vec` cannot fail.
    pub(super) fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"protocolVersion\":");
        let _ = serde_json::to_writer(&mut *out, self.protocol_version);
        if let Some(session) = self.session_id {
            out.extend_from_slice(b",\"sessionId\":");
            let _ = serde_json::to_writer(&mut *out, session);
        }
        if let Some(caller) = self.caller {
            out.extend_from_slice(b",\"caller\":");
            let _ = serde_json::to_writer(&mut *out, caller);
        }
        out.extend_from_slice(b",\"requestId\":");
        match self.request_id {
            RequestId::Number(n) => {
                out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes())
            }
            RequestId::String(s) => {
                let _ = serde_json::to_writer(&mut *out, &**s);
            }
        }
        out.push(b'}');
    }
}

pub(super) fn build_request(
    method: &str,
    params: Option<&RawValue>,
    context: &PluginContext<'_>,
) -> Vec<u8> {
    let params = params.map(RawValue::get).unwrap_or("{}");
    let mut out = Vec::with_capacity(params.len() + method.len() + 160);
    out.extend_from_slice(b"{\"method\":");
    // Writing a `&str` or a plain struct into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, method);
    out.extend_from_slice(b",\"params\":");
    out.extend_from_slice(params.as_bytes());
    out.extend_from_slice(b",\"context\":");
    context.write_json(&mut out);
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn the_plugin_request_carries_params_and_context() {
        let caller = Caller {
            id: "u\"1".into(),
            scopes: vec!["read".into()],
        };
        let params: &RawValue = serde_json::from_str(r#"{"name":"t"}"#).unwrap();
        let id = RequestId::String("r\n1".into());
        let context = PluginContext {
            protocol_version: "2025-06-18",
            session_id: Some("s\"x"),
            caller: Some(&caller),
            request_id: &id,
        };
        let request: Value =
            serde_json::from_slice(&build_request("tools/call", Some(params), &context)).unwrap();
        assert_eq!(
            request,
            json!({
                "method": "tools/call",
                "params": {"name": "t"},
                "context": {
                    "protocolVersion": "2025-06-18",
                    "sessionId": "s\"x",
                    "caller": {"id": "u\"1", "scopes": ["read"]},
                    "requestId": "r\n1"
                }
            })
        );
        let id = RequestId::Number(-3);
        let bare = PluginContext {
            protocol_version: "2025-03-26",
            session_id: None,
            caller: None,
            request_id: &id,
        };
        let request: Value = serde_json::from_slice(&build_request("ping", None, &bare)).unwrap();
        assert_eq!(
            request,
            json!({"method": "ping", "params": {}, "context": {"protocolVersion": "2025-03-26", "requestId": -3}})
        );
    }
}
