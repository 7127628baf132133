//! Which resource template serves a URI: RFC 6570 matching by `fastmcp_abi::uri_template`, the
//! code the SDK extracts the variables with, so the host never sends a plugin a URI its
//! template then refuses (`docs/plugin-authoring.md`, "Resources").

use fastmcp_abi::uri_template::UriTemplate;

/// Whether `uri` is an expansion of `template`: literal parts match exactly, each `{var}`
/// matches one or more characters other than `/` (`{+var}` and `{#var}` may contain `/`), and
/// `{?var}` / `{&var}` match query parameters that may be absent. A template that does not
/// parse (plugins built with the SDK cannot have one) matches nothing.
pub(crate) fn matches(template: &str, uri: &str) -> bool {
    UriTemplate::parse(template).is_ok_and(|template| template.matches(uri))
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

    /// Before the host matched with the SDK's code it read `{?q}` like `{q}`, so a URI without
    /// the optional parameters (or with a `/` in one) found no template and got "Resource not
    /// found" although the plugin serves it.
    #[test]
    fn query_parameters_may_be_absent() {
        assert!(matches("search://items{?q,limit}", "search://items"));
        assert!(matches("search://items{?q,limit}", "search://items?q=a/b"));
        assert!(matches("project:///{+path}{?version}", "project:///a"));
        assert!(!matches("search://items{?q}", "search://itemsX"));
    }

    /// A template the SDK would refuse (from a plugin written without it) serves no URI.
    #[test]
    fn malformed_templates_match_nothing() {
        assert!(!matches("x://{/path}", "x://a"));
        assert!(!matches("x://{id", "x://{id"));
        assert!(!matches("x://id}", "x://id}"));
        assert!(!matches("x://{}", "x://1"));
    }
}
