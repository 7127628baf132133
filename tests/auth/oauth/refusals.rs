//! What fastmcp does when tokens are forged or the identity provider misbehaves: forged tokens
//! (`alg: none`, HS256 signed with the provider's public key, a huge header, `jku`/`x5u`/`jwk`
//! headers on a token the provider's key really signed, an unknown `kid`) are refused with 401
//! `invalid_token`; a JWKS endpoint that is down at startup leaves the server up, refusing
//! tokens and warning, until it is back; a key set that is not JSON or has no usable key is a
//! clear error in the log, never a crash.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::idp::{self, Idp};
use super::{Mode, bearer, serve, start};
use crate::auth::assert_invalid;
use crate::auth::jwt::{mint, now};
use crate::util;

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[test]
fn forged_tokens_are_refused_and_the_server_keeps_serving() {
    let Some(f) = start(Mode::Stateless, &[], &[]) else {
        return;
    };
    let good = f.token("read");
    assert!(f.whoami(&good, None).starts_with("caller=oauth:"));
    let claims = json!({
        "sub": "mallory",
        "iss": f.idp.issuer,
        "aud": f.resource,
        "exp": now() + 600,
        "scope": "read admin",
    });
    // The provider's own key signs these: only the header is wrong.
    let foreign = [
        ("jku", json!({"jku": "http://127.0.0.1:9/jwks.json"})),
        ("x5u", json!({"x5u": "http://127.0.0.1:9/cert.pem"})),
        ("jwk", json!({"jwk": f.idp.jwks()["keys"][0].clone()})),
    ];
    let mut forged: Vec<(String, String)> = foreign
        .into_iter()
        .map(|(what, header)| (format!("{what} header"), f.idp.sign(header, claims.clone())))
        .collect();
    // The control: the same claims and key without those headers are accepted.
    let plain = f.idp.sign(json!({"typ": "at+jwt"}), claims.clone());
    assert!(f.whoami(&plain, None).starts_with("caller=oauth:mallory "));

    let none = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims));
    forged.push(("alg none".into(), none));
    let none_signed = format!("{}.{}.c2ln", b64(&json!({"alg": "none"})), b64(&claims));
    forged.push(("alg none with a signature".into(), none_signed));
    // Algorithm confusion: HS256 with the public key (as the key set publishes it) as secret.
    let jwk = f.idp.jwks()["keys"][0].clone();
    let kid = jwk["kid"].as_str().unwrap().to_owned();
    let hs = json!({"alg": "HS256", "kid": kid});
    for (what, secret) in [
        ("the public JWK", jwk.to_string()),
        ("the public modulus", jwk["n"].as_str().unwrap().to_owned()),
    ] {
        let t = mint(secret.as_bytes(), &hs, &claims);
        forged.push((format!("HS256 signed with {what}"), t));
    }
    let huge = json!({"alg": "RS256", "kid": kid, "pad": "x".repeat(4000)});
    let (_, rest) = good.split_once('.').unwrap();
    forged.push(("a 5 KiB header".into(), format!("{}.{rest}", b64(&huge))));
    let unknown = json!({"alg": "RS256", "kid": "no-such-key"});
    forged.push(("an unknown kid".into(), format!("{}.{rest}", b64(&unknown))));
    let header = good.split('.').next().unwrap();
    let tampered = format!(
        "{header}.{}.{}",
        b64(&claims),
        rest.split('.').nth(1).unwrap()
    );
    forged.push(("tampered claims".into(), tampered));

    for (what, token) in &forged {
        assert_invalid(f.call(token, None, "whoami"), what);
    }
    // Still serving, the good token still good.
    assert_eq!(util::ready(&f.server).0, 200);
    assert!(f.whoami(&good, None).starts_with("caller=oauth:"));
    let log = f.server.log_text();
    assert!(log.contains("keys come from the issuer only"), "{log}");
    assert!(log.contains("token algorithm is not accepted"), "{log}");
    assert!(log.contains("unknown kid"), "{log}");
}

#[test]
fn a_jwks_endpoint_down_at_startup_is_survived_and_recovered_from() {
    if !idp::available() {
        return;
    }
    let provider = Idp::start();
    provider.jwks_down(true);
    let f = serve(provider, Mode::Stateful, &[], &[]);
    assert!(
        f.server.wait_log(
            "cannot fetch the identity provider's signing keys",
            1,
            Duration::from_secs(20)
        ),
        "no warning; log:\n{}",
        f.server.log_text()
    );
    let warning = f
        .server
        .log_events("cannot fetch the identity provider's signing keys")
        .remove(0);
    assert_eq!(warning["level"], "WARN", "{warning}");
    assert!(
        warning["error"]
            .as_str()
            .unwrap_or_default()
            .contains("503"),
        "{warning}"
    );
    let token = f.token("read");
    let h = bearer(&token);
    let h = [(h[0].0, h[0].1.as_str())];
    let init = util::rpc(0, "initialize", util::initialize_params("2025-06-18"));
    assert_invalid(
        f.server.post_with(&init, &h, None),
        "a token while the keys are unavailable",
    );
    assert_eq!(util::ready(&f.server).0, 200);

    f.idp.jwks_down(false);
    // Fetches are at most 10 s apart: bounded polling until the server has the keys.
    let recovered = util::eventually(Duration::from_secs(30), || {
        f.server.post_with(&init, &h, None).status() == 200
    });
    assert!(recovered, "never recovered; log:\n{}", f.server.log_text());
    let session = f.open(&token);
    assert!(
        f.whoami(&token, session.as_deref())
            .starts_with("caller=oauth:")
    );
}

/// Serves `body` as `200 application/json` to every request, on 127.0.0.1 (at most 100).
fn serve_document(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    url
}

#[test]
fn a_key_set_that_is_not_json_or_has_no_usable_key_is_a_clear_error() {
    if !idp::available() {
        return;
    }
    for (body, says) in [
        (
            "<html>this is not a key set</html>",
            "is not a valid JWK set",
        ),
        (
            r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]}"#,
            "has no usable signing key",
        ),
    ] {
        let jwks = serve_document(body);
        let f = serve(Idp::start(), Mode::Stateless, &["--jwks-url", &jwks], &[]);
        let warning = "cannot fetch the identity provider's signing keys";
        assert!(
            f.server.wait_log(warning, 1, Duration::from_secs(20)),
            "{says}: no warning; log:\n{}",
            f.server.log_text()
        );
        let e = f.server.log_events(warning).remove(0);
        assert!(
            e["error"].as_str().unwrap_or_default().contains(says),
            "{e}"
        );
        let token = f.token("read");
        assert_invalid(f.call(&token, None, "whoami"), says);
        assert_eq!(util::ready(&f.server).0, 200, "{says}");
    }
}
