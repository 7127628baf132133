//! Checks of what a plugin answers, against the protocol's result types, before the host
//! forwards it: a plugin's reply is untrusted input.
//!
//! A `tools/call` result is checked on every call, so it is read by a borrowing, non-allocating
//! pass over the JSON ([`check_tool_result`]): the content blocks' shapes, `isError`,
//! `structuredContent` and `_meta`. Its `structuredContent` is checked against the tool's
//! `outputSchema` when it has one ([`super::schema`]). The results of the other methods
//! (`resources/read`, `prompts/get`, `completion/complete`, subscribe) are parsed into the
//! `rmcp::model` types ([`check_result`]); they are not on the hot path. These checks are also
//! what makes sure a result is JSON at all: nothing before them parses it.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::schema::Schema;

/// A `tools/call` result that passed the checks: whether it reports a tool error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ToolResultShape {
    /// `isError: true`.
    pub(crate) is_error: bool,
}

/// Checks a `tools/call` result (a `CallToolResult`) and, when `schema` is given and the result
/// is not an error, its `structuredContent` against it. `Err` says what is wrong.
pub(crate) fn check_tool_result(
    raw: &str,
    schema: Option<&Schema>,
) -> Result<ToolResultShape, String> {
    if schema.is_none()
        && let Some(shape) = plain_text_result(raw)
    {
        return Ok(shape);
    }
    let parsed: ToolResult<'_> =
        serde_json::from_str(raw).map_err(|e| format!("not a CallToolResult: {e}"))?;
    let is_error = parsed.is_error.unwrap_or(false);
    if let Some(meta) = parsed.meta
        && !meta.get().starts_with('{')
    {
        return Err("_meta must be an object".into());
    }
    match (parsed.structured, schema) {
        (Some(s), _) if !s.get().starts_with('{') => {
            return Err("structuredContent must be an object".into());
        }
        (Some(s), Some(schema)) if !is_error => {
            let value: serde_json::Value =
                serde_json::from_str(s.get()).map_err(|e| format!("structuredContent: {e}"))?;
            schema
                .check(&value)
                .map_err(|e| format!("structuredContent does not match the outputSchema: {e}"))?;
        }
        (None, Some(_)) if !is_error => {
            return Err(
                "the tool declares an outputSchema but returned no structuredContent".into(),
            );
        }
        _ => {}
    }
    Ok(ToolResultShape { is_error })
}

/// The shape most tools answer with, one text block as the SDK writes it, recognised by a scan
/// instead of a parse (about a tenth of the instructions): `{"content":[{"type":"text",
/// "text":"..."}]}`, optionally with `"isError":true|false`, where the text is a valid JSON
/// string. `None` for anything else, which the parser checks.
fn plain_text_result(raw: &str) -> Option<ToolResultShape> {
    let rest = raw.strip_prefix(r#"{"content":[{"type":"text","text":""#)?;
    let end = json_string_end(rest.as_bytes())?;
    let is_error = match &rest[end..] {
        r#""}]}"# | r#""}],"isError":false}"# => false,
        r#""}],"isError":true}"# => true,
        _ => return None,
    };
    Some(ToolResultShape { is_error })
}

/// Where the JSON string whose opening quote came before `text` ends (the index of its closing
/// quote), if its body is valid: no raw control characters, only JSON's escapes. UTF-8 is
/// given (`text` comes from a `&str`).
fn json_string_end(text: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => return Some(i),
            b'\\' => match text.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' => {
                    let hex = text.get(i + 2..i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    i += 6;
                }
                _ => return None,
            },
            0..=0x1f => return None,
            _ => i += 1,
        }
    }
    None
}

/// Checks the result of a request other than `tools/call` against its method's result type.
pub(crate) fn check_result(method: &str, raw: &str) -> Result<(), String> {
    use rmcp::model::{CompleteResult, GetPromptResult, ReadResourceResult};
    fn parse<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<(), String> {
        serde_json::from_str::<T>(raw)
            .map(drop)
            .map_err(|e| format!("not a {what}: {e}"))
    }
    match method {
        "resources/read" => parse::<ReadResourceResult>(raw, "ReadResourceResult"),
        "prompts/get" => parse::<GetPromptResult>(raw, "GetPromptResult"),
        "completion/complete" => parse::<CompleteResult>(raw, "CompleteResult"),
        "resources/subscribe" | "resources/unsubscribe" => {
            parse::<serde_json::Map<String, serde_json::Value>>(raw, "result object")
        }
        // Whatever else: it goes into the response as it is, so it must be JSON at least.
        _ => serde_json::from_str::<IgnoredAny>(raw)
            .map(drop)
            .map_err(|e| format!("not JSON: {e}")),
    }
}

/// `CallToolResult`, read without copying.
#[derive(Deserialize)]
struct ToolResult<'a> {
    /// Checked while it is read; required.
    #[serde(rename = "content")]
    _content: Blocks,
    #[serde(rename = "structuredContent", borrow, default)]
    structured: Option<&'a RawValue>,
    #[serde(rename = "isError", default)]
    is_error: Option<bool>,
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<&'a RawValue>,
}

/// The content array, each block checked as it is read (no `Vec`).
struct Blocks;

impl<'de> Deserialize<'de> for Blocks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Blocks;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of content blocks")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Blocks, A::Error> {
                let mut index = 0;
                while let Some(block) = seq.next_element::<Block>()? {
                    block
                        .check()
                        .map_err(|e| de::Error::custom(format!("content[{index}]: {e}")))?;
                    index += 1;
                }
                Ok(Blocks)
            }
        }
        d.deserialize_seq(V)
    }
}

/// One content block: which fields are there, and that each is of the right JSON type.
#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: Kind,
    #[serde(default)]
    text: Option<AString>,
    #[serde(default)]
    data: Option<AString>,
    #[serde(rename = "mimeType", default)]
    mime_type: Option<AString>,
    #[serde(default)]
    uri: Option<AString>,
    #[serde(default)]
    name: Option<AString>,
    #[serde(default)]
    resource: Option<Embedded>,
    #[serde(rename = "annotations", default)]
    _annotations: Option<AnObject>,
    #[serde(rename = "_meta", default)]
    _meta: Option<AnObject>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Text,
    Image,
    Audio,
    ResourceLink,
    Resource,
}

impl Block {
    fn check(&self) -> Result<(), String> {
        let missing = |field: &str| Err(format!("a {:?} block needs `{field}`", self.kind));
        match self.kind {
            Kind::Text if self.text.is_none() => missing("text"),
            Kind::Image | Kind::Audio if self.data.is_none() => missing("data"),
            Kind::Image | Kind::Audio if self.mime_type.is_none() => missing("mimeType"),
            Kind::ResourceLink if self.uri.is_none() => missing("uri"),
            Kind::ResourceLink if self.name.is_none() => missing("name"),
            Kind::Resource => match &self.resource {
                None => missing("resource"),
                Some(r) if r.uri.is_none() => missing("resource.uri"),
                Some(r) if r.text.is_some() == r.blob.is_some() => {
                    Err("an embedded resource needs exactly one of `text` and `blob`".into())
                }
                Some(_) => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// An embedded resource's contents.
#[derive(Deserialize)]
struct Embedded {
    #[serde(default)]
    uri: Option<AString>,
    #[serde(rename = "mimeType", default)]
    _mime_type: Option<AString>,
    #[serde(default)]
    text: Option<AString>,
    #[serde(default)]
    blob: Option<AString>,
}

/// A JSON string, checked and dropped without a copy.
struct AString;

impl<'de> Deserialize<'de> for AString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<AString, E> {
                Ok(AString)
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON object, skipped without a copy.
struct AnObject;

impl<'de> Deserialize<'de> for AnObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnObject, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(AnObject)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: serde_json::Value) -> Result<ToolResultShape, String> {
        check_tool_result(&v.to_string(), None)
    }

    #[test]
    fn good_results_pass_and_report_is_error() {
        let ok = json!({"content": [{"type": "text", "text": "hi \"there\""}]});
        assert_eq!(check(ok), Ok(ToolResultShape { is_error: false }));
        let failed = json!({"content": [{"type": "text", "text": "no"}], "isError": true});
        assert_eq!(check(failed), Ok(ToolResultShape { is_error: true }));
        let mixed = json!({"content": [
            {"type": "image", "data": "AAAA", "mimeType": "image/png", "annotations": {"priority": 1}},
            {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"},
            {"type": "resource_link", "uri": "file:///x", "name": "x", "extra": [1, 2]},
            {"type": "resource", "resource": {"uri": "test://a", "text": "t"}},
            {"type": "resource", "resource": {"uri": "test://b", "blob": "AAAA", "mimeType": "x/y"}}
        ], "structuredContent": {"a": 1}, "_meta": {}});
        assert_eq!(check(mixed), Ok(ToolResultShape { is_error: false }));
        assert!(check(json!({"content": []})).is_ok());
    }

    #[test]
    fn bad_results_are_named() {
        let cases = [
            (json!("just a string"), "not a CallToolResult"),
            (
                json!({"content": "not an array", "isError": "yes"}),
                "content blocks",
            ),
            (
                json!({"content": [], "isError": "yes"}),
                "expected a boolean",
            ),
            (json!({"isError": false}), "content"),
            (
                json!({"content": [{"type": "text"}]}),
                "content[0]: a Text block needs `text`",
            ),
            (
                json!({"content": [{"type": "text", "text": 5}]}),
                "a string",
            ),
            (
                json!({"content": [{"type": "video", "text": "x"}]}),
                "video",
            ),
            (json!({"content": [{"text": "x"}]}), "type"),
            (
                json!({"content": [{"type": "image", "data": "AA"}]}),
                "mimeType",
            ),
            (
                json!({"content": [{"type": "resource", "resource": {"uri": "u"}}]}),
                "exactly one",
            ),
            (
                json!({"content": [], "structuredContent": [1]}),
                "structuredContent must be",
            ),
            (json!({"content": [], "_meta": 1}), "_meta must be"),
        ];
        for (reply, needle) in cases {
            let err = check(reply.clone()).expect_err(&reply.to_string());
            assert!(err.contains(needle), "{reply}: {err}");
        }
        let twice = r#"{"content":[{"type":"text","text":"a","text":"b"}]}"#;
        let err = check_tool_result(twice, None).unwrap_err();
        assert!(err.contains("duplicate field `text`"), "{err}");
    }

    #[test]
    fn the_plain_text_scan_agrees_with_the_parser() {
        let plain = [
            r#"{"content":[{"type":"text","text":"Result: 5"}]}"#,
            r#"{"content":[{"type":"text","text":"a \"quoted\" \\ \u00e9 \n line"}]}"#,
            r#"{"content":[{"type":"text","text":""}],"isError":true}"#,
            r#"{"content":[{"type":"text","text":"x"}],"isError":false}"#,
        ];
        for raw in plain {
            assert!(plain_text_result(raw).is_some(), "{raw}");
            let parsed: ToolResult<'_> = serde_json::from_str(raw).unwrap();
            assert_eq!(
                plain_text_result(raw),
                Some(ToolResultShape {
                    is_error: parsed.is_error.unwrap_or(false)
                })
            );
        }
        let left_to_the_parser = [
            r#"{"content":[{"type":"text","text":"raw
newline"}]}"#,
            r#"{"content":[{"type":"text","text":"bad \x escape"}]}"#,
            r#"{"content":[{"type":"text","text":"short \u12"}]}"#,
            r#"{"content":[{"type":"text","text":"unterminated}]}"#,
            r#"{"content":[{"type":"text","text":"x"}],"isError":"yes"}"#,
            r#"{"content":[{"type":"text","text":"x"}]} trailing"#,
            r#"{"content":[{"type":"text","text":"x"},{"type":"text","text":"y"}]}"#,
        ];
        for raw in left_to_the_parser {
            assert_eq!(plain_text_result(raw), None, "{raw}");
        }
        for raw in &left_to_the_parser[..6] {
            assert!(check_tool_result(raw, None).is_err(), "{raw}");
        }
        assert!(check_tool_result(left_to_the_parser[6], None).is_ok());
    }

    #[test]
    fn structured_content_is_checked_against_the_output_schema() {
        let schema = Schema::compile(&json!({
            "type": "object",
            "properties": {"n": {"type": "integer"}},
            "required": ["n"]
        }))
        .unwrap();
        let good = json!({"content": [], "structuredContent": {"n": 3}}).to_string();
        assert!(check_tool_result(&good, Some(&schema)).is_ok());
        let bad = json!({"content": [], "structuredContent": {"n": "3"}}).to_string();
        let err = check_tool_result(&bad, Some(&schema)).unwrap_err();
        assert!(err.contains("outputSchema") && err.contains("/n"), "{err}");
        let missing = json!({"content": [{"type": "text", "text": "x"}]}).to_string();
        let err = check_tool_result(&missing, Some(&schema)).unwrap_err();
        assert!(err.contains("no structuredContent"), "{err}");
        let tool_error = json!({"content": [], "isError": true}).to_string();
        assert!(
            check_tool_result(&tool_error, Some(&schema)).is_ok(),
            "errors need none"
        );
    }

    #[test]
    fn other_methods_are_checked_against_their_result_types() {
        let read = json!({"contents": [{"uri": "test://a", "text": "x"}]}).to_string();
        assert!(check_result("resources/read", &read).is_ok());
        assert!(check_result("resources/read", r#"{"contents":"x"}"#).is_err());
        let prompt =
            json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}]});
        assert!(check_result("prompts/get", &prompt.to_string()).is_ok());
        assert!(check_result("prompts/get", r#"{"messages":[{"role":"robot"}]}"#).is_err());
        let done = json!({"completion": {"values": ["a"], "total": 1}}).to_string();
        assert!(check_result("completion/complete", &done).is_ok());
        assert!(check_result("completion/complete", r#"{"completion":{}}"#).is_err());
        assert!(check_result("resources/subscribe", "{}").is_ok());
        assert!(check_result("resources/subscribe", "[]").is_err());
        assert!(check_result("other/method", "[1]").is_ok());
        assert!(check_result("other/method", "{nope").is_err());
    }
}
