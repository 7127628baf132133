//! Authentication against the real binary: API keys from `--api-key`, `FASTMCP_API_KEY`, the
//! seed's `API_KEY` and a keys file, in stateless and stateful mode; what a refused request
//! looks like (401, `WWW-Authenticate: Bearer`, a JSON-RPC error that does not say which part
//! was wrong); tools that need a caller or a scope; and keys kept out of the logs.
//! HS256 JWTs are in [`jwt`], OAuth access tokens from an identity provider in [`oauth`].

pub(crate) mod jwt;
mod oauth;

use std::io::Write;

use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::util::{self, Server, plugins, rpc, text_of, tool_call};

/// The single key of most tests.
const KEY: &str = "k3y-0f-the-t3st-suite-7d1e0c";

/// What a refused request's body says when no credential was sent.
const MISSING: &str = "Unauthorized: authentication required";

/// Words that would tell a client which check failed.
const TELLTALES: [&str; 8] = [
    "signature",
    "issuer",
    "audience",
    "algorithm",
    "nbf",
    "claim",
    "unknown",
    "malformed",
];

fn protected_action(id: i64) -> Value {
    tool_call(id, "protected_action", json!({}))
}

/// Asserts a 401 with a Bearer challenge and a JSON-RPC error body that names no check, and
/// returns the body.
pub(crate) fn assert_unauthorized(r: Response, what: &str) -> Value {
    assert_eq!(r.status(), 401, "{what}");
    let challenge = r
        .headers()
        .get("www-authenticate")
        .unwrap_or_else(|| panic!("{what}: no WWW-Authenticate header"))
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.starts_with("Bearer"), "{what}: {challenge}");
    assert!(
        util::content_type(&r).starts_with("application/json"),
        "{what}"
    );
    let body: Value = r.json().expect("a JSON-RPC error body");
    assert_eq!(body["jsonrpc"], "2.0", "{what}: {body}");
    assert!(body["error"]["code"].is_i64(), "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap().to_lowercase();
    for word in TELLTALES {
        assert!(!message.contains(word), "{what}: says {word:?}: {body}");
    }
    body
}

/// A refused request that did present a credential: the `invalid_token` challenge.
pub(crate) fn assert_invalid(r: Response, what: &str) -> Value {
    let challenge = r.headers().get("www-authenticate").cloned();
    let body = assert_unauthorized(r, what);
    let challenge = challenge.unwrap();
    assert!(
        challenge.to_str().unwrap().contains("invalid_token"),
        "{what}: {challenge:?}"
    );
    body
}

fn keys_file(lines: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(lines.as_bytes()).unwrap();
    f
}

fn serve_with_key(plugin: &std::path::Path, mode: &str) -> Server {
    util::start(
        &[
            plugin.to_str().unwrap(),
            "--watch=false",
            "--stateless",
            mode,
        ],
        &[("FASTMCP_API_KEY", KEY)],
    )
}

#[test]
fn a_request_without_the_right_key_is_401_and_the_key_works_in_either_header() {
    let server = serve_with_key(&plugins().protected, "true");
    let list = rpc(1, "tools/list", json!({}));

    let missing = assert_unauthorized(server.post_with(&list, &[], None), "no key");
    assert_eq!(missing["error"]["message"], MISSING, "{missing}");
    // Authentication comes before everything else: a bad body is still a 401, never a 400.
    let r = util::post_raw(&server.mcp(), "{not json", &util::GOOD_HEADERS);
    assert_unauthorized(r, "no key and a malformed body");
    let r = util::post_raw(&server.mcp(), "{not json", &[("x-api-key", "wrong")]);
    assert_invalid(r, "a wrong key and a malformed body without headers");

    let mut refusals = Vec::new();
    let suffixed = format!("Bearer {KEY}X");
    for (what, headers) in [
        ("wrong x-api-key", vec![("x-api-key", "wrong-key")]),
        ("wrong bearer", vec![("authorization", "Bearer wrong-key")]),
        ("key prefix", vec![("x-api-key", &KEY[..KEY.len() - 1])]),
        (
            "key with a suffix",
            vec![("authorization", suffixed.as_str())],
        ),
    ] {
        refusals.push(assert_invalid(
            server.post_with(&list, &headers, None),
            what,
        ));
    }
    // Every wrong credential gets the same answer.
    assert!(refusals.windows(2).all(|w| w[0] == w[1]), "{refusals:?}");
    assert!(!refusals[0].to_string().contains(KEY));
    // Other schemes carry no credential we read.
    let basic = [("authorization", "Basic dXNlcjpwYXNz")];
    assert_unauthorized(server.post_with(&list, &basic, None), "Basic");

    let bearer = format!("Bearer {KEY}");
    for headers in [[("x-api-key", KEY)], [("authorization", bearer.as_str())]] {
        let r = server.call_with(&protected_action(2), &headers, None);
        assert_eq!(text_of(&r), "Hello, user key:api-key!", "{headers:?}: {r}");
    }

    // Health endpoints stay open for probes.
    assert_eq!(server.get_with("/health", &[]).status(), 200);
    let (status, body) = util::ready(&server);
    assert_eq!((status, &body["status"]), (200, &json!("ready")), "{body}");
}

#[test]
fn the_seeds_api_key_variable_and_the_flag_both_work() {
    let p = plugins().protected.to_str().unwrap();
    let server = util::start(
        &[p, "--watch=false", "--stateless"],
        &[("API_KEY", "seed-named-key")],
    );
    let ok = server.call_with(
        &protected_action(1),
        &[("x-api-key", "seed-named-key")],
        None,
    );
    assert_eq!(text_of(&ok), "Hello, user key:api-key!", "{ok}");
    assert_unauthorized(server.post_with(&protected_action(2), &[], None), "no key");

    let server = util::start(&[p, "--watch=false", "--stateless", "--api-key", KEY], &[]);
    let ok = server.call_with(&protected_action(1), &[("x-api-key", KEY)], None);
    assert_eq!(text_of(&ok), "Hello, user key:api-key!", "{ok}");
}

#[test]
fn each_id_of_a_keys_file_is_its_own_caller() {
    let file = keys_file("# who may call\nalice:alice-key-1\n\nbob : bob-key-2 \n");
    let server = util::start(
        &[
            plugins().protected.to_str().unwrap(),
            "--watch=false",
            "--stateless",
            "--api-keys-file",
            file.path().to_str().unwrap(),
        ],
        &[],
    );
    for (key, id) in [("alice-key-1", "key:alice"), ("bob-key-2", "key:bob")] {
        let r = server.call_with(&protected_action(1), &[("x-api-key", key)], None);
        assert_eq!(text_of(&r), format!("Hello, user {id}!"), "{r}");
        let bearer = format!("Bearer {key}");
        let r = server.call_with(&protected_action(2), &[("authorization", &bearer)], None);
        assert_eq!(text_of(&r), format!("Hello, user {id}!"), "{r}");
    }
    assert_invalid(
        server.post_with(&protected_action(3), &[("x-api-key", "carol-key")], None),
        "a key not in the file",
    );
}

#[test]
fn a_stateful_session_needs_the_key_on_every_request() {
    let server = serve_with_key(&plugins().protected, "false");
    let key = [("x-api-key", KEY)];
    let init = rpc(0, "initialize", util::initialize_params("2025-06-18"));
    assert_unauthorized(
        server.post_with(&init, &[], None),
        "initialize without a key",
    );
    let session = server.initialize_with(&key);

    assert_eq!(
        server.tool_names_with(&key, Some(&session)),
        ["protected_action"]
    );
    let r = server.call_with(&protected_action(1), &key, Some(&session));
    assert_eq!(text_of(&r), "Hello, user key:api-key!", "{r}");

    // The session id is not a credential.
    let r = server.post_with(&protected_action(2), &[], Some(&session));
    assert_unauthorized(r, "a session id without the key");
    let get = server.get_stream(Some(&session), &[]);
    assert_unauthorized(get, "GET on the session's stream without the key");
    let delete = server.delete_session(&session, &[]);
    assert_unauthorized(delete, "DELETE without the key");
    // ... and the session survived those attempts.
    let r = server.call_with(&protected_action(3), &key, Some(&session));
    assert_eq!(text_of(&r), "Hello, user key:api-key!", "{r}");
}

#[test]
fn a_session_is_bound_to_the_caller_that_opened_it() {
    let file = keys_file("alice:alice-key-1\nbob:bob-key-2\n");
    let server = util::start(
        &[
            plugins().protected.to_str().unwrap(),
            "--watch=false",
            "--api-keys-file",
            file.path().to_str().unwrap(),
        ],
        &[],
    );
    let session = server.initialize_with(&[("x-api-key", "alice-key-1")]);
    // Bob, with a valid key of his own, must not be able to use (or end) Alice's session.
    let r = server.post_with(
        &protected_action(1),
        &[("x-api-key", "bob-key-2")],
        Some(&session),
    );
    assert_eq!(r.status(), 404, "{}", r.text().unwrap());
}

#[test]
fn tools_that_need_a_caller_are_invisible_without_authentication_configured() {
    let p = plugins();
    let server = util::serve(&p.protected, &["--stateless"]);
    assert!(server.tool_names_with(&[], None).is_empty());
    let r = server.call_with(&protected_action(1), &[], None);
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // A key sent to a server without authentication changes nothing.
    let r = server.call_with(&protected_action(2), &[("x-api-key", KEY)], None);
    assert_eq!(r["error"]["code"], -32602, "{r}");

    let server = util::serve(&p.test_plugin, &["--stateless"]);
    let names = server.tool_names_with(&[], None);
    assert!(names.contains(&"echo".to_string()), "{names:?}");
    assert!(!names.contains(&"secret".to_string()), "{names:?}");
}

#[test]
fn tools_that_need_a_caller_are_listed_with_credentials() {
    let p = plugins();
    let server = util::start(
        &[
            p.protected.to_str().unwrap(),
            p.calculator.to_str().unwrap(),
            "--watch=false",
            "--stateless",
        ],
        &[("FASTMCP_API_KEY", KEY)],
    );
    let list = rpc(1, "tools/list", json!({}));
    assert_unauthorized(
        server.post_with(&list, &[], None),
        "tools/list without a key",
    );
    let mut names = server.tool_names_with(&[("x-api-key", KEY)], None);
    names.sort();
    assert_eq!(names, ["calculate", "protected_action"]);
}

#[test]
fn a_scoped_tool_needs_its_scope() {
    let file =
        keys_file("root:admin-key-1:admin,read\nreader:read-key-2:read\nnobody:plain-key-3\n");
    let server = util::start(
        &[
            plugins().test_plugin.to_str().unwrap(),
            "--watch=false",
            "--stateless",
            "--api-keys-file",
            file.path().to_str().unwrap(),
        ],
        &[],
    );
    let admin = [("x-api-key", "admin-key-1")];
    assert!(
        server
            .tool_names_with(&admin, None)
            .contains(&"secret".to_string())
    );
    let r = server.call_with(&tool_call(1, "secret", json!({})), &admin, None);
    assert_eq!(text_of(&r), "the secret", "{r}");
    let r = server.call_with(&tool_call(2, "whoami", json!({})), &admin, None);
    assert!(
        text_of(&r).starts_with("caller=key:root scopes=admin,read "),
        "{r}"
    );

    for key in ["read-key-2", "plain-key-3"] {
        let headers = [("x-api-key", key)];
        let names = server.tool_names_with(&headers, None);
        assert!(!names.contains(&"secret".to_string()), "{key}: {names:?}");
        assert!(names.contains(&"whoami".to_string()), "{key}: {names:?}");
        // Listed or not, calling it is the scope challenge: 403 with the scope it needs.
        let r = server.post_with(&tool_call(3, "secret", json!({})), &headers, None);
        assert_eq!(r.status(), 403, "{key}");
        let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(
            challenge.contains(r#"error="insufficient_scope""#)
                && challenge.contains(r#"scope="admin""#),
            "{key}: {challenge}"
        );
        let r = util::rpc_response(r);
        assert_eq!(r["id"], 3, "{key}: {r}");
        assert!(!r.to_string().contains("the secret"), "{key}: {r}");
    }
}

#[test]
fn credentials_never_appear_in_the_logs() {
    let file = keys_file("alice:alice-file-key-5b2e9\n");
    let jwt_secret = "jwt-secret-that-is-long-enough-9f8e7d6c5b4a";
    let token = jwt::mint(
        jwt_secret.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": "logged-user", "exp": jwt::now() + 600}),
    );
    let forged = jwt::mint(
        b"another-secret-that-is-long-enough-0a1b2c3d",
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": "forger", "exp": jwt::now() + 600}),
    );
    let p = plugins();
    let server = util::start(
        &[
            p.protected.to_str().unwrap(),
            "--watch=false",
            "--log-format",
            "json",
            "--api-keys-file",
            file.path().to_str().unwrap(),
        ],
        &[
            ("FASTMCP_LOG", "debug"),
            ("FASTMCP_API_KEY", KEY),
            ("FASTMCP_JWT_SECRET", jwt_secret),
        ],
    );
    // A session belongs to the caller that opened it, so each identity opens its own.
    let session = server.initialize_with(&[("x-api-key", KEY)]);
    let bearer = format!("Bearer {token}");
    let forged_bearer = format!("Bearer {forged}");
    let wrong_key = "wrong-key-that-was-presented-4c3d";
    for headers in [
        vec![("x-api-key", KEY)],
        vec![("x-api-key", "alice-file-key-5b2e9")],
        vec![("authorization", bearer.as_str())],
    ] {
        let own = server.initialize_with(&headers);
        let r = server.call_with(&protected_action(1), &headers, Some(&own));
        assert!(text_of(&r).starts_with("Hello, user "), "{r}");
    }
    for headers in [
        vec![("x-api-key", wrong_key)],
        vec![("authorization", forged_bearer.as_str())],
    ] {
        assert_invalid(
            server.post_with(&protected_action(2), &headers, Some(&session)),
            "a wrong credential",
        );
    }
    assert_unauthorized(
        server.post_with(&protected_action(3), &[], None),
        "no credential",
    );
    // The refusals are logged (debug and info), so the log did see these requests.
    assert!(
        server.wait_log(
            "authentication failed",
            2,
            std::time::Duration::from_secs(5)
        ),
        "{}",
        server.log_text()
    );
    let log = server.log_text();
    assert!(
        log.lines().any(|l| l.contains("\"DEBUG\"")),
        "not at debug level"
    );
    for secret in [
        KEY,
        "alice-file-key-5b2e9",
        jwt_secret,
        &token,
        token.rsplit('.').next().unwrap(),
        &forged,
        wrong_key,
    ] {
        assert!(!log.contains(secret), "{secret:?} is in the log:\n{log}");
    }
}
