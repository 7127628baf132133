//! `GET /metrics` as the tests read it: the OpenMetrics samples by series.

use std::collections::HashMap;

use super::{Server, content_type};

/// The content type `/metrics` answers with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The samples of an OpenMetrics text: `name{labels}` (as written) to value.
pub fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// `GET /metrics` (200 with the OpenMetrics content type), as samples and text.
pub fn scrape(server: &Server, headers: &[(&str, &str)]) -> (HashMap<String, f64>, String) {
    let r = server.get_with("/metrics", headers);
    assert_eq!(r.status(), 200);
    assert_eq!(content_type(&r), CONTENT_TYPE);
    let text = r.text().unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    (samples(&text), text)
}
