//! Protocol revision 2026-07-28: per-request metadata instead of a handshake, result
//! decoration, `server/discover`, and multi round-trip requests (MRTR). The revision's header
//! rules belong to the HTTP layer (`http::per_request`): nothing here depends on HTTP.
//!
//! A request is of this era when its `MCP-Protocol-Version` header says so. It carries its
//! version, client capabilities and log level in `params._meta`; it is never part of a session.
//! A tool asking the client something (sampling, elicitation, roots) is answered from the
//! request's `inputResponses` when the client retried with them; otherwise the call ends with
//! an `InputRequiredResult` whose `requestState` (HMAC-sealed, bound to the caller and the
//! request) carries the answers gathered so far. The tool is simply run again on each retry,
//! so plugin code is the same in both eras.

use rmcp::model::{CacheScope, DiscoverResult, ErrorCode, ErrorData};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::protocol::{SUPPORTED, capabilities, server_info};

/// Methods of this revision (anything else is answered 404 / -32601).
pub(crate) const METHODS: [&str; 13] = [
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "subscriptions/listen",
    // The skills extension (`super::service::skills`), served whenever a plugin ships skills.
    "skills/list",
    "skills/get",
    "resources/directory/read",
];
/// How long list and read results may be cached by clients.
pub(crate) const TTL_MS: u64 = 0;

pub(crate) const KEY_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub(crate) const KEY_CAPS: &str = "io.modelcontextprotocol/clientCapabilities";
const KEY_LOG: &str = "io.modelcontextprotocol/logLevel";
const KEY_SERVER: &str = "io.modelcontextprotocol/serverInfo";

/// The protocol state a request carries in `params._meta` (what a handshake negotiates in
/// the earlier revisions). `io.modelcontextprotocol/clientInfo` is not read: nothing the
/// server does depends on which client it is.
#[derive(Debug, Default, Clone)]
pub(crate) struct ProtocolMeta {
    /// `io.modelcontextprotocol/protocolVersion`.
    pub(crate) protocol_version: Option<String>,
    /// `io.modelcontextprotocol/clientCapabilities`.
    pub(crate) client_capabilities: Option<Value>,
    /// `io.modelcontextprotocol/logLevel`: without it no log messages are sent.
    pub(crate) log_level: Option<String>,
}

/// Reads `params._meta`.
pub(crate) fn request_meta(params: Option<&RawValue>) -> ProtocolMeta {
    #[derive(Deserialize)]
    struct P {
        #[serde(rename = "_meta")]
        meta: Option<Map<String, Value>>,
    }
    let Some(meta) = params
        .and_then(|p| serde_json::from_str::<P>(p.get()).ok())
        .and_then(|p| p.meta)
    else {
        return ProtocolMeta::default();
    };
    ProtocolMeta {
        protocol_version: meta
            .get(KEY_VERSION)
            .and_then(Value::as_str)
            .map(str::to_string),
        client_capabilities: meta.get(KEY_CAPS).cloned(),
        log_level: meta
            .get(KEY_LOG)
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

/// The error for a version the server does not serve (`-32022`, with the supported list).
pub(crate) fn unsupported_version(requested: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
        format!("Unsupported protocol version: {requested}"),
        Some(serde_json::json!({"requested": requested, "supported": SUPPORTED})),
    )
}

/// Adds the fields every result of this revision carries: `resultType`, the server's identity
/// in `_meta`, and for list and read results (not an `InputRequiredResult`) `ttlMs`/`cacheScope`.
pub(crate) fn decorate(method: &str, raw: &str) -> String {
    let Ok(mut obj) = serde_json::from_str::<Map<String, Value>>(raw) else {
        return raw.to_string();
    };
    obj.entry("resultType").or_insert_with(|| "complete".into());
    let meta = obj
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert(
            KEY_SERVER.into(),
            serde_json::to_value(server_info()).unwrap_or(Value::Null),
        );
    }
    // An `InputRequiredResult` (of `resources/read`) is not the resource: nothing to cache.
    let input_required = obj.get("resultType").and_then(Value::as_str) == Some("input_required");
    if !input_required
        && matches!(
            method,
            "tools/list"
                | "prompts/list"
                | "resources/list"
                | "resources/templates/list"
                | "resources/read"
                | "skills/list"
                | "skills/get"
        )
    {
        obj.entry("ttlMs").or_insert(TTL_MS.into());
        obj.entry("cacheScope").or_insert("private".into());
    }
    Value::Object(obj).to_string()
}

/// The `server/discover` result.
pub(crate) fn discover() -> String {
    let versions = SUPPORTED
        .iter()
        .filter_map(|v| serde_json::from_value(Value::String((*v).to_string())).ok())
        .collect();
    let mut r = DiscoverResult::new(versions, capabilities());
    r.set_server_info(server_info());
    r.cache_scope = CacheScope::Public;
    r.ttl_ms = 60_000;
    serde_json::to_string(&r).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_decorated() {
        let v: Value = serde_json::from_str(&decorate("tools/list", r#"{"tools":[]}"#)).unwrap();
        assert_eq!(v["resultType"], "complete");
        assert_eq!(v["_meta"][KEY_SERVER]["name"], "fastmcp");
        assert_eq!(v["cacheScope"], "private");
        let asking = r#"{"resultType":"input_required","requestState":"s"}"#;
        let v: Value = serde_json::from_str(&decorate("resources/read", asking)).unwrap();
        assert!(
            v.get("ttlMs").is_none() && v.get("cacheScope").is_none(),
            "{v}"
        );
        let v: Value = serde_json::from_str(&discover()).unwrap();
        assert!(
            v["supportedVersions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == crate::mcp::protocol::REVISION)
        );
    }
}
