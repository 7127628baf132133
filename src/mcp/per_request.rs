//! Protocol revision 2026-07-28: per-request metadata instead of a handshake, header rules,
//! result decoration, `server/discover`, and multi round-trip requests (MRTR).
//!
//! A request is of this era when its `MCP-Protocol-Version` header says so. It carries its
//! version, client capabilities and log level in `params._meta`; it is never part of a session.
//! A tool asking the client something (sampling, elicitation, roots) is answered from the
//! request's `inputResponses` when the client retried with them; otherwise the call ends with
//! an `InputRequiredResult` whose `requestState` (HMAC-sealed, bound to the caller and the
//! request) carries the answers gathered so far. The tool is simply run again on each retry,
//! so plugin code is the same in both eras.

use axum::http::HeaderMap;
use base64::Engine;
use rmcp::model::{CacheScope, DiscoverResult, ErrorCode, ErrorData};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

pub(crate) use super::protocol::REVISION;
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

const KEY_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const KEY_CAPS: &str = "io.modelcontextprotocol/clientCapabilities";
const KEY_INFO: &str = "io.modelcontextprotocol/clientInfo";
const KEY_LOG: &str = "io.modelcontextprotocol/logLevel";
const KEY_SERVER: &str = "io.modelcontextprotocol/serverInfo";

/// The protocol state a request carries in `params._meta` (what a handshake negotiates in
/// the earlier revisions).
#[derive(Debug, Default, Clone)]
pub(crate) struct ProtocolMeta {
    /// `io.modelcontextprotocol/protocolVersion`.
    pub(crate) protocol_version: Option<String>,
    /// `io.modelcontextprotocol/clientCapabilities`.
    pub(crate) client_capabilities: Option<Value>,
    /// `io.modelcontextprotocol/clientInfo`.
    pub(crate) client_info: Option<Value>,
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
        client_info: meta.get(KEY_INFO).cloned(),
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

fn mismatch(message: String) -> ErrorData {
    ErrorData::new(ErrorCode::HEADER_MISMATCH, message, None)
}

/// Decodes a header value that may use the `=?base64?...?=` sentinel; `None` if invalid.
pub(crate) fn decode_header_value(v: &str) -> Option<String> {
    if let Some(inner) = v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(inner)
            .ok()?;
        return String::from_utf8(bytes).ok();
    }
    let safe = v.bytes().all(|b| b == b'\t' || (0x20..=0x7e).contains(&b));
    safe.then(|| v.to_string())
}

/// Checks the request-metadata headers of a POST against its body (400 / -32020 when they
/// are missing or differ). `tool_schema` is the called tool's input schema, for
/// `Mcp-Param-*` headers.
pub(crate) fn check_headers(
    headers: &HeaderMap,
    method: &str,
    params: Option<&RawValue>,
    meta: &ProtocolMeta,
    tool_schema: Option<&Map<String, Value>>,
) -> Result<(), ErrorData> {
    // A header given twice is as good as missing: intermediaries may have read either value.
    let get = |name: &str| {
        let mut all = headers.get_all(name).iter();
        match (all.next(), all.next()) {
            (Some(v), None) => v.to_str().ok(),
            _ => None,
        }
    };
    match &meta.protocol_version {
        Some(v) if v == REVISION => {}
        Some(v) => {
            return Err(mismatch(format!(
                "Header mismatch: MCP-Protocol-Version header value '{REVISION}' does not match body value '{v}'"
            )));
        }
        None => {
            return Err(ErrorData::invalid_params(
                format!("Invalid params: _meta[\"{KEY_VERSION}\"] is required"),
                None,
            ));
        }
    }
    if meta
        .client_capabilities
        .as_ref()
        .is_none_or(|c| !c.is_object())
    {
        return Err(ErrorData::invalid_params(
            format!("Invalid params: _meta[\"{KEY_CAPS}\"] must be an object"),
            None,
        ));
    }
    match get("mcp-method") {
        Some(m) if m == method => {}
        Some(m) => {
            return Err(mismatch(format!(
                "Header mismatch: Mcp-Method header value '{m}' does not match body value '{method}'"
            )));
        }
        None => {
            return Err(mismatch(
                "Header mismatch: the Mcp-Method header is required".into(),
            ));
        }
    }
    let body: Map<String, Value> = params
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or_default();
    let name_key = match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        m if super::tasks::EXTENSION_METHODS.contains(&m) => Some("taskId"),
        _ => None,
    };
    if let Some(key) = name_key {
        let body_value = body.get(key).and_then(Value::as_str).unwrap_or_default();
        let header = get("mcp-name")
            .ok_or_else(|| mismatch("Header mismatch: the Mcp-Name header is required".into()))?;
        let decoded = decode_header_value(header)
            .ok_or_else(|| mismatch("Header mismatch: the Mcp-Name header is malformed".into()))?;
        if decoded != body_value {
            return Err(mismatch(format!(
                "Header mismatch: Mcp-Name header value '{decoded}' does not match body value '{body_value}'"
            )));
        }
    }
    if let (Some(schema), "tools/call") = (tool_schema, method) {
        let args = body.get("arguments").and_then(Value::as_object);
        check_param_headers(&get, schema, args)?;
    }
    Ok(())
}

/// `Mcp-Param-{Name}` headers for tool parameters whose schema has `x-mcp-header`.
fn check_param_headers<'h>(
    get: &dyn Fn(&str) -> Option<&'h str>,
    schema: &Map<String, Value>,
    args: Option<&Map<String, Value>>,
) -> Result<(), ErrorData> {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (prop, def) in props {
        let Some(name) = def.get("x-mcp-header").and_then(Value::as_str) else {
            continue;
        };
        let header_name = format!("mcp-param-{}", name.to_ascii_lowercase());
        let value = args.and_then(|a| a.get(prop)).filter(|v| !v.is_null());
        let header = get(&header_name);
        match (value, header) {
            (None, _) => {}
            (Some(_), None) => {
                return Err(mismatch(format!(
                    "Header mismatch: the Mcp-Param-{name} header is required when `{prop}` is given"
                )));
            }
            (Some(v), Some(h)) => {
                let decoded = decode_header_value(h).ok_or_else(|| {
                    mismatch(format!(
                        "Header mismatch: the Mcp-Param-{name} header is malformed"
                    ))
                })?;
                let same = match v {
                    Value::String(s) => *s == decoded,
                    Value::Bool(b) => decoded == b.to_string(),
                    Value::Number(n) => decoded
                        .parse::<f64>()
                        .ok()
                        .zip(n.as_f64())
                        .is_some_and(|(a, b)| a == b),
                    _ => false,
                };
                if !same {
                    return Err(mismatch(format!(
                        "Header mismatch: Mcp-Param-{name} header value '{decoded}' does not match body value {v}"
                    )));
                }
            }
        }
    }
    Ok(())
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

    fn raw(v: Value) -> Box<RawValue> {
        RawValue::from_string(v.to_string()).unwrap()
    }

    #[test]
    fn header_values_decode() {
        assert_eq!(decode_header_value("us-west1").as_deref(), Some("us-west1"));
        assert_eq!(
            decode_header_value("=?base64?SGVsbG8sIOS4lueVjA==?=").as_deref(),
            Some("Hello, 世界")
        );
        assert_eq!(decode_header_value("=?base64?!!!?="), None);
    }

    #[test]
    fn headers_must_match_the_body() {
        let params = raw(serde_json::json!({
            "name": "calc", "arguments": {"region": "eu", "n": 42},
            "_meta": {KEY_VERSION: REVISION, KEY_CAPS: {}}
        }));
        let meta = request_meta(Some(&params));
        let schema: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "type": "object",
            "properties": {"region": {"type": "string", "x-mcp-header": "Region"}, "n": {"type": "integer", "x-mcp-header": "N"}}
        }))
        .unwrap();
        let mut h = HeaderMap::new();
        h.insert("mcp-method", "tools/call".parse().unwrap());
        h.insert("mcp-name", "calc".parse().unwrap());
        h.insert("mcp-param-region", "eu".parse().unwrap());
        h.insert("mcp-param-n", "42.0".parse().unwrap());
        assert!(check_headers(&h, "tools/call", Some(&params), &meta, Some(&schema)).is_ok());
        h.insert("mcp-param-region", "us".parse().unwrap());
        let e = check_headers(&h, "tools/call", Some(&params), &meta, Some(&schema)).unwrap_err();
        assert_eq!(e.code, ErrorCode::HEADER_MISMATCH);
        h.remove("mcp-param-region");
        assert!(check_headers(&h, "tools/call", Some(&params), &meta, Some(&schema)).is_err());
        h.insert("mcp-param-region", "eu".parse().unwrap());
        h.insert("mcp-name", "other".parse().unwrap());
        assert!(check_headers(&h, "tools/call", Some(&params), &meta, Some(&schema)).is_err());
        h.remove("mcp-method");
        assert!(check_headers(&h, "tools/call", Some(&params), &meta, Some(&schema)).is_err());
    }

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
                .any(|x| x == REVISION)
        );
    }
}
