//! JSON-RPC 2.0 framing: classifying an incoming message and writing outgoing ones.
//!
//! Incoming messages are parsed into a borrowed envelope first (method, id and raw params), so
//! only the params a method needs are deserialized, into `rmcp::model` types, by its handler.
//! Outgoing messages are written as strings with the result spliced in from its own
//! serialization, which lets plugin results pass through without being re-parsed.

use std::borrow::Cow;

use rmcp::model::{ErrorCode, ErrorData, RequestId};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// One incoming JSON-RPC message.
#[derive(Debug)]
pub(crate) enum Incoming<'a> {
    /// A request: answer it.
    Request {
        /// The request id, echoed in the answer.
        id: RequestId,
        /// The method name.
        method: Cow<'a, str>,
        /// Raw params, if any.
        params: Option<&'a RawValue>,
    },
    /// A notification: no answer.
    Notification {
        /// The method name.
        method: Cow<'a, str>,
        /// Raw params, if any.
        params: Option<&'a RawValue>,
    },
    /// The client's answer to a request the server sent.
    Response {
        /// The id the server gave its request.
        id: RequestId,
        /// The result, or the client's error object.
        outcome: Result<Value, Value>,
    },
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    jsonrpc: Option<Text<'a>>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Id>,
    #[serde(borrow)]
    method: Option<Text<'a>>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
    result: Option<Value>,
    error: Option<Value>,
}

/// A string borrowed from the body unless it has escapes. (`Option<Cow<str>>` would always
/// copy: serde borrows only for a `Cow` field itself, hence the newtype.)
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// Keeps an explicit `null` distinct from an absent field.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Id>, D::Error> {
    d.deserialize_any(IdVisitor).map(Some)
}

/// A JSON-RPC id as written: MCP allows strings and integers; anything else is kept to be
/// refused with the id-less error.
enum Id {
    Valid(RequestId),
    Invalid,
}

struct IdVisitor;

impl<'de> serde::de::Visitor<'de> for IdVisitor {
    type Value = Id;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string or an integer")
    }

    fn visit_i64<E>(self, n: i64) -> Result<Id, E> {
        Ok(Id::Valid(RequestId::Number(n)))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Id, E> {
        Ok(i64::try_from(n).map_or(Id::Invalid, |n| Id::Valid(RequestId::Number(n))))
    }

    fn visit_str<E>(self, s: &str) -> Result<Id, E> {
        Ok(Id::Valid(RequestId::String(s.into())))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Id, E> {
        Ok(Id::Invalid)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Id, E> {
        Ok(Id::Invalid)
    }

    fn visit_unit<E>(self) -> Result<Id, E> {
        Ok(Id::Invalid)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Id, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Id::Invalid)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Id, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Id::Invalid)
    }
}

/// Why a body is not a message we can answer normally.
#[derive(Debug)]
pub(crate) enum ParseError {
    /// Not JSON (`-32700`).
    Parse(String),
    /// JSON, but not a valid JSON-RPC message (`-32600`); carries the id when one was readable.
    Invalid(Option<RequestId>, String),
    /// A JSON array: a batch (removed from the protocol in 2025-06-18).
    Batch,
}

impl ParseError {
    /// The JSON-RPC error for this failure.
    pub(crate) fn to_error(&self) -> (Option<RequestId>, ErrorData) {
        match self {
            ParseError::Parse(m) => (
                None,
                ErrorData::parse_error(format!("Parse error: {m}"), None),
            ),
            ParseError::Invalid(id, m) => (
                id.clone(),
                ErrorData::invalid_request(format!("Invalid request: {m}"), None),
            ),
            ParseError::Batch => (
                None,
                ErrorData::invalid_request(
                    "Invalid request: JSON-RPC batches are not supported",
                    None,
                ),
            ),
        }
    }
}

/// Parses one message from `body`.
pub(crate) fn parse(body: &[u8]) -> Result<Incoming<'_>, ParseError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        return match serde_json::from_slice::<Value>(body) {
            Ok(_) => Err(ParseError::Batch),
            Err(e) => Err(ParseError::Parse(e.to_string())),
        };
    }
    // Checked as UTF-8 once, so the parse (and any later parse of the params) need not.
    let body = std::str::from_utf8(body).map_err(|e| ParseError::Parse(e.to_string()))?;
    let env: Envelope<'_> = match serde_json::from_str(body) {
        Ok(e) => e,
        Err(e) if e.is_syntax() || e.is_eof() => return Err(ParseError::Parse(e.to_string())),
        Err(e) => return Err(ParseError::Invalid(None, e.to_string())),
    };
    let id = match env.id {
        None => None,
        Some(Id::Valid(id)) => Some(id),
        Some(Id::Invalid) => {
            return Err(ParseError::Invalid(
                None,
                "id must be a string or an integer".into(),
            ));
        }
    };
    if env.jsonrpc.as_ref().map(|t| &*t.0) != Some("2.0") {
        return Err(ParseError::Invalid(
            id,
            "\"jsonrpc\" must be \"2.0\"".into(),
        ));
    }
    match (env.method.map(|t| t.0), id) {
        (Some(method), Some(id)) => Ok(Incoming::Request {
            id,
            method,
            params: env.params,
        }),
        (Some(method), None) => Ok(Incoming::Notification {
            method,
            params: env.params,
        }),
        (None, Some(id)) => match (env.result, env.error) {
            (Some(r), None) => Ok(Incoming::Response { id, outcome: Ok(r) }),
            (None, Some(e)) => Ok(Incoming::Response {
                id,
                outcome: Err(e),
            }),
            _ => Err(ParseError::Invalid(
                Some(id),
                "a response needs exactly one of \"result\" and \"error\"".into(),
            )),
        },
        (None, None) => Err(ParseError::Invalid(None, "missing \"method\"".into())),
    }
}

/// Deserializes params (absent params read as `{}`) or gives an invalid-params error.
pub(crate) fn params<'a, T: Deserialize<'a>>(params: Option<&'a RawValue>) -> Result<T, ErrorData> {
    let text = params.map(RawValue::get).unwrap_or("{}");
    serde_json::from_str(text)
        .map_err(|e| ErrorData::invalid_params(format!("Invalid params: {e}"), None))
}

fn id_json(id: &RequestId) -> String {
    let mut s = String::new();
    write_id(&mut s, id);
    s
}

fn write_id(out: &mut String, id: &RequestId) {
    match id {
        RequestId::Number(n) => out.push_str(itoa::Buffer::new().format(*n)),
        RequestId::String(s) => match serde_json::to_string(&**s) {
            Ok(quoted) => out.push_str(&quoted),
            Err(_) => out.push_str("null"),
        },
    }
}

/// `{"jsonrpc":"2.0","id":ID,"result":RAW}`.
pub(crate) fn response_raw(id: &RequestId, result: &str) -> String {
    let mut s = String::with_capacity(result.len() + 64);
    s.push_str("{\"jsonrpc\":\"2.0\",\"id\":");
    write_id(&mut s, id);
    s.push_str(",\"result\":");
    s.push_str(result);
    s.push('}');
    s
}

/// An error response (id absent when it could not be read).
pub(crate) fn error(id: Option<&RequestId>, err: &ErrorData) -> String {
    let err = serde_json::to_string(err).unwrap_or_else(|_| {
        format!(
            "{{\"code\":{},\"message\":\"internal error\"}}",
            ErrorCode::INTERNAL_ERROR.0
        )
    });
    match id {
        Some(id) => format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{},\"error\":{err}}}",
            id_json(id)
        ),
        // JSON-RPC 2.0: an id that could not be read is answered as null.
        None => format!("{{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{err}}}"),
    }
}

/// A notification `{"jsonrpc":"2.0","method":M,"params":P}`.
pub(crate) fn notification(method: &str, params: &Value) -> String {
    notification_text(method, &params.to_string())
}

/// [`notification`] with params that are already JSON text (a tool's, passed on unparsed).
pub(crate) fn notification_text(method: &str, params: &str) -> String {
    let mut out = String::with_capacity(params.len() + method.len() + 40);
    out.push_str("{\"jsonrpc\":\"2.0\",\"method\":");
    if method.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(&Value::from(method).to_string());
    } else {
        out.push('"');
        out.push_str(method);
        out.push('"');
    }
    out.push_str(",\"params\":");
    out.push_str(params);
    out.push('}');
    out
}

/// A server-to-client request.
pub fn request(id: &RequestId, method: &str, params: &Value) -> String {
    serde_json::json!({"jsonrpc": "2.0", "id": id.clone().into_json_value(), "method": method, "params": params})
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_the_same_from_a_value_or_text() {
        let params = serde_json::json!({"progress": 1, "message": "a \"b\""});
        let expected = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": params});
        let from_value = notification("notifications/progress", &params);
        assert_eq!(
            serde_json::from_str::<Value>(&from_value).unwrap(),
            expected
        );
        assert_eq!(from_value, expected.to_string());
        let odd = notification_text("x\"y\\z\n", "{}");
        let parsed: Value = serde_json::from_str(&odd).unwrap();
        assert_eq!(parsed["method"], "x\"y\\z\n");
        assert_eq!(parsed["params"], serde_json::json!({}));
    }

    #[test]
    fn classifies_messages() {
        let m = parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
        assert!(
            matches!(m, Incoming::Request { id: RequestId::Number(1), ref method, .. } if method == "ping")
        );
        let m = parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(m, Incoming::Notification { .. }));
        let m = parse(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap();
        assert!(matches!(m, Incoming::Response { outcome: Ok(_), .. }));
    }

    #[test]
    fn rejects_bad_messages() {
        assert!(matches!(parse(b"{not json"), Err(ParseError::Parse(_))));
        assert!(matches!(parse(b"[]"), Err(ParseError::Batch)));
        assert!(matches!(
            parse(br#"{"id":1,"method":"x"}"#),
            Err(ParseError::Invalid(Some(_), _))
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":null,"method":"x"}"#),
            Err(ParseError::Invalid(..))
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#),
            Err(ParseError::Invalid(..))
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0"}"#),
            Err(ParseError::Invalid(..))
        ));
        assert!(matches!(parse(br#"42"#), Err(ParseError::Invalid(..))));
        assert!(matches!(
            parse(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}"),
            Err(ParseError::Parse(_))
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#),
            Err(ParseError::Invalid(None, _))
        ));
    }

    #[test]
    fn borrows_plain_strings_and_unescapes_the_others() {
        let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#;
        let Ok(Incoming::Request { method, .. }) = parse(body) else {
            panic!("a request")
        };
        assert!(matches!(method, Cow::Borrowed("tools/call")));
        let body = br#"{"jsonrpc":"2\u002e0","id":1,"method":"tools\/call"}"#;
        let Ok(Incoming::Request { method, .. }) = parse(body) else {
            panic!("a request")
        };
        assert_eq!(method, "tools/call");
    }

    #[test]
    fn reads_ids() {
        let id = |body: &[u8]| match parse(body).unwrap() {
            Incoming::Request { id, .. } => id,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            id(br#"{"jsonrpc":"2.0","id":"a\"b","method":"x"}"#),
            RequestId::String("a\"b".into())
        );
        assert_eq!(
            id(br#"{"jsonrpc":"2.0","id": -7 ,"method":"x"}"#),
            RequestId::Number(-7)
        );
    }

    #[test]
    fn writes_messages() {
        let id = RequestId::String("x\"y".into());
        let v: Value = serde_json::from_str(&response_raw(&id, "{\"a\":1}")).unwrap();
        assert_eq!(v["id"], "x\"y");
        assert_eq!(v["result"]["a"], 1);
        let v: Value =
            serde_json::from_str(&error(None, &ErrorData::parse_error("bad", None))).unwrap();
        assert_eq!(v["error"]["code"], -32700);
        assert!(v["id"].is_null());
    }
}
