//! Key set parsing, metadata URLs and key selection; fetching is tested against a real
//! provider in tests/auth/oauth.

use super::*;

const RSA_N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

#[test]
fn metadata_urls_follow_both_specifications() {
    assert_eq!(
        metadata_urls("https://idp.example.com/"),
        [
            "https://idp.example.com/.well-known/oauth-authorization-server",
            "https://idp.example.com/.well-known/openid-configuration"
        ]
    );
    assert_eq!(
        metadata_urls("https://idp.example.com/realms/mcp"),
        [
            "https://idp.example.com/.well-known/oauth-authorization-server/realms/mcp",
            "https://idp.example.com/realms/mcp/.well-known/openid-configuration"
        ]
    );
}

#[test]
fn a_key_set_keeps_only_public_signing_keys() {
    let body = serde_json::json!({"keys": [
        {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", "kid": "hmac"},
        {"kty": "RSA", "n": RSA_N, "e": "AQAB", "kid": "enc", "use": "enc"},
        {"kty": "RSA", "n": RSA_N, "e": "AQAB", "kid": "wrong-alg", "alg": "ES256"},
        {"kty": "weird", "kid": "weird"},
        {"kty": "RSA", "n": RSA_N, "e": "AQAB", "kid": "good", "alg": "RS256", "use": "sig"},
    ]});
    let keys = parse_jwks("u", body.to_string().as_bytes()).expect("one usable key");
    let kids: Vec<_> = keys.iter().map(|k| k.kid.as_deref()).collect();
    assert_eq!(kids, [Some("good")]);
    assert_eq!(keys[0].alg, Some(Algorithm::RS256));
}

#[test]
fn bad_key_sets_are_clear_errors() {
    let err = parse_jwks("http://idp/jwks", b"<html>").unwrap_err();
    assert!(
        matches!(err, JwksError::NotJson { .. }),
        "{err}: not JSON is its own error"
    );
    assert!(err.to_string().contains("http://idp/jwks"), "{err}");
    let err = parse_jwks(
        "http://idp/jwks",
        br#"{"keys": [{"kty": "oct", "k": "AAAA"}]}"#,
    )
    .unwrap_err();
    assert!(matches!(err, JwksError::NoUsableKey { .. }), "{err}");
    let err = parse_jwks("http://idp/jwks", br#"{"keys": 3}"#).unwrap_err();
    assert!(matches!(err, JwksError::NotJson { .. }), "{err}");
}

#[test]
fn a_token_without_kid_needs_a_single_key() {
    let key = || {
        Arc::new(Key {
            kid: Some("a".into()),
            alg: None,
            key: DecodingKey::from_rsa_components(RSA_N, "AQAB").unwrap(),
        })
    };
    let one = KeySet {
        keys: vec![key()],
        fetched: None,
    };
    assert!(find(&one, None).is_some());
    assert!(find(&one, Some("a")).is_some());
    assert!(find(&one, Some("b")).is_none());
    let two = KeySet {
        keys: vec![key(), key()],
        fetched: None,
    };
    assert!(find(&two, None).is_none());
}
