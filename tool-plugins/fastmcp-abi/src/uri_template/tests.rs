use super::*;
use alloc::string::ToString;
use alloc::vec;

/// The variables `template` extracts from `uri`, or `None` when it does not match; checks
/// that `matches` agrees.
fn vars(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
    let template = UriTemplate::parse(template).unwrap();
    let variables = template.match_uri(uri);
    assert_eq!(template.matches(uri), variables.is_some(), "{uri}");
    variables
}

fn pairs(expected: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    Some(
        expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn extracts_simple_variables() {
    let template = "test://template/{id}/data";
    assert_eq!(
        vars(template, "test://template/123/data"),
        pairs(&[("id", "123")])
    );
    assert_eq!(vars(template, "test://template//data"), None);
    assert_eq!(vars(template, "test://template/1/2/data"), None);
    assert_eq!(vars(template, "test://template/1/data/x"), None);
    assert_eq!(
        vars("x://{a}-{b}", "x://1-2-3"),
        pairs(&[("a", "1"), ("b", "2-3")])
    );
    assert_eq!(
        vars("x://{a}-{b}", "x://1-2"),
        pairs(&[("a", "1"), ("b", "2")])
    );
    assert_eq!(vars("x://{a}", "y://1"), None);
    assert_eq!(vars("static://no-vars", "static://no-vars"), pairs(&[]));
    assert_eq!(vars("static://no-vars", "static://no-vars/"), None);
    assert_eq!(
        vars("users://{name}", "users://J%C3%BCrgen%20B"),
        pairs(&[("name", "Jürgen B")])
    );
    assert_eq!(vars("x://{a}", "x://100%"), pairs(&[("a", "100%")]));
}

#[test]
fn reserved_lists_and_queries() {
    assert_eq!(
        vars("file:///{+path}", "file:///a/b/c.txt"),
        pairs(&[("path", "a/b/c.txt")])
    );
    assert_eq!(
        vars("x://page{#section}", "x://page#intro"),
        pairs(&[("section", "intro")])
    );
    assert_eq!(
        vars("map://{lat,lon}", "map://52.5,13.4"),
        pairs(&[("lat", "52.5"), ("lon", "13.4")])
    );
    assert_eq!(
        vars(
            "search://items{?q,limit}",
            "search://items?q=a%20b&limit=5&other=1"
        ),
        pairs(&[("q", "a b"), ("limit", "5")])
    );
    assert_eq!(
        vars("search://items{?q,limit}", "search://items"),
        pairs(&[])
    );
    assert_eq!(vars("search://items{?q}", "search://itemsX"), None);
    assert_eq!(
        vars("x://{+path}{?rev}", "x://a/b.txt?rev=3"),
        pairs(&[("path", "a/b.txt"), ("rev", "3")])
    );
    assert_eq!(
        vars("x://{id}{?a}{&b}", "x://1?a=2&b=3"),
        pairs(&[("id", "1"), ("a", "2"), ("b", "3")])
    );
    assert_eq!(
        vars("x://{id}{?v}", "x://7?v=2"),
        pairs(&[("id", "7"), ("v", "2")])
    );
    assert_eq!(
        vars("x://{path*}/{n:3}", "x://a/b"),
        pairs(&[("path", "a"), ("n", "b")])
    );
}

/// Query expressions may be empty and may hold `/`. Before the host and the SDK shared this
/// module, the host's router read `{?q}` like `{q}` (one or more characters, no `/`), so it
/// sent no plugin `search://items` or `x://a?path=b/c`, which the SDK's matcher accepts.
#[test]
fn query_expressions_may_be_empty_or_hold_slashes() {
    assert_eq!(vars("x://a{?q}", "x://a"), pairs(&[]));
    assert_eq!(
        vars("x://a{?path}", "x://a?path=b/c"),
        pairs(&[("path", "b/c")])
    );
    assert_eq!(
        vars("project:///{+path}{?version}", "project:///a"),
        pairs(&[("path", "a")])
    );
}

/// Which value a name gets when it is given more than once.
#[test]
fn a_name_given_twice_keeps_one_value() {
    assert_eq!(vars("x://{a}/{a}", "x://1/2"), pairs(&[("a", "1")]));
    assert_eq!(vars("x://{a,a}", "x://1,2"), pairs(&[("a", "2")]));
    assert_eq!(vars("x://i{?q}", "x://i?q=1&q=2"), pairs(&[("q", "2")]));
    assert_eq!(vars("x://{q}{?q}", "x://1?q=2"), pairs(&[("q", "1")]));
}

#[test]
fn rejects_malformed_templates() {
    let errors = [
        ("x://{id", "a `{` without its `}`"),
        ("x://id}", "a `}` without its `{`"),
        ("x://{}", "invalid variable name \"\""),
        ("x://{a b}", "invalid variable name \"a b\""),
        (
            "x://{/path}",
            "the `/` operator in `{/path}` is not supported: only {var}",
        ),
        ("x://{;a}", "operator"),
        ("x://{++a}", "invalid variable name \"+a\""),
        ("x://{?}", "invalid variable name"),
        ("x://{a,}", "invalid variable name"),
        ("x://{a-b}", "invalid variable name"),
        // The macros refused these before they shared this parser with the SDK, which took
        // them; RFC 6570 names cannot start with `.`.
        ("x://{+.a}", "invalid variable name \".a\""),
        ("x://{&.*:3}", "invalid variable name \".\""),
    ];
    for (template, message) in errors {
        let error = UriTemplate::parse(template).unwrap_err().to_string();
        assert!(error.contains(message), "{template}: {error}");
    }
    let template = UriTemplate::parse("x://{a}/{+b}{?c,d}").unwrap();
    assert_eq!(
        template.variables().collect::<Vec<_>>(),
        vec!["a", "b", "c", "d"]
    );
    assert!(UriTemplate::parse("x://{a.b%20c_1*}{#d:3}{&e}").is_ok());
}
