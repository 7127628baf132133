//! RFC 6570 URI templates, the subset MCP resource templates use: parsing (checked when the
//! manifest is built) and matching a requested URI while extracting the variables' values.
//!
//! Expressions: `{var}` (one or more characters other than `/`), `{+var}` and `{#var}` (may
//! contain `/`), `{a,b}` (comma-separated values), `{?a,b}` and `{&a,b}` (query parameters,
//! possibly absent). Modifiers (`{var*}`, `{var:3}`) are accepted and ignored. Matching tries
//! the shortest value first, as the host's router does, so both agree on which URIs belong to a
//! template. Values are percent-decoded.

use serde_json::{Map, Value};

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UriTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Expression {
        operator: Operator,
        names: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    /// `{var}`
    Simple,
    /// `{+var}`, `{#var}`
    Reserved,
    /// `{?var}`, `{&var}`: empty, or starting with the operator's character
    Query(char),
}

impl UriTemplate {
    /// Parses a template; the error says what is wrong with it.
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err("a `}` without its `{`".into());
            }
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err("a `{` without its `}`".into());
            };
            parts.push(expression(&rest[open + 1..open + close])?);
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// The variables' names, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts
            .iter()
            .flat_map(|part| match part {
                Part::Expression { names, .. } => names.as_slice(),
                Part::Literal(_) => &[],
            })
            .map(String::as_str)
    }

    /// The variables' values if `uri` matches the template (absent ones are left out).
    pub fn match_uri(&self, uri: &str) -> Option<Map<String, Value>> {
        let mut values = Map::new();
        match_parts(&self.parts, uri, &mut values).then_some(values)
    }
}

/// One `{...}` expression (without the braces).
fn expression(text: &str) -> Result<Part, String> {
    let (operator, list) = match text.chars().next() {
        Some('+' | '#') => (Operator::Reserved, &text[1..]),
        Some(c @ ('?' | '&')) => (Operator::Query(c), &text[1..]),
        Some(c @ ('/' | '.' | ';' | '=' | ',' | '!' | '@' | '|')) => {
            return Err(format!(
                "the `{c}` operator in `{{{text}}}` is not supported; use {{var}}, {{+var}}, \
                 {{#var}}, {{?var}} or {{&var}}"
            ));
        }
        _ => (Operator::Simple, text),
    };
    let mut names = Vec::new();
    for spec in list.split(',') {
        let name = spec
            .split(':')
            .next()
            .unwrap_or_default()
            .trim_end_matches('*');
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'%'));
        if !valid {
            return Err(format!(
                "`{{{text}}}` has an invalid variable name {name:?}: use letters, digits and `_`"
            ));
        }
        names.push(name.to_owned());
    }
    Ok(Part::Expression { operator, names })
}

fn match_parts(parts: &[Part], uri: &str, values: &mut Map<String, Value>) -> bool {
    let Some((part, rest)) = parts.split_first() else {
        return uri.is_empty();
    };
    match part {
        Part::Literal(literal) => uri
            .strip_prefix(literal.as_str())
            .is_some_and(|uri| match_parts(rest, uri, values)),
        Part::Expression { operator, names } => {
            let min = if let Operator::Query(_) = operator {
                0
            } else {
                1
            };
            // Every split point, shortest value first.
            let ends = uri
                .char_indices()
                .map(|(i, _)| i)
                .chain([uri.len()])
                .filter(|&end| end >= min);
            for end in ends {
                let value = &uri[..end];
                match operator {
                    Operator::Simple if value.contains('/') => return false,
                    Operator::Query(c) if !value.is_empty() && !value.starts_with(*c) => {
                        return false;
                    }
                    _ => {}
                }
                if match_parts(rest, &uri[end..], values) {
                    assign(*operator, names, value, values);
                    return true;
                }
            }
            false
        }
    }
}

/// Stores one expression's values under its variables' names.
fn assign(operator: Operator, names: &[String], value: &str, values: &mut Map<String, Value>) {
    match operator {
        Operator::Query(c) => {
            let query = value.strip_prefix(c).unwrap_or(value);
            for pair in query.split('&').filter(|pair| !pair.is_empty()) {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let key = decode(key);
                if names.contains(&key) {
                    values.insert(key, decode(value).into());
                }
            }
        }
        Operator::Simple | Operator::Reserved => {
            let value = value.strip_prefix('#').unwrap_or(value);
            let pieces = value.splitn(names.len(), ',');
            for (name, piece) in names.iter().zip(pieces) {
                values.insert(name.clone(), decode(piece).into());
            }
        }
    }
}

/// Percent-decodes (`%2F` -> `/`); a malformed escape stays as it is.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(template: &str, uri: &str) -> Option<Value> {
        let template = UriTemplate::parse(template).unwrap();
        template.match_uri(uri).map(Value::Object)
    }

    #[test]
    fn extracts_simple_variables() {
        let template = "test://template/{id}/data";
        assert_eq!(
            vars(template, "test://template/123/data"),
            Some(json!({"id": "123"}))
        );
        assert_eq!(vars(template, "test://template//data"), None);
        assert_eq!(vars(template, "test://template/1/2/data"), None);
        assert_eq!(vars(template, "test://template/1/data/x"), None);
        assert_eq!(
            vars("x://{a}-{b}", "x://1-2-3"),
            Some(json!({"a": "1", "b": "2-3"}))
        );
        assert_eq!(vars("x://{a}", "y://1"), None);
        assert_eq!(
            vars("static://no-vars", "static://no-vars"),
            Some(json!({}))
        );
        assert_eq!(
            vars("users://{name}", "users://J%C3%BCrgen%20B"),
            Some(json!({"name": "Jürgen B"}))
        );
        assert_eq!(vars("x://{a}", "x://100%"), Some(json!({"a": "100%"})));
    }

    #[test]
    fn reserved_lists_and_queries() {
        assert_eq!(
            vars("file:///{+path}", "file:///a/b/c.txt"),
            Some(json!({"path": "a/b/c.txt"}))
        );
        assert_eq!(
            vars("x://page{#section}", "x://page#intro"),
            Some(json!({"section": "intro"}))
        );
        assert_eq!(
            vars("map://{lat,lon}", "map://52.5,13.4"),
            Some(json!({"lat": "52.5", "lon": "13.4"}))
        );
        assert_eq!(
            vars(
                "search://items{?q,limit}",
                "search://items?q=a%20b&limit=5&other=1"
            ),
            Some(json!({"q": "a b", "limit": "5"}))
        );
        assert_eq!(
            vars("search://items{?q,limit}", "search://items"),
            Some(json!({}))
        );
        assert_eq!(vars("search://items{?q}", "search://itemsX"), None);
        assert_eq!(
            vars("x://{+path}{?rev}", "x://a/b.txt?rev=3"),
            Some(json!({"path": "a/b.txt", "rev": "3"}))
        );
        assert_eq!(
            vars("x://{id}{?a}{&b}", "x://1?a=2&b=3"),
            Some(json!({"id": "1", "a": "2", "b": "3"}))
        );
        assert_eq!(
            vars("x://{id}{?v}", "x://7?v=2"),
            Some(json!({"id": "7", "v": "2"}))
        );
        assert_eq!(
            vars("x://{path*}/{n:3}", "x://a/b"),
            Some(json!({"path": "a", "n": "b"}))
        );
    }

    #[test]
    fn rejects_malformed_templates() {
        let errors = [
            ("x://{id", "without its `}`"),
            ("x://id}", "without its `{`"),
            ("x://{}", "invalid variable name"),
            ("x://{a b}", "invalid variable name"),
            ("x://{/path}", "operator"),
        ];
        for (template, message) in errors {
            let error = UriTemplate::parse(template).unwrap_err();
            assert!(error.contains(message), "{template}: {error}");
        }
        let template = UriTemplate::parse("x://{a}/{+b}{?c,d}").unwrap();
        assert_eq!(
            template.variables().collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
    }
}
