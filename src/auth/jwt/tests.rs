//! JWT tests: what a client with a good, expired, forged or misaddressed token gets.

use serde_json::{Value, json};

use super::super::tests::{NOW, SECRET, bearer, caller, check, headers, jwt_config, token};
use super::sign;
use crate::auth::*;

#[test]
fn a_good_jwt_gives_sub_and_scopes() {
    let config = jwt_config(None, None);
    let t = token(json!({"sub": "user-123", "exp": NOW + 60, "scope": "read write read"}));
    assert_eq!(
        check(&config, &bearer(&t)),
        Ok(caller("jwt:user-123", &["read", "write"]))
    );
    let t = token(json!({"sub": "u", "exp": NOW + 60, "nbf": NOW - 5, "scopes": ["a", "b"]}));
    assert_eq!(
        check(&config, &bearer(&t)),
        Ok(caller("jwt:u", &["a", "b"]))
    );
    let t = token(json!({"sub": "u", "exp": (NOW + 60) as f64 + 0.5, "scp": "x"}));
    assert_eq!(check(&config, &bearer(&t)), Ok(caller("jwt:u", &["x"])));
    // A JWT in x-api-key is an API key, not a token.
    assert_eq!(
        check(&config, &headers(&[("x-api-key", &t)])),
        Err(AuthError::Malformed)
    );
}

#[test]
fn expired_and_not_yet_valid_jwts_are_refused_with_leeway() {
    let config = jwt_config(None, None);
    let leeway = DEFAULT_LEEWAY.as_secs();
    let at = |claims: Value| check(&config, &bearer(&token(claims)));
    assert_eq!(
        at(json!({"sub": "u", "exp": NOW - leeway - 1})),
        Err(AuthError::Expired)
    );
    assert_eq!(
        at(json!({"sub": "u", "exp": NOW - leeway})),
        Err(AuthError::Expired)
    );
    assert!(at(json!({"sub": "u", "exp": NOW - leeway + 5})).is_ok());
    assert_eq!(
        at(json!({"sub": "u", "exp": NOW + 600, "nbf": NOW + leeway + 10})),
        Err(AuthError::NotYetValid)
    );
    assert!(at(json!({"sub": "u", "exp": NOW + 600, "nbf": NOW + leeway - 5})).is_ok());
    assert_eq!(at(json!({"sub": "u"})), Err(AuthError::MissingClaim("exp")));
    assert_eq!(
        at(json!({"exp": NOW + 60})),
        Err(AuthError::MissingClaim("sub"))
    );
    assert_eq!(
        at(json!({"sub": "", "exp": NOW + 60})),
        Err(AuthError::MissingClaim("sub"))
    );
    assert_eq!(
        at(json!({"sub": "u", "exp": "tomorrow"})),
        Err(AuthError::Malformed)
    );
}

#[test]
fn forged_and_malformed_jwts_are_refused() {
    let config = jwt_config(None, None);
    let claims = json!({"sub": "admin", "exp": NOW + 60});
    let at = |t: &str| check(&config, &bearer(t));
    // Wrong secret.
    let forged = sign(
        b"another-secret-that-is-long-enough-000",
        &json!({"alg": "HS256"}),
        &claims,
    );
    assert_eq!(at(&forged), Err(AuthError::Signature));
    // Payload swapped after signing.
    let good = token(claims.clone());
    let parts: Vec<&str> = good.split('.').collect();
    let other = token(json!({"sub": "root", "exp": NOW + 60}));
    let other_payload = other.split('.').nth(1).unwrap();
    assert_eq!(
        at(&format!("{}.{}.{}", parts[0], other_payload, parts[2])),
        Err(AuthError::Signature)
    );
    // alg none, with and without a signature; other algorithms, even with a valid HMAC.
    let none_header = b64(&json!({"alg": "none"}).to_string());
    let payload = b64(&claims.to_string());
    assert_eq!(
        at(&format!("{none_header}.{payload}.")),
        Err(AuthError::Malformed)
    );
    assert_eq!(
        at(&format!("{none_header}.{payload}.c2ln")),
        Err(AuthError::Algorithm)
    );
    for alg in ["none", "None", "HS512", "HS384", "RS256", "ES256", "hs256"] {
        let t = sign(SECRET.as_bytes(), &json!({"alg": alg}), &claims);
        assert_eq!(at(&t), Err(AuthError::Algorithm), "{alg}");
    }
    let t = sign(SECRET.as_bytes(), &json!({"typ": "JWT"}), &claims);
    assert_eq!(at(&t), Err(AuthError::Malformed));
    let t = sign(
        SECRET.as_bytes(),
        &json!({"alg": "HS256", "crit": ["exp"]}),
        &claims,
    );
    assert_eq!(at(&t), Err(AuthError::Malformed));
    // Not base64url / not JSON / padded.
    assert_eq!(at("abc.def.ghi"), Err(AuthError::Malformed));
    assert_eq!(
        at(&format!("{}.{}.{}=", parts[0], parts[1], parts[2])),
        Err(AuthError::Malformed)
    );
    // Not JWT-shaped at all, and no API keys configured.
    assert_eq!(at("plain-token"), Err(AuthError::Malformed));
    let huge = format!("{}.{}.{}", parts[0], "a".repeat(20_000), parts[2]);
    assert_eq!(at(&huge), Err(AuthError::Malformed));
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn issuer_and_audience_checks() {
    let config = jwt_config(Some("https://issuer.example"), Some("fastmcp"));
    let at = |claims: Value| check(&config, &bearer(&token(claims)));
    let base = |extra: Value| {
        let mut c = json!({"sub": "u", "exp": NOW + 60});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    assert!(
        at(base(
            json!({"iss": "https://issuer.example", "aud": "fastmcp"})
        ))
        .is_ok()
    );
    assert!(
        at(base(
            json!({"iss": "https://issuer.example", "aud": ["other", "fastmcp"]})
        ))
        .is_ok()
    );
    assert_eq!(
        at(base(
            json!({"iss": "https://evil.example", "aud": "fastmcp"})
        )),
        Err(AuthError::Issuer)
    );
    assert_eq!(at(base(json!({"aud": "fastmcp"}))), Err(AuthError::Issuer));
    assert_eq!(
        at(base(
            json!({"iss": "https://issuer.example", "aud": ["other"]})
        )),
        Err(AuthError::Audience)
    );
    assert_eq!(
        at(base(json!({"iss": "https://issuer.example"}))),
        Err(AuthError::Audience)
    );
    // Without a configured audience, a token meant for someone else is refused (RFC 7519 §4.1.3).
    let open = jwt_config(None, None);
    let t = token(base(json!({"aud": "someone-else"})));
    assert_eq!(check(&open, &bearer(&t)), Err(AuthError::Audience));
}

#[test]
fn keys_and_jwts_together() {
    let config = AuthConfig::from_sources(AuthSources {
        api_key: Some("plain-key".into()),
        jwt_secret: Some(format!("  {SECRET}\n")),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        check(&config, &bearer("plain-key")),
        Ok(caller("key:api-key", &[]))
    );
    let t = token(json!({"sub": "jwt-user", "exp": NOW + 60}));
    assert_eq!(check(&config, &bearer(&t)), Ok(caller("jwt:jwt-user", &[])));
    assert_eq!(
        check(&config, &bearer("other-key")),
        Err(AuthError::UnknownKey)
    );
    assert_eq!(
        config.describe(),
        "1 API key(s) (ids: key:api-key); JWT HS256"
    );
}

#[test]
fn jwt_settings_are_checked() {
    let with = |secret: Option<&str>, iss: Option<&str>, aud: Option<&str>| {
        AuthConfig::from_sources(AuthSources {
            jwt_secret: secret.map(Into::into),
            jwt_issuer: iss.map(Into::into),
            jwt_audience: aud.map(Into::into),
            ..Default::default()
        })
        .map_err(|e| e.to_string())
    };
    let short = with(Some("your-jwt-secret"), None, None).unwrap_err();
    assert!(
        short.contains("is 15 bytes") && short.contains("at least 32"),
        "{short}"
    );
    assert!(!short.contains("your-jwt-secret"), "{short}");
    let err = with(None, Some("iss"), None).unwrap_err();
    assert!(err.starts_with("--jwt-issuer needs --jwt-secret"), "{err}");
    let err = with(None, None, Some("aud")).unwrap_err();
    assert!(
        err.starts_with("--jwt-audience needs --jwt-secret"),
        "{err}"
    );
    let err = with(Some(SECRET), Some(" "), None).unwrap_err();
    assert_eq!(err, "--jwt-issuer is empty");
    let described = with(Some(SECRET), Some("i"), Some("a")).unwrap().describe();
    assert_eq!(described, r#"JWT HS256, issuer "i", audience "a""#);
}
