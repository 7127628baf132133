//! RFC 6570 URI templates, the subset MCP resource templates use: parsing, and matching a URI
//! while extracting the variables' values.
//!
//! Not part of the C ABI (nothing here crosses the boundary), but both of its sides need it:
//! the host routes a `resources/read` to the plugin whose template matches the URI, the SDK
//! then takes the variables out of that URI, and the SDK's macros check templates at compile
//! time. One implementation keeps them agreeing on which URIs belong to a template.
//!
//! Expressions: `{var}` (one or more characters other than `/`), `{+var}` and `{#var}` (one or
//! more characters, `/` included; the `#` itself is part of the URI), `{a,b}` (comma-separated
//! values), `{?a,b}` and `{&a,b}` (query parameters, possibly absent). Modifiers (`{var*}`,
//! `{var:3}`) are accepted and ignored; the other operators (`/ . ; = , ! @ |`) are refused.
//! Matching tries the shortest value first for each expression in turn. Values are
//! percent-decoded.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
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

/// Why a template does not parse; its `Display` says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `}` with no `{` before it.
    UnopenedBrace,
    /// A `{` with no `}` after it.
    UnclosedBrace,
    /// An expression whose operator is outside the supported subset (`{/path}`, `{;x}`, ...).
    UnsupportedOperator {
        /// The expression, without its braces.
        expression: String,
        /// The operator character.
        operator: char,
    },
    /// A variable name that is empty, starts with `.`, or has characters other than letters,
    /// digits, `_`, `.` and `%`.
    InvalidName {
        /// The expression, without its braces.
        expression: String,
        /// The name as written, modifiers removed.
        name: String,
    },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnopenedBrace => f.write_str("a `}` without its `{`"),
            Self::UnclosedBrace => f.write_str("a `{` without its `}`"),
            Self::UnsupportedOperator {
                expression,
                operator,
            } => write!(
                f,
                "the `{operator}` operator in `{{{expression}}}` is not supported: only {{var}}, \
                 {{+var}}, {{#var}}, {{?var}} and {{&var}} expressions are supported"
            ),
            Self::InvalidName { expression, name } => write!(
                f,
                "`{{{expression}}}` has an invalid variable name {name:?}: use letters, digits \
                 and `_`"
            ),
        }
    }
}

impl core::error::Error for TemplateError {}

impl UriTemplate {
    /// Parses a template.
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(TemplateError::UnopenedBrace);
            }
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err(TemplateError::UnclosedBrace);
            };
            parts.push(expression(&rest[open + 1..open + close])?);
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// The variables' names, in the template's order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.expressions()
            .flat_map(|(_, names)| names)
            .map(String::as_str)
    }

    /// Whether `uri` is an expansion of the template.
    pub fn matches(&self, uri: &str) -> bool {
        split(&self.parts, uri, &mut Vec::new())
    }

    /// The variables' values if `uri` matches the template, percent-decoded, in the order of
    /// the template's expressions. Absent query parameters are left out, and each name appears
    /// once: a name used by two expressions takes the first one's value, a query parameter
    /// given twice its last value.
    pub fn match_uri(&self, uri: &str) -> Option<Vec<(String, String)>> {
        let mut values = Vec::new();
        if !split(&self.parts, uri, &mut values) {
            return None;
        }
        let mut variables: Vec<(String, String)> = Vec::new();
        for ((operator, names), value) in self.expressions().zip(values) {
            for (name, value) in assign(operator, names, value) {
                if !variables.iter().any(|(known, _)| *known == name) {
                    variables.push((name, value));
                }
            }
        }
        Some(variables)
    }

    fn expressions(&self) -> impl Iterator<Item = (Operator, &[String])> {
        self.parts.iter().filter_map(|part| match part {
            Part::Expression { operator, names } => Some((*operator, names.as_slice())),
            Part::Literal(_) => None,
        })
    }
}

/// One `{...}` expression (without the braces).
fn expression(text: &str) -> Result<Part, TemplateError> {
    let (operator, list) = match text.chars().next() {
        Some('+' | '#') => (Operator::Reserved, &text[1..]),
        Some(c @ ('?' | '&')) => (Operator::Query(c), &text[1..]),
        Some(c @ ('/' | '.' | ';' | '=' | ',' | '!' | '@' | '|')) => {
            return Err(TemplateError::UnsupportedOperator {
                expression: text.to_owned(),
                operator: c,
            });
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
        // RFC 6570: a name starts with a letter, digit, `_` or escape, never with a `.`.
        let valid = !name.is_empty()
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'%'));
        if !valid {
            return Err(TemplateError::InvalidName {
                expression: text.to_owned(),
                name: name.to_owned(),
            });
        }
        names.push(name.to_owned());
    }
    Ok(Part::Expression { operator, names })
}

/// Whether `uri` matches `parts`; pushes each expression's raw value onto `values`, in order.
fn split<'u>(parts: &[Part], uri: &'u str, values: &mut Vec<&'u str>) -> bool {
    let Some((part, rest)) = parts.split_first() else {
        return uri.is_empty();
    };
    let operator = match part {
        Part::Literal(literal) => {
            return uri
                .strip_prefix(literal.as_str())
                .is_some_and(|uri| split(rest, uri, values));
        }
        Part::Expression { operator, .. } => *operator,
    };
    let min = if let Operator::Query(_) = operator {
        0
    } else {
        1
    };
    // Every split point, shortest value first.
    let ends = uri.char_indices().map(|(i, _)| i).chain([uri.len()]);
    for end in ends.filter(|&end| end >= min) {
        let value = &uri[..end];
        match operator {
            Operator::Simple if value.contains('/') => return false,
            Operator::Query(c) if !value.is_empty() && !value.starts_with(c) => return false,
            _ => {}
        }
        values.push(value);
        if split(rest, &uri[end..], values) {
            return true;
        }
        values.pop();
    }
    false
}

/// One expression's variables from its raw value; a name given twice keeps its last value.
fn assign(operator: Operator, names: &[String], value: &str) -> Vec<(String, String)> {
    let mut variables: Vec<(String, String)> = Vec::new();
    let mut set = |name: String, value: String| match variables
        .iter_mut()
        .find(|(known, _)| *known == name)
    {
        Some(slot) => slot.1 = value,
        None => variables.push((name, value)),
    };
    match operator {
        Operator::Query(c) => {
            let query = value.strip_prefix(c).unwrap_or(value);
            for pair in query.split('&').filter(|pair| !pair.is_empty()) {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let key = decode(key);
                if names.contains(&key) {
                    set(key, decode(value));
                }
            }
        }
        Operator::Simple | Operator::Reserved => {
            let value = value.strip_prefix('#').unwrap_or(value);
            let pieces = value.splitn(names.len(), ',');
            for (name, piece) in names.iter().zip(pieces) {
                set(name.clone(), decode(piece));
            }
        }
    }
    variables
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
mod tests;
