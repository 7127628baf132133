//! The inline fast path's scan of `tools/call` params: the tool name and raw arguments of
//! params written the way SDK clients write them, found without a second parse of JSON the
//! body's parse has already checked.

/// The tool name and raw arguments of params written `{"name":"<name>"}` or
/// `{"name":"<name>","arguments":{...}...}`, as SDK clients write them, with a name whose
/// characters need no unescaping: found by scanning, without a second parse of JSON
/// the body's parse has already checked. `None` for any other shape, which the parser handles.
pub(super) fn leading_call(params: &str) -> Option<(&str, Option<&str>)> {
    let rest = params.strip_prefix(r#"{"name":""#)?;
    // A byte loop: names are short, and `str::find` sets up a searcher for each call.
    let name = &rest[..rest.bytes().position(|b| b == b'"')?];
    // Without a backslash the name is its own text (the body's parse rejected control
    // characters); a name the catalog does not have is the parser's to answer.
    if name.bytes().any(|b| b == b'\\') {
        return None;
    }
    let rest = &rest[name.len() + 1..];
    if rest == "}" {
        return Some((name, None));
    }
    let rest = rest.strip_prefix(r#","arguments":"#)?;
    let arguments = &rest[..object_len(rest)?];
    let after = &rest[arguments.len()..];
    (after == "}" || after.starts_with(',')).then_some((name, Some(arguments)))
}

/// The length of the JSON object `text` starts with. `text` must be part of valid JSON (only
/// brackets outside strings are counted); `None` if it does not start with `{`.
fn object_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc;
    use crate::mcp::service::call::NamedParams;
    use serde_json::value::RawValue;

    #[test]
    fn finds_the_name_and_arguments_of_plain_params_as_the_parser_does() {
        let found = [
            (r#"{"name":"calculate"}"#, "calculate", None),
            // Not tool names, but their own text: the catalog lookup refuses them.
            (r#"{"name":"sp ace"}"#, "sp ace", None),
            (r#"{"name":""}"#, "", None),
            (r#"{"name":"t","arguments":{}}"#, "t", Some("{}")),
            (
                r#"{"name":"a.b-c_9","arguments":{"a":[1,{"b":"}]\"{"}],"c":"\\"},"_meta":{}}"#,
                "a.b-c_9",
                Some(r#"{"a":[1,{"b":"}]\"{"}],"c":"\\"}"#),
            ),
        ];
        for (params, name, arguments) in found {
            assert_eq!(leading_call(params), Some((name, arguments)), "{params}");
            let raw: &RawValue = serde_json::from_str(params).unwrap();
            let parsed: NamedParams = jsonrpc::params(Some(raw)).unwrap();
            assert_eq!(
                (&*parsed.name, parsed.arguments.map(RawValue::get)),
                (name, arguments)
            );
        }
        for other in [
            r#"{"name":"with\"quote"}"#,
            r#"{"name":"caf\u00e9"}"#,
            r#"{ "name":"t"}"#,
            r#"{"arguments":{},"name":"t"}"#,
            r#"{"name":"t","arguments": {}}"#,
            r#"{"name":"t","arguments":[1]}"#,
            r#"{"name":"t","arguments":null}"#,
            r#"{"name":"t","_meta":{},"arguments":{}}"#,
            r#"{"name":"t" }"#,
            r#"{"name":7}"#,
            "{}",
        ] {
            assert_eq!(leading_call(other), None, "{other}");
        }
    }
}
