//! Matching URIs against RFC 6570 URI templates (the simple `{var}` expressions MCP uses).

/// Whether `uri` is an expansion of `template`: literal parts match exactly and each `{var}`
/// matches one or more characters other than `/` (`{+var}` and `{#var}` may contain `/`).
pub fn matches(template: &str, uri: &str) -> bool {
    match_from(template, uri)
}

fn match_from(template: &str, uri: &str) -> bool {
    let Some(open) = template.find('{') else {
        return template == uri;
    };
    let (literal, rest) = template.split_at(open);
    let Some(uri) = uri.strip_prefix(literal) else {
        return false;
    };
    let Some(close) = rest.find('}') else {
        return false;
    };
    let expr = &rest[1..close];
    let after = &rest[close + 1..];
    let reserved = expr.starts_with('+') || expr.starts_with('#');
    // Try every split point for the variable's value, shortest first.
    for (i, c) in uri.char_indices() {
        if !reserved && c == '/' {
            break;
        }
        let end = i + c.len_utf8();
        if match_from(after, &uri[end..]) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn matches_simple_templates() {
        assert!(matches(
            "test://template/{id}/data",
            "test://template/123/data"
        ));
        assert!(!matches(
            "test://template/{id}/data",
            "test://template//data"
        ));
        assert!(!matches(
            "test://template/{id}/data",
            "test://template/1/2/data"
        ));
        assert!(matches("file:///{+path}", "file:///a/b/c.txt"));
        assert!(matches("x://{a}-{b}", "x://1-2"));
        assert!(!matches("x://{a}", "y://1"));
        assert!(matches("static://no-vars", "static://no-vars"));
    }
}
