//! Request checks in front of the MCP endpoint: Host and Origin (DNS-rebinding protection),
//! `Accept`, `Content-Type` and the protocol version header.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

use super::error::HttpError;

/// Which `Host` and `Origin` values the MCP endpoint accepts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Security {
    /// Extra host names allowed besides the loopback names; `*` allows any.
    pub(crate) allowed_hosts: Vec<String>,
    /// Extra origins allowed besides loopback origins; `*` allows any.
    pub(crate) allowed_origins: Vec<String>,
}

const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The host part of a `Host` header value, without port, IPv6 brackets or a trailing dot.
/// Compare it with `eq_ignore_ascii_case`: host names are case-insensitive.
fn host_part(value: &str) -> &str {
    let v = value.trim();
    let host = if let Some(rest) = v.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        match v.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => v,
        }
    };
    host.trim_end_matches('.')
}

/// The host part of a `Host` header value, lowercased, without port or IPv6 brackets.
pub(crate) fn host_name(value: &str) -> String {
    host_part(value).to_ascii_lowercase()
}

fn is_loopback(host: &str) -> bool {
    LOOPBACK.iter().any(|l| l.eq_ignore_ascii_case(host))
}

impl Security {
    /// Checks `Host` and `Origin`: 400 when either is sent twice, 403 when either is not
    /// allowed.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), HttpError> {
        // Runs on every request: compares in place, allocates only to explain a refusal.
        let host = single(headers, header::HOST)?;
        let raw = host.and_then(|v| v.to_str().ok());
        let host_ok = raw.is_some_and(|raw| {
            let h = host_part(raw);
            is_loopback(h)
                // An entry matches the name alone, or the exact `name:port`.
                || self.allowed_hosts.iter().any(|a| {
                    a == "*" || a.eq_ignore_ascii_case(h) || a.eq_ignore_ascii_case(raw.trim())
                })
        });
        if !host_ok {
            return Err(HttpError::forbidden(format!(
                "Forbidden: Host {} is not allowed (see --allowed-hosts)",
                raw.map_or("(missing)".to_string(), |h| format!("{:?}", host_name(h)))
            )));
        }
        if let Some(origin) = single(headers, header::ORIGIN)? {
            let origin = origin
                .to_str()
                .unwrap_or("")
                .trim()
                .trim_end_matches('/')
                .to_ascii_lowercase();
            if !self.origin_allowed(&origin) {
                return Err(HttpError::forbidden(format!(
                    "Forbidden: Origin {origin:?} is not allowed (see --allowed-origins)"
                )));
            }
        }
        Ok(())
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        if self.allowed_origins.iter().any(|a| a == "*" || a == origin) {
            return true;
        }
        let Some((scheme, rest)) = origin.split_once("://") else {
            return false;
        };
        (scheme == "http" || scheme == "https") && is_loopback(host_part(rest))
    }
}

/// The one value of `name`, if any. A second one is 400: RFC 9112 §3.2 requires it for `Host`,
/// and two `Origin`s (one allowed, one not) would leave the check to whichever comes first.
fn single(
    headers: &HeaderMap,
    name: header::HeaderName,
) -> Result<Option<&HeaderValue>, HttpError> {
    let mut values = headers.get_all(&name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            format!("Bad Request: more than one {name} header"),
        ));
    }
    Ok(first)
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Which of JSON and SSE an `Accept` value covers (wildcards count; media types are
/// case-insensitive). One byte-wise pass: this runs on every POST.
fn accepted(accept: &str) -> (bool, bool) {
    // What the SDK clients send, taken without parsing.
    if accept == "application/json, text/event-stream" {
        return (true, true);
    }
    let (mut json, mut sse) = (false, false);
    for item in accept.as_bytes().split(|&b| b == b',') {
        let m = item
            .split(|&b| b == b';')
            .next()
            .unwrap_or(item)
            .trim_ascii();
        if m == b"*/*" {
            return (true, true);
        }
        json = json
            || m.eq_ignore_ascii_case(b"application/json")
            || m.eq_ignore_ascii_case(b"application/*");
        sse = sse
            || m.eq_ignore_ascii_case(b"text/event-stream")
            || m.eq_ignore_ascii_case(b"text/*");
    }
    (json, sse)
}

/// POST needs `Accept` covering both JSON and SSE (406) and a JSON body (415).
pub(crate) fn check_post(headers: &HeaderMap) -> Result<(), HttpError> {
    if accepted(header_str(headers, header::ACCEPT)) != (true, true) {
        return Err(HttpError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: the client must accept both application/json and text/event-stream",
        ));
    }
    let ctype = header_str(headers, header::CONTENT_TYPE);
    let mime = ctype.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(HttpError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: Content-Type must be application/json",
        ));
    }
    Ok(())
}

/// GET needs `Accept` covering SSE (406).
pub(crate) fn check_get(headers: &HeaderMap) -> Result<(), HttpError> {
    if !accepted(header_str(headers, header::ACCEPT)).1 {
        return Err(HttpError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: the client must accept text/event-stream",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn host_names() {
        assert_eq!(host_name("localhost:8080"), "localhost");
        assert_eq!(host_name("[::1]:80"), "::1");
        assert_eq!(host_name("Example.COM"), "example.com");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn host_and_origin_checks() {
        let s = Security::default();
        assert!(s.check(&headers(&[("host", "127.0.0.1:9")])).is_ok());
        assert!(s.check(&headers(&[("host", "LocalHost.:80")])).is_ok());
        assert!(s.check(&headers(&[("host", "[::1]:8080")])).is_ok());
        assert!(
            s.check(&headers(&[("host", "localhost.evil.com")]))
                .is_err()
        );
        assert!(s.check(&headers(&[("host", "evil.example.com")])).is_err());
        assert!(s.check(&headers(&[])).is_err());
        assert!(
            s.check(&headers(&[
                ("host", "localhost"),
                ("origin", "http://localhost:3000")
            ]))
            .is_ok()
        );
        assert!(
            s.check(&headers(&[
                ("host", "localhost"),
                ("origin", "https://evil.com")
            ]))
            .is_err()
        );
        assert!(
            s.check(&headers(&[("host", "localhost"), ("origin", "null")]))
                .is_err()
        );
        let open = Security {
            allowed_hosts: vec!["api.example.com".into()],
            allowed_origins: vec!["https://app.example.com".into()],
        };
        assert!(
            open.check(&headers(&[
                ("host", "api.example.com:443"),
                ("origin", "https://app.example.com")
            ]))
            .is_ok()
        );
        let any = Security {
            allowed_hosts: vec!["*".into()],
            allowed_origins: vec![],
        };
        assert!(any.check(&headers(&[("host", "whatever")])).is_ok());
    }

    #[test]
    fn a_second_host_or_origin_is_400() {
        let s = Security::default();
        let mut h = headers(&[("host", "localhost")]);
        h.append(header::HOST, HeaderValue::from_static("evil.com"));
        let e = s.check(&h).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("host"), "{}", e.message);
        let mut h = headers(&[("host", "localhost"), ("origin", "http://localhost")]);
        h.append(header::ORIGIN, HeaderValue::from_static("http://evil.com"));
        assert_eq!(s.check(&h).unwrap_err().status, StatusCode::BAD_REQUEST);
        // Two equal values are still two.
        let mut h = headers(&[("host", "localhost"), ("origin", "http://localhost")]);
        h.append(header::ORIGIN, HeaderValue::from_static("http://localhost"));
        assert_eq!(s.check(&h).unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn allowed_hosts_may_name_a_port() {
        let s = Security {
            allowed_hosts: vec!["b.com:8080".into()],
            allowed_origins: vec![],
        };
        assert!(s.check(&headers(&[("host", "b.com:8080")])).is_ok());
        assert!(s.check(&headers(&[("host", "b.com:9090")])).is_err());
        assert!(s.check(&headers(&[("host", "b.com")])).is_err());
    }

    #[test]
    fn accept_and_content_type() {
        assert!(
            check_post(&headers(&[
                ("accept", "application/json, text/event-stream"),
                ("content-type", "application/json")
            ]))
            .is_ok()
        );
        assert!(
            check_post(&headers(&[
                ("accept", "Application/JSON;q=0.9, TEXT/*"),
                ("content-type", "APPLICATION/json")
            ]))
            .is_ok()
        );
        assert!(
            check_post(&headers(&[
                ("accept", "application/*, text/plain"),
                ("content-type", "application/json")
            ]))
            .is_err()
        );
        assert!(
            check_post(&headers(&[
                ("accept", "*/*"),
                ("content-type", "application/json; charset=utf-8")
            ]))
            .is_ok()
        );
        let e = check_post(&headers(&[
            ("accept", "application/json"),
            ("content-type", "application/json"),
        ]))
        .unwrap_err();
        assert_eq!(e.status, StatusCode::NOT_ACCEPTABLE);
        let e = check_post(&headers(&[
            ("accept", "application/json, text/event-stream"),
            ("content-type", "text/plain"),
        ]))
        .unwrap_err();
        assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(check_get(&headers(&[("accept", "text/event-stream")])).is_ok());
        assert!(check_get(&headers(&[("accept", "application/json")])).is_err());
    }
}
