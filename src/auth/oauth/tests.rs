//! The OAuth settings (what is required, what the resource URL becomes), how a JWT is routed
//! to its method by `alg`, and the challenges. Tokens from a real provider are tested in
//! tests/auth/oauth.rs.

use axum::http::header;
use serde_json::json;

use super::super::tests::{SECRET, bearer};
use super::super::{AuthConfig, AuthConfigError, AuthError, AuthSources};
use super::{header_alg, metadata_url};

fn sources(pairs: &[(&str, &str)]) -> AuthSources {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    AuthSources {
        jwt_secret: get("jwt_secret"),
        oauth_issuer: get("issuer"),
        jwks_url: get("jwks"),
        oauth_audience: get("audience"),
        public_url: get("public"),
        endpoint: "/mcp".into(),
        ..Default::default()
    }
}

fn oauth(pairs: &[(&str, &str)]) -> Result<AuthConfig, AuthConfigError> {
    AuthConfig::from_sources(sources(pairs))
}

const ISSUER: &str = "https://tenant.example-idp.com/";

#[test]
fn the_resource_is_the_public_url_and_endpoint_unless_an_audience_is_given() {
    let c = oauth(&[("issuer", ISSUER), ("public", "https://mcp.example.com/")]).unwrap();
    let o = c.oauth().unwrap();
    assert!(c.is_enabled());
    assert_eq!(o.issuer(), ISSUER, "kept as given: iss compares exactly");
    assert_eq!(o.resource(), "https://mcp.example.com/mcp");
    assert_eq!(o.audience(), o.resource());
    assert_eq!(
        o.metadata_url(),
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    );
    let c = oauth(&[
        ("issuer", ISSUER),
        ("public", "https://mcp.example.com"),
        ("audience", "api://fastmcp"),
    ])
    .unwrap();
    let o = c.oauth().unwrap();
    assert_eq!(o.audience(), "api://fastmcp", "Entra ID's form is accepted");
    assert_eq!(o.resource(), "https://mcp.example.com/mcp");
}

#[test]
fn missing_or_bad_oauth_settings_name_the_flag() {
    let err = |pairs: &[(&str, &str)]| oauth(pairs).unwrap_err().to_string();
    let e = err(&[("issuer", ISSUER)]);
    assert!(e.contains("--oauth-issuer needs --public-url"), "{e}");
    let e = err(&[("jwks", "https://idp/jwks")]);
    assert!(e.starts_with("--jwks-url needs --oauth-issuer"), "{e}");
    let e = err(&[("audience", "https://mcp/mcp")]);
    assert!(
        e.starts_with("--oauth-audience needs --oauth-issuer"),
        "{e}"
    );
    let e = err(&[("issuer", "not a url"), ("public", "https://mcp")]);
    assert!(e.starts_with("--oauth-issuer is not a URL"), "{e}");
    let e = err(&[("issuer", "ftp://idp"), ("public", "https://mcp")]);
    assert!(
        e.starts_with("--oauth-issuer must be an http:// or https://"),
        "{e}"
    );
    let e = err(&[("issuer", ISSUER), ("public", "https://mcp/#x")]);
    assert!(
        e.starts_with("--public-url must not have a query or fragment"),
        "{e}"
    );
    // A public URL alone turns nothing on.
    let c = oauth(&[("public", "https://mcp.example.com")]).unwrap();
    assert!(!c.is_enabled() && c.oauth().is_none());
}

#[test]
fn the_metadata_url_puts_the_well_known_segment_before_the_path() {
    assert_eq!(
        metadata_url("https://a.example/"),
        "https://a.example/.well-known/oauth-protected-resource"
    );
    assert_eq!(
        metadata_url("https://a.example:8443/tenant/mcp"),
        "https://a.example:8443/.well-known/oauth-protected-resource/tenant/mcp"
    );
}

#[test]
fn the_header_alg_routes_a_jwt_and_a_huge_header_is_unreadable() {
    use base64::Engine;
    let enc = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let t = format!("{}.e30.sig", enc(json!({"alg": "RS256", "kid": "k"})));
    assert_eq!(header_alg(&t).as_deref(), Some("RS256"));
    let huge = format!(
        "{}.e30.sig",
        enc(json!({"alg": "RS256", "x": "y".repeat(2000)}))
    );
    assert_eq!(header_alg(&huge), None);
}

#[test]
fn an_hmac_token_never_reaches_the_issuer_keys() {
    // OAuth only: an HS256 token (even one a real secret signed) has nothing to verify it.
    let c = oauth(&[("issuer", ISSUER), ("public", "https://mcp.example.com")]).unwrap();
    let claims = json!({"sub": "s", "exp": 4_000_000_000u64});
    let hs = super::super::jwt::sign(SECRET.as_bytes(), &json!({"alg": "HS256"}), &claims);
    assert_eq!(
        c.authenticate_at(&bearer(&hs), super::super::tests::now()),
        Err(AuthError::Algorithm)
    );
    // With both: HS256 goes to the secret, and verifies.
    let c = oauth(&[
        ("issuer", ISSUER),
        ("public", "https://mcp.example.com"),
        ("jwt_secret", SECRET),
    ])
    .unwrap();
    let caller = c
        .authenticate_at(&bearer(&hs), super::super::tests::now())
        .unwrap()
        .unwrap();
    assert_eq!(caller.id, "jwt:s");
}

#[test]
fn challenges_name_the_metadata() {
    let c = oauth(&[("issuer", ISSUER), ("public", "https://mcp.example.com")]).unwrap();
    let r = c.refuse(AuthError::Expired);
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()[header::WWW_AUTHENTICATE],
        r#"Bearer realm="fastmcp", error="invalid_token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#
    );
    let v = c.scope_challenge(&["admin".into(), "bad\"scope".into(), "read".into()]);
    assert_eq!(
        v,
        r#"Bearer realm="fastmcp", error="insufficient_scope", scope="admin read", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#
    );
    // Without OAuth the challenges stay as they were.
    let plain = AuthConfig::default();
    let r = plain.refuse(AuthError::Missing);
    assert_eq!(
        r.headers()[header::WWW_AUTHENTICATE],
        r#"Bearer realm="fastmcp""#
    );
}
