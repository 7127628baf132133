//! HS256 JWTs against the real binary: tokens are minted here (base64url header and payload,
//! HMAC-SHA256 signature) and sent as `Authorization: Bearer`. A valid token's `sub` is the
//! caller and its `scope` claim grants scoped tools; expired, not-yet-valid, malformed,
//! wrongly signed, `alg: none`, `alg: HS512` and wrong `iss`/`aud` tokens are all 401.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Sha256, Sha512};

use super::{assert_invalid, assert_unauthorized};
use crate::util::{self, Server, plugins, text_of, tool_call};

const SECRET: &str = "a-jwt-secret-of-at-least-32-bytes-for-hs256";
const OTHER_SECRET: &str = "some-other-secret-of-at-least-32-bytes-long";

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// `header.claims.signature`, signed with HMAC-SHA256 whatever the header says.
pub(crate) fn mint(secret: &[u8], header: &Value, claims: &Value) -> String {
    let signed = format!("{}.{}", b64(header), b64(claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(signed.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{signature}")
}

/// A real HS512 token (HMAC-SHA512), which an HS256-only server must refuse.
fn mint_hs512(secret: &[u8], claims: &Value) -> String {
    let signed = format!(
        "{}.{}",
        b64(&json!({"alg": "HS512", "typ": "JWT"})),
        b64(claims)
    );
    let mut mac = Hmac::<Sha512>::new_from_slice(secret).unwrap();
    mac.update(signed.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{signature}")
}

fn hs256() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

fn token(claims: Value) -> String {
    mint(SECRET.as_bytes(), &hs256(), &claims)
}

fn serve(plugin: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let mut args = vec![plugin.to_str().unwrap(), "--watch=false", "--stateless"];
    args.extend_from_slice(extra);
    util::start(&args, env)
}

fn call(server: &Server, token: &str, tool: &str) -> reqwest::blocking::Response {
    let bearer = format!("Bearer {token}");
    server.post_with(
        &tool_call(1, tool, json!({})),
        &[("authorization", &bearer)],
        None,
    )
}

fn greeting(server: &Server, token: &str) -> String {
    let r = call(server, token, "protected_action");
    assert_eq!(r.status(), 200);
    text_of(&util::rpc_response(r))
}

#[test]
fn a_valid_token_is_its_subject() {
    // The seed's variable name.
    let server = serve(&plugins().protected, &[], &[("JWT_SECRET", SECRET)]);
    let t = token(json!({"sub": "user-123", "exp": now() + 600}));
    assert_eq!(greeting(&server, &t), "Hello, user jwt:user-123!");
    // `nbf` in the past and `iat` are fine; scheme names are case-insensitive.
    let t = token(json!({"sub": "user-456", "exp": now() + 600, "nbf": now() - 60, "iat": now()}));
    let bearer = format!("bearer {t}");
    let r = server.call_with(
        &tool_call(1, "protected_action", json!({})),
        &[("authorization", &bearer)],
        None,
    );
    assert_eq!(text_of(&r), "Hello, user jwt:user-456!", "{r}");
}

#[test]
fn every_bad_token_is_401_with_the_same_answer() {
    let server = serve(&plugins().protected, &["--jwt-secret", SECRET], &[]);
    let sub = "user-123";
    let valid = json!({"sub": sub, "exp": now() + 600});
    let good = token(valid.clone());
    let (h, p, _) = {
        let mut parts = good.split('.');
        (
            parts.next().unwrap().to_string(),
            parts.next().unwrap().to_string(),
            parts.next().unwrap().to_string(),
        )
    };
    let none_header = b64(&json!({"alg": "none", "typ": "JWT"}));
    let cases: Vec<(&str, String)> = vec![
        ("expired", token(json!({"sub": sub, "exp": now() - 3600}))),
        (
            "nbf in the future",
            token(json!({"sub": sub, "exp": now() + 7200, "nbf": now() + 3600})),
        ),
        ("no exp", token(json!({"sub": sub}))),
        ("no sub", token(json!({"exp": now() + 600}))),
        ("two parts", format!("{h}.{p}")),
        ("four parts", format!("{good}.{p}")),
        ("not base64url", format!("{h}.{p}.!!not*base64!!")),
        (
            "payload not base64",
            format!("{h}.@@@.{}", good.rsplit('.').next().unwrap()),
        ),
        ("parts that are not JSON", "abcd.efgh.ijkl".to_string()),
        ("a single char part", "a.b.c".to_string()),
        (
            "signed with another secret",
            mint(OTHER_SECRET.as_bytes(), &hs256(), &valid),
        ),
        ("alg none, no signature", format!("{none_header}.{p}.")),
        (
            "alg none with a signature",
            mint(SECRET.as_bytes(), &json!({"alg": "none"}), &valid),
        ),
        ("alg HS512", mint_hs512(SECRET.as_bytes(), &valid)),
        (
            "alg HS512 in the header, HS256 signature",
            mint(SECRET.as_bytes(), &json!({"alg": "HS512"}), &valid),
        ),
        (
            "payload swapped after signing",
            format!(
                "{h}.{}.{}",
                b64(&json!({"sub": "admin", "exp": now() + 600})),
                good.rsplit('.').next().unwrap()
            ),
        ),
        (
            "aud while no audience is configured",
            token(json!({"sub": sub, "exp": now() + 600, "aud": "elsewhere"})),
        ),
    ];
    let mut bodies = Vec::new();
    for (what, t) in &cases {
        bodies.push((
            what,
            assert_invalid(call(&server, t, "protected_action"), what),
        ));
    }
    let first = &bodies[0].1;
    for (what, body) in &bodies {
        assert_eq!(body, first, "{what} is told apart from expired");
    }
    // An empty bearer is no credential at all.
    let r = server.post_with(
        &tool_call(1, "protected_action", json!({})),
        &[("authorization", "Bearer ")],
        None,
    );
    assert_unauthorized(r, "an empty bearer");
    // And the good one still works.
    assert_eq!(greeting(&server, &good), "Hello, user jwt:user-123!");
}

#[test]
fn issuer_and_audience_must_match_when_configured() {
    let iss = "https://issuer.example";
    let aud = "fastmcp-tests";
    let server = serve(
        &plugins().protected,
        &["--jwt-issuer", iss, "--jwt-audience", aud],
        &[("FASTMCP_JWT_SECRET", SECRET)],
    );
    let exp = now() + 600;
    let ok = token(json!({"sub": "u1", "exp": exp, "iss": iss, "aud": aud}));
    assert_eq!(greeting(&server, &ok), "Hello, user jwt:u1!");
    let in_list = token(json!({"sub": "u2", "exp": exp, "iss": iss, "aud": ["other", aud]}));
    assert_eq!(greeting(&server, &in_list), "Hello, user jwt:u2!");

    for (what, claims) in [
        (
            "wrong iss",
            json!({"sub": "u", "exp": exp, "iss": "https://evil.example", "aud": aud}),
        ),
        ("no iss", json!({"sub": "u", "exp": exp, "aud": aud})),
        (
            "wrong aud",
            json!({"sub": "u", "exp": exp, "iss": iss, "aud": "other"}),
        ),
        (
            "aud list without ours",
            json!({"sub": "u", "exp": exp, "iss": iss, "aud": ["a", "b"]}),
        ),
        ("no aud", json!({"sub": "u", "exp": exp, "iss": iss})),
    ] {
        assert_invalid(call(&server, &token(claims), "protected_action"), what);
    }
}

#[test]
fn a_scope_claim_grants_scoped_tools() {
    let server = serve(
        &plugins().test_plugin,
        &[],
        &[("FASTMCP_JWT_SECRET", SECRET)],
    );
    let exp = now() + 600;
    let admin = token(json!({"sub": "boss", "exp": exp, "scope": "admin read"}));
    let bearer = format!("Bearer {admin}");
    let names = server.tool_names_with(&[("authorization", &bearer)], None);
    assert!(names.contains(&"secret".to_string()), "{names:?}");
    let r = call(&server, &admin, "secret");
    assert_eq!(text_of(&util::rpc_response(r)), "the secret");
    let r = call(&server, &admin, "whoami");
    let who = text_of(&util::rpc_response(r));
    assert!(
        who.starts_with("caller=jwt:boss scopes=admin,read "),
        "{who}"
    );

    let reader = token(json!({"sub": "clerk", "exp": exp, "scope": "read"}));
    let bearer = format!("Bearer {reader}");
    let names = server.tool_names_with(&[("authorization", &bearer)], None);
    assert!(!names.contains(&"secret".to_string()), "{names:?}");
    let r = call(&server, &reader, "secret");
    assert_eq!(r.status(), 403, "a scope the token lacks");
    let r = util::rpc_response(r);
    assert!(r["error"]["code"].is_i64(), "{r}");
    assert!(!r.to_string().contains("the secret"), "{r}");
}
