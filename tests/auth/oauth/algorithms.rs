//! Every signature algorithm fastmcp accepts from an identity provider (issue #18: RS256,
//! RS384, RS512, PS256, ES256, ES384, EdDSA), end to end: the provider signs an access token
//! with its key of that algorithm and a tool call with it names the caller. A token whose
//! header names another algorithm of the same key family than its key is published for is
//! refused, whether the signature was made for the other algorithm or not.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::idp::CLIENT_ID;
use super::{Mode, start};
use crate::auth::assert_invalid;
use crate::auth::jwt::now;
use crate::util::{self, text_of};

/// Each accepted algorithm, with the key type and curve the provider's key set must publish
/// for it (so a test of "ES384" is not an ES256 key relabelled).
const ALGORITHMS: [(&str, &str, Option<&str>); 7] = [
    ("RS256", "RSA", None),
    ("RS384", "RSA", None),
    ("RS512", "RSA", None),
    ("PS256", "RSA", None),
    ("ES256", "EC", Some("P-256")),
    ("ES384", "EC", Some("P-384")),
    ("EdDSA", "OKP", Some("Ed25519")),
];

/// A token's decoded header.
fn header(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// `token` with its header replaced by `header`; payload and signature untouched.
fn with_header(token: &str, header: &Value) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

#[test]
fn a_provider_token_of_every_accepted_algorithm_calls_a_tool() {
    let Some(f) = start(Mode::Stateless, &[], &[]) else {
        return;
    };
    let jwks = f.idp.jwks();
    for (alg, kty, crv) in ALGORITHMS {
        let token = f.idp.token_signed(&f.resource, "read", alg);
        // The provider really signed with that algorithm, with a key of the right type.
        let h = header(&token);
        assert_eq!(h["alg"], alg, "{h}");
        let key = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == h["kid"])
            .unwrap_or_else(|| panic!("{alg}: kid {} not in {jwks}", h["kid"]));
        assert_eq!(
            (key["kty"].as_str(), key["alg"].as_str()),
            (Some(kty), Some(alg))
        );
        assert_eq!(key["crv"].as_str(), crv, "{alg}: {key}");

        let r = f.call(&token, None, "whoami");
        assert_eq!(r.status(), 200, "{alg}: a good token refused");
        let who = text_of(&util::rpc_response(r));
        assert!(
            who.starts_with(&format!("caller=oauth:{CLIENT_ID} scopes=read ")),
            "{alg}: {who}"
        );
    }
}

#[test]
fn a_header_naming_another_algorithm_of_the_key_family_is_refused() {
    let Some(f) = start(Mode::Stateless, &[], &[]) else {
        return;
    };
    // A provider token of the first algorithm, its header saying the second. EdDSA is the only
    // accepted algorithm of its family, so it has no partner.
    let relabelled = [
        ("RS256", "PS256"),
        ("PS256", "RS256"),
        ("RS384", "RS512"),
        ("RS512", "RS256"),
        ("ES256", "ES384"),
        ("ES384", "ES256"),
    ];
    let mut refused = Vec::new();
    for (real, claimed) in relabelled {
        let token = f.idp.token_signed(&f.resource, "read", real);
        let mut h = header(&token);
        h["alg"] = json!(claimed);
        refused.push((
            format!("{real} token labelled {claimed}"),
            with_header(&token, &h),
        ));
    }
    // Stronger: an RSA key published for one algorithm really signs with another, so the
    // signature verifies for the algorithm the header names. Only the key set's `alg` for that
    // key tells them apart. (An EC key cannot sign for another curve's algorithm.)
    let claims = json!({
        "sub": "mallory",
        "iss": f.idp.issuer,
        "aud": f.resource,
        "exp": now() + 600,
        "scope": "read",
    });
    let jwks = f.idp.jwks();
    for (key_alg, signed) in [
        ("RS256", "PS256"),
        ("PS256", "RS256"),
        ("RS384", "RS256"),
        ("RS512", "PS256"),
    ] {
        let kid = kid_of(&jwks, key_alg);
        // The control: the same key and claims with its own algorithm are accepted.
        let own = f
            .idp
            .sign_with(Some(&kid), json!({"alg": key_alg}), claims.clone());
        let r = f.call(&own, None, "whoami");
        assert_eq!(r.status(), 200, "{key_alg} key signing {key_alg}");
        let who = text_of(&util::rpc_response(r));
        assert!(who.starts_with("caller=oauth:mallory "), "{who}");

        let other = f
            .idp
            .sign_with(Some(&kid), json!({"alg": signed}), claims.clone());
        assert_eq!(header(&other)["alg"], signed);
        refused.push((format!("{key_alg} key signing {signed}"), other));
    }

    for (what, token) in &refused {
        assert_invalid(f.call(token, None, "whoami"), what);
    }
    // Each refused for its algorithm, before any signature is checked.
    let failed = "authentication failed";
    f.server
        .wait_log(failed, refused.len(), Duration::from_secs(20));
    let reasons: Vec<Value> = f
        .server
        .log_events(failed)
        .into_iter()
        .map(|e| e["reason"].clone())
        .collect();
    let expected = vec![json!("token algorithm is not accepted"); refused.len()];
    assert_eq!(reasons, expected, "{}", f.server.log_text());
    // Still serving the real thing.
    let good = f.idp.token_signed(&f.resource, "read", "PS256");
    assert_eq!(f.call(&good, None, "whoami").status(), 200);
}

/// The `kid` of the provider's key for `alg`, from its published key set.
fn kid_of(jwks: &Value, alg: &str) -> String {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == alg)
        .and_then(|k| k["kid"].as_str())
        .unwrap_or_else(|| panic!("no {alg} key in {jwks}"))
        .to_owned()
}
