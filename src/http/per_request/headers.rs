//! The 2026-07-28 header rules: `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` must repeat what
//! the body says, and the body's `_meta` must name the revision and the client's capabilities.
//! A header given twice counts as missing. Every refusal is 400 with `-32020` (header mismatch)
//! or `-32602` (invalid params), raised by the caller with the request's id.

use axum::http::HeaderMap;
use base64::Engine;
use rmcp::model::{ErrorCode, ErrorData};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::mcp::per_request::{KEY_CAPS, KEY_VERSION, ProtocolMeta};
use crate::mcp::protocol::REVISION;
use crate::mcp::tasks::EXTENSION_METHODS;

fn mismatch(message: String) -> ErrorData {
    ErrorData::new(ErrorCode::HEADER_MISMATCH, message, None)
}

/// Decodes a header value that may use the `=?base64?...?=` sentinel; `None` if invalid.
fn decode_header_value(v: &str) -> Option<String> {
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
pub(super) fn check(
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
        m if EXTENSION_METHODS.contains(&m) => Some("taskId"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::per_request::request_meta;

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
        assert!(check(&h, "tools/call", Some(&params), &meta, Some(&schema)).is_ok());
        h.insert("mcp-param-region", "us".parse().unwrap());
        let e = check(&h, "tools/call", Some(&params), &meta, Some(&schema)).unwrap_err();
        assert_eq!(e.code, ErrorCode::HEADER_MISMATCH);
        h.remove("mcp-param-region");
        assert!(check(&h, "tools/call", Some(&params), &meta, Some(&schema)).is_err());
        h.insert("mcp-param-region", "eu".parse().unwrap());
        h.insert("mcp-name", "other".parse().unwrap());
        assert!(check(&h, "tools/call", Some(&params), &meta, Some(&schema)).is_err());
        h.remove("mcp-method");
        assert!(check(&h, "tools/call", Some(&params), &meta, Some(&schema)).is_err());
    }
}
