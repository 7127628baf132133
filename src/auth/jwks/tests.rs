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

/// Serves the routes `routes(base)` gives (path -> JSON body; anything else 404) on 127.0.0.1,
/// for up to 20 requests, and returns the base URL.
fn serve(routes: impl FnOnce(&str) -> Vec<(String, String)>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let routes = routes(&base);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let reply = match routes.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned(),
            };
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    base
}

fn jwks_body() -> String {
    serde_json::json!({"keys": [{"kty": "RSA", "n": RSA_N, "e": "AQAB", "kid": "k1"}]}).to_string()
}

/// A provider under a realm path that serves only the OpenID Connect document, naming `issuer`.
fn realm(issuer: impl Fn(&str) -> String + 'static) -> String {
    let base = serve(move |base| {
        let metadata =
            serde_json::json!({"issuer": issuer(base), "jwks_uri": format!("{base}/keys")});
        vec![
            (
                "/realms/mcp/.well-known/openid-configuration".into(),
                metadata.to_string(),
            ),
            ("/keys".into(), jwks_body()),
        ]
    });
    format!("{base}/realms/mcp")
}

#[tokio::test]
async fn discovery_falls_back_to_openid_configuration() {
    // RFC 8414's document is 404 here; the OpenID Connect one names the key set.
    let issuer = realm(|base| format!("{base}/realms/mcp"));
    let store = KeyStore::new(issuer, None);
    assert!(store.refresh().await);
    assert!(matches!(store.key(Some("k1")).await, Lookup::Found(_)));
    assert!(matches!(store.key(Some("k2")).await, Lookup::Unknown));
}

#[tokio::test]
async fn metadata_naming_another_issuer_is_not_used() {
    let issuer = realm(|_| "https://someone-else.example".into());
    let store = KeyStore::new(issuer, None);
    assert!(!store.refresh().await);
    assert!(matches!(store.key(Some("k1")).await, Lookup::Unavailable));
}
