//! Authentication tests: what a client with a missing, wrong or right credential gets.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::jwt::sign;
use super::*;

pub(super) const SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";
/// A fixed "now" for JWT checks: 2023-11-14T22:13:20Z.
pub(super) const NOW: u64 = 1_700_000_000;

pub(super) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

pub(super) fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

pub(super) fn bearer(token: &str) -> HeaderMap {
    headers(&[("authorization", &format!("Bearer {token}"))])
}

pub(super) fn single_key(key: &str) -> AuthConfig {
    AuthConfig::from_sources(AuthSources {
        api_key: Some(key.into()),
        ..Default::default()
    })
    .unwrap()
}

pub(super) fn jwt_config(issuer: Option<&str>, audience: Option<&str>) -> AuthConfig {
    AuthConfig::from_sources(AuthSources {
        jwt_secret: Some(SECRET.into()),
        jwt_issuer: issuer.map(Into::into),
        jwt_audience: audience.map(Into::into),
        ..Default::default()
    })
    .unwrap()
}

pub(super) fn token(claims: Value) -> String {
    sign(
        SECRET.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
    )
}

pub(super) fn check(config: &AuthConfig, h: &HeaderMap) -> Result<Option<Caller>, AuthError> {
    config.authenticate_at(h, now())
}

pub(super) fn caller(id: &str, scopes: &[&str]) -> Option<Caller> {
    Some(Caller {
        id: id.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    })
}

fn keys_file(text: &str) -> (tempfile::NamedTempFile, Result<AuthConfig, AuthConfigError>) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    let r = AuthConfig::from_sources(AuthSources {
        api_keys_file: Some(f.path().to_owned()),
        ..Default::default()
    });
    (f, r)
}

#[test]
fn disabled_lets_everyone_in_anonymously() {
    let config = AuthConfig::from_sources(AuthSources::default()).unwrap();
    assert!(!config.is_enabled());
    assert_eq!(check(&config, &headers(&[])), Ok(None));
    assert_eq!(check(&config, &bearer("anything")), Ok(None));
}

#[test]
fn api_key_in_either_header() {
    let config = single_key("s3cret-key");
    assert!(config.is_enabled());
    let me = caller("key:api-key", &[]);
    assert_eq!(
        check(&config, &headers(&[("x-api-key", "s3cret-key")])),
        Ok(me.clone())
    );
    assert_eq!(check(&config, &bearer("s3cret-key")), Ok(me.clone()));
    assert_eq!(
        check(
            &config,
            &headers(&[("authorization", "bearer   s3cret-key ")])
        ),
        Ok(me.clone())
    );
    // x-api-key wins over a platform's own Authorization header.
    let both = headers(&[
        ("x-api-key", "s3cret-key"),
        ("authorization", "Bearer platform-token"),
    ]);
    assert_eq!(check(&config, &both), Ok(me));
}

#[test]
fn no_key_and_wrong_key_are_refused() {
    let config = single_key("s3cret-key");
    assert_eq!(check(&config, &headers(&[])), Err(AuthError::Missing));
    assert_eq!(
        check(
            &config,
            &headers(&[("authorization", "Basic dXNlcjpwYXNz")])
        ),
        Err(AuthError::Missing)
    );
    assert_eq!(check(&config, &bearer("")), Err(AuthError::Missing));
    for wrong in ["s3cret-kez", "s3cret-key2", "s3cret", "S3CRET-KEY"] {
        assert_eq!(
            check(&config, &headers(&[("x-api-key", wrong)])),
            Err(AuthError::UnknownKey),
            "{wrong}"
        );
        assert_eq!(check(&config, &bearer(wrong)), Err(AuthError::UnknownKey));
    }
}

#[test]
fn unusable_single_keys_are_refused_without_echoing_them() {
    for bad in ["", "   ", "has space", "tab\tkey", "naïve"] {
        let err = AuthConfig::from_sources(AuthSources {
            api_key: Some(bad.into()),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("--api-key"), "{err}");
        if !bad.trim().is_empty() {
            assert!(!err.contains(bad), "{err}");
        }
    }
}

#[test]
fn keys_file_with_ids_scopes_and_comments() {
    let (_f, r) = keys_file(
        "# team keys\n\
         \n\
         alice : alice-key-1\n\
         alice:alice-key-2\n\
         ci:ci-key:tools:read, tools:write ,tools:read\n\
         bob:bob-key:\r\n",
    );
    let config = r.unwrap();
    assert_eq!(
        check(&config, &headers(&[("x-api-key", "alice-key-1")])),
        Ok(caller("key:alice", &[]))
    );
    assert_eq!(
        check(&config, &bearer("alice-key-2")),
        Ok(caller("key:alice", &[]))
    );
    assert_eq!(
        check(&config, &bearer("ci-key")),
        Ok(caller("key:ci", &["tools:read", "tools:write"]))
    );
    assert_eq!(
        check(&config, &bearer("bob-key")),
        Ok(caller("key:bob", &[]))
    );
    assert_eq!(
        check(&config, &bearer("carol-key")),
        Err(AuthError::UnknownKey)
    );
    assert_eq!(
        config.describe(),
        "4 API key(s) (ids: key:alice, key:ci, key:bob)"
    );
}

#[test]
fn keys_file_errors_name_the_file_and_line_but_never_the_key() {
    // Only the text after the `path:line: ` prefix is searched, and every secret has a `-`, `_`
    // or space, which a random temp name (`.tmp` + alphanumerics) never has: a path cannot fake
    // a leak (issue 19).
    let secrets = [
        "first_key-1",
        "orphan-key",
        "two words",
        "same-key",
        "scoped_key-6",
    ];
    let cases = [
        ("a:first_key-1\n\nno-colon-here\n", 3, "no `:`"),
        ("# c\n:orphan-key\n", 2, "the id is empty"),
        ("a:\n", 1, "the key is empty"),
        ("a:two words\n", 1, "spaces"),
        ("a:same-key\nb:other\nc:same-key\n", 3, "already on line 1"),
        ("a:scoped_key-6:bad\"scope\n", 1, "scope"),
    ];
    for (text, line, reason) in cases {
        let (f, r) = keys_file(text);
        let err = r.unwrap_err();
        let msg = err.to_string();
        let want = format!("{}:{line}: ", f.path().display());
        let Some(rest) = msg.strip_prefix(&want) else {
            panic!("{msg} (wanted it to start with {want})");
        };
        assert!(rest.contains(reason), "{msg}");
        for secret in secrets {
            assert!(!rest.contains(secret), "{msg} leaks {secret}");
        }
    }
    let (f, r) = keys_file("# nothing but comments\n\n");
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("has no keys") && msg.contains(&f.path().display().to_string()));
    let missing = AuthConfig::from_sources(AuthSources {
        api_keys_file: Some("/nonexistent/keys.txt".into()),
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(missing.starts_with("cannot read the API keys file /nonexistent/keys.txt"));
}

#[test]
fn single_key_and_file_combine() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(f, "alice:alice-key").unwrap();
    let config = AuthConfig::from_sources(AuthSources {
        api_key: Some("solo-key".into()),
        api_keys_file: Some(f.path().to_owned()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        check(&config, &bearer("solo-key")),
        Ok(caller("key:api-key", &[]))
    );
    assert_eq!(
        check(&config, &bearer("alice-key")),
        Ok(caller("key:alice", &[]))
    );
}

#[test]
fn key_ids_and_jwt_subjects_are_separate_name_spaces() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(f, "alice:alice-key").unwrap();
    let config = AuthConfig::from_sources(AuthSources {
        api_keys_file: Some(f.path().to_owned()),
        jwt_secret: Some(SECRET.into()),
        ..Default::default()
    })
    .unwrap();
    let by_key = check(&config, &bearer("alice-key"));
    let by_jwt = check(
        &config,
        &bearer(&token(json!({"sub": "alice", "exp": NOW + 60}))),
    );
    assert_eq!(by_key, Ok(caller("key:alice", &[])));
    assert_eq!(by_jwt, Ok(caller("jwt:alice", &[])));
    // A subject that spells a key caller is still a JWT caller.
    let spoof = token(json!({"sub": "key:alice", "exp": NOW + 60}));
    assert_eq!(
        check(&config, &bearer(&spoof)),
        Ok(caller("jwt:key:alice", &[]))
    );
}

#[test]
fn debug_redacts_secrets() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(f, "alice:alice-file-key:read").unwrap();
    let sources = AuthSources {
        api_key: Some("the-single-key".into()),
        api_keys_file: Some(f.path().to_owned()),
        jwt_secret: Some(SECRET.into()),
        jwt_issuer: Some("issuer".into()),
        ..Default::default()
    };
    let sources_dbg = format!("{sources:?}");
    let config = AuthConfig::from_sources(sources).unwrap();
    let dbg = format!("{config:?} {config:#?}");
    for text in [&sources_dbg, &dbg] {
        for secret in [
            "the-single-key",
            "alice-file-key",
            SECRET,
            "0123456789abcdef",
        ] {
            assert!(!text.contains(secret), "{text} leaks {secret}");
        }
        assert!(text.contains("<redacted"), "{text}");
    }
    assert!(
        dbg.contains("alice")
            && dbg.contains("issuer")
            && dbg.contains(&format!("{} bytes", SECRET.len())),
        "{dbg}"
    );
}

#[tokio::test]
async fn errors_are_401_with_a_bearer_challenge_and_a_json_rpc_body() {
    for (err, challenge, message) in [
        (
            AuthError::Missing,
            r#"Bearer realm="fastmcp""#,
            "Unauthorized: authentication required",
        ),
        (
            AuthError::Expired,
            r#"Bearer realm="fastmcp", error="invalid_token""#,
            "Unauthorized: invalid or expired credentials",
        ),
        (
            AuthError::UnknownKey,
            r#"Bearer realm="fastmcp", error="invalid_token""#,
            "Unauthorized: invalid or expired credentials",
        ),
    ] {
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], challenge);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": message}})
        );
    }
}

/// Serves `app` on an ephemeral loopback port; returns its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_middleware_refuses_or_hands_the_caller_to_the_route() {
    use axum::extract::Extension;
    use axum::routing::post;
    use std::sync::Arc;

    async fn whoami(caller: Option<Extension<Caller>>) -> String {
        caller.map_or("anonymous".into(), |Extension(c)| c.id)
    }
    let app = |auth: AuthConfig| {
        axum::Router::new().route(
            "/mcp",
            post(whoami).route_layer(axum::middleware::from_fn_with_state(
                Arc::new(auth),
                require_auth,
            )),
        )
    };
    let client = reqwest::Client::new();
    let open = serve(app(AuthConfig::default())).await;
    let r = client.post(format!("{open}/mcp")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "anonymous");

    let base = serve(app(single_key("s3cret-key"))).await;
    let r = client.post(format!("{base}/mcp")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], r#"Bearer realm="fastmcp""#);
    let r = client
        .post(format!("{base}/mcp"))
        .header("x-api-key", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Unauthorized: invalid or expired credentials"
    );
    let r = client
        .post(format!("{base}/mcp"))
        .bearer_auth("s3cret-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "key:api-key");
}

#[tokio::test]
async fn metrics_behind_auth_only_when_asked() {
    use crate::metrics::{self, Metrics};
    use std::sync::Arc;

    let client = reqwest::Client::new();
    let m = Arc::new(Metrics::new());
    let open = serve(crate::http::metrics_router(m.clone(), None)).await;
    let r = client.get(format!("{open}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], metrics::CONTENT_TYPE);
    assert!(r.text().await.unwrap().contains("fastmcp_build_info"));

    let auth = Arc::new(single_key("scrape-key"));
    let closed = serve(crate::http::metrics_router(m, Some(auth))).await;
    let r = client
        .get(format!("{closed}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .get(format!("{closed}/metrics"))
        .bearer_auth("scrape-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
