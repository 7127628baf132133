//! Reading the request envelope (`{"method", "params", "context"}`) in one pass.
//!
//! The params of most methods stay raw until their handler parses them. A `tools/call` whose
//! `method` comes before its `params` (the host always writes it so) has its params read in
//! the same pass, leaving only the tool's `arguments` raw: the JSON is scanned once instead
//! of three times. Anything unusual (another key order, params that are not what
//! `tools/call` takes) goes through the generic path, whose errors say what is wrong.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// One request from the host.
pub(super) struct Request<'a> {
    pub method: Cow<'a, str>,
    pub params: Params<'a>,
    /// Parsed only if the handler asks (`Context`).
    pub context: Option<&'a RawValue>,
}

/// A request's params, as far as the envelope read them.
pub(super) enum Params<'a> {
    /// Left for the method's handler (absent params are `None`).
    Raw(Option<&'a RawValue>),
    /// A `tools/call`, read with the envelope.
    Call(CallToolParams<'a>),
}

impl<'a> Params<'a> {
    /// The raw params, for handlers of methods other than `tools/call`.
    pub fn raw(&self) -> Option<&'a RawValue> {
        match self {
            Params::Raw(raw) => *raw,
            Params::Call(_) => None,
        }
    }
}

/// `tools/call` params; `arguments` stays raw until the tool deserializes its own type.
#[derive(Deserialize)]
pub(super) struct CallToolParams<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub arguments: Option<&'a RawValue>,
}

/// Parses a request; the error is a message for the host.
pub(super) fn parse(request: &[u8]) -> Result<Request<'_>, String> {
    // Checked as UTF-8 once here, so no later parse of a part of it checks again.
    let text = std::str::from_utf8(request).map_err(|e| e.to_string())?;
    let read =
        |eager| Envelope { eager }.deserialize(&mut serde_json::Deserializer::from_str(text));
    // A failed eager read is read again plainly: the tools/call handler explains bad params.
    read(true)
        .or_else(|_| read(false))
        .map_err(|e| e.to_string())
}

/// Reads the envelope; `eager` reads `tools/call` params on the way.
struct Envelope {
    eager: bool,
}

impl<'de> DeserializeSeed<'de> for Envelope {
    type Value = Request<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Envelope {
    type Value = Request<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a request object {\"method\", \"params\", \"context\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        #[derive(Deserialize)]
        struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
        let mut method: Option<Cow<'de, str>> = None;
        let mut params = Params::Raw(None);
        let mut context = None;
        while let Some(Text(key)) = map.next_key()? {
            match &*key {
                "method" => method = Some(map.next_value::<Text<'de>>()?.0),
                "params" if self.eager && method.as_deref() == Some("tools/call") => {
                    params = Params::Call(map.next_value()?);
                }
                "params" => params = Params::Raw(map.next_value()?),
                "context" => context = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let method = method.ok_or_else(|| serde::de::Error::missing_field("method"))?;
        Ok(Request {
            method,
            params,
            context,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tool_calls_in_one_pass() {
        let r = parse(br#"{"method":"tools/call","params":{"name":"t","arguments":{"a":1}},"context":{"protocolVersion":"2025-06-18"}}"#).unwrap();
        assert_eq!(r.method, "tools/call");
        let Params::Call(p) = r.params else {
            panic!("not read eagerly")
        };
        assert_eq!(p.name, "t");
        assert_eq!(p.arguments.unwrap().get(), r#"{"a":1}"#);
        assert_eq!(
            r.context.unwrap().get(),
            r#"{"protocolVersion":"2025-06-18"}"#
        );
    }

    #[test]
    fn leaves_the_rest_raw() {
        // Params before the method, bad tools/call params, other methods: all raw.
        for body in [
            r#"{"params":{"name":"t"},"method":"tools/call"}"#,
            r#"{"method":"tools/call","params":{"arguments":{}}}"#,
            r#"{"method":"tools/call","params":[1]}"#,
            r#"{"method":"prompts/get","params":{"name":"p"},"extra":true}"#,
        ] {
            let r = parse(body.as_bytes()).unwrap();
            assert!(matches!(r.params, Params::Raw(Some(_))), "{body}");
        }
        let r = parse(br#"{"method":"x","params":null}"#).unwrap();
        assert!(matches!(r.params, Params::Raw(None)));
    }

    #[test]
    fn refuses_what_is_not_a_request() {
        let error = |body: &[u8]| parse(body).err().expect("refused");
        assert!(error(b"{\"method\":\"\xff\"}").contains("utf-8"));
        assert!(error(br#"{"params":{}}"#).contains("method"));
        assert!(error(br#"[]"#).contains("request object"));
    }
}
