//! OAuth access tokens from a real identity provider (panva's `oidc-provider`, [`idp`]), in
//! stateful and stateless mode: the client-credentials grant with a resource indicator naming
//! fastmcp's URL; the 401 challenge and the Protected Resource Metadata a client discovers the
//! provider from; a scope challenge (403); tokens for another audience, expired tokens and
//! tokens of a rotated-out key refused; a rotated key picked up without restart; the official
//! TypeScript SDK's OAuth client; every method combined. Every accepted signature algorithm is
//! in [`algorithms`], the refusals of forged tokens and a misbehaving provider in [`refusals`].

mod algorithms;
pub(crate) mod idp;
mod refusals;

use std::time::Duration;

use reqwest::blocking::Response;
use serde_json::{Value, json};

use super::{assert_invalid, assert_unauthorized};
use crate::util::{self, Server, plugins, rpc, text_of, tool_call};
use idp::Idp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Stateful,
    Stateless,
}

pub(crate) const MODES: [Mode; 2] = [Mode::Stateful, Mode::Stateless];

/// A provider and a fastmcp that accepts its tokens.
pub(crate) struct Fixture {
    pub(crate) idp: Idp,
    pub(crate) server: Server,
    /// fastmcp's resource URL, the audience its tokens must name.
    pub(crate) resource: String,
    pub(crate) mode: Mode,
}

/// Starts a provider and fastmcp (the test plugin) with `--oauth-issuer` and `--public-url`;
/// `None` when the provider is not installed.
pub(crate) fn start(mode: Mode, extra: &[&str], env: &[(&str, &str)]) -> Option<Fixture> {
    if !idp::available() {
        return None;
    }
    let idp = Idp::start();
    Some(serve(idp, mode, extra, env))
}

/// fastmcp for `idp`'s tokens.
pub(crate) fn serve(idp: Idp, mode: Mode, extra: &[&str], env: &[(&str, &str)]) -> Fixture {
    let port = util::free_port().to_string();
    let public = format!("http://127.0.0.1:{port}");
    let plugin = plugins().test_plugin.to_str().unwrap().to_owned();
    let stateless = if mode == Mode::Stateless {
        "true"
    } else {
        "false"
    };
    let mut args = vec![
        plugin.as_str(),
        "--watch=false",
        "--stateless",
        stateless,
        "--port",
        &port,
        "--oauth-issuer",
        &idp.issuer,
        "--public-url",
        &public,
    ];
    args.extend_from_slice(extra);
    let server = util::start(&args, env);
    Fixture {
        idp,
        server,
        resource: format!("{public}/mcp"),
        mode,
    }
}

pub(crate) fn bearer(token: &str) -> [(&'static str, String); 1] {
    [("authorization", format!("Bearer {token}"))]
}

impl Fixture {
    /// A token for this server with `scope`.
    pub(crate) fn token(&self, scope: &str) -> String {
        self.idp.token(&self.resource, scope)
    }

    /// Opens a session with `token` in stateful mode (`None` in stateless mode).
    pub(crate) fn open(&self, token: &str) -> Option<String> {
        if self.mode == Mode::Stateless {
            return None;
        }
        let h = bearer(token);
        let h = [(h[0].0, h[0].1.as_str())];
        Some(self.server.initialize_with(&h))
    }

    /// `tools/call` of `tool` with `token`.
    pub(crate) fn call(&self, token: &str, session: Option<&str>, tool: &str) -> Response {
        let h = bearer(token);
        let h = [(h[0].0, h[0].1.as_str())];
        self.server
            .post_with(&tool_call(1, tool, json!({})), &h, session)
    }

    /// The `whoami` text a token gets.
    pub(crate) fn whoami(&self, token: &str, session: Option<&str>) -> String {
        let r = self.call(token, session, "whoami");
        assert_eq!(r.status(), 200, "{:?}: whoami with a good token", self.mode);
        text_of(&util::rpc_response(r))
    }
}

fn challenge(r: &Response) -> String {
    r.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[test]
fn provider_tokens_call_tools_and_a_missing_scope_is_a_403_challenge() {
    for mode in MODES {
        let Some(f) = start(mode, &[], &[]) else {
            return;
        };
        let metadata_url = format!("{}/.well-known/oauth-protected-resource/mcp", f.server.base);
        // What a client sees first: a 401 that names the metadata.
        let r = f
            .server
            .post_with(&rpc(1, "tools/list", json!({})), &[], None);
        let c = challenge(&r);
        assert_unauthorized(r, "no token");
        assert!(
            c.contains(&format!(r#"resource_metadata="{metadata_url}""#)),
            "{mode:?}: {c}"
        );
        assert!(!c.contains("invalid_token"), "{mode:?}: {c}");
        // The metadata names the provider, this resource and the scopes tools need.
        for path in [
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
        ] {
            let m: Value = f.server.get_with(path, &[]).json().unwrap();
            assert_eq!(m["resource"], f.resource.as_str(), "{path}: {m}");
            assert_eq!(m["authorization_servers"], json!([f.idp.issuer]), "{m}");
            assert_eq!(m["bearer_methods_supported"], json!(["header"]), "{m}");
            assert!(
                m["scopes_supported"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("admin")),
                "{m}"
            );
        }

        let reader = f.token("read");
        let session = f.open(&reader);
        let s = session.as_deref();
        let who = f.whoami(&reader, s);
        assert!(
            who.starts_with(&format!("caller=oauth:{} scopes=read ", idp::CLIENT_ID)),
            "{mode:?}: {who}"
        );
        // tools/list hides what the caller may not use...
        let h = bearer(&reader);
        let h = [(h[0].0, h[0].1.as_str())];
        let names = f.server.tool_names_with(&h, s);
        assert!(names.contains(&"whoami".to_string()), "{names:?}");
        assert!(!names.contains(&"secret".to_string()), "{names:?}");
        // ... and calling it is the scope challenge.
        let r = f.call(&reader, s, "secret");
        assert_eq!(r.status(), 403, "{mode:?}");
        let c = challenge(&r);
        assert!(c.contains(r#"error="insufficient_scope""#), "{c}");
        assert!(c.contains(r#"scope="admin""#), "{c}");
        assert!(c.contains("resource_metadata="), "{c}");
        let body = util::rpc_response(r);
        assert_eq!(body["id"], 1, "{body}");
        assert!(!body.to_string().contains("the secret"), "{body}");

        let admin = f.token("read admin");
        let session = f.open(&admin);
        let r = f.call(&admin, session.as_deref(), "secret");
        assert_eq!(r.status(), 200, "{mode:?}");
        assert_eq!(text_of(&util::rpc_response(r)), "the secret");
    }
}

#[test]
fn tokens_for_another_audience_or_expired_are_refused() {
    for mode in MODES {
        let Some(f) = start(mode, &[], &[]) else {
            return;
        };
        let good = f.token("read");
        let session = f.open(&good);
        let s = session.as_deref();

        let other = f.idp.token("http://127.0.0.1:9/another-server", "read");
        let r = f.call(&other, s, "whoami");
        let c = challenge(&r);
        assert_invalid(r, "a token for another resource");
        assert!(c.contains("resource_metadata="), "{c}");

        // Issued by the provider an hour ago, with its five-minute lifetime long over.
        f.idp.skew_clock(-3600);
        let expired = f.token("read");
        f.idp.skew_clock(0);
        assert_invalid(f.call(&expired, s, "whoami"), "an expired token");

        assert!(f.whoami(&good, s).starts_with("caller=oauth:"), "{mode:?}");
        let log = f.server.log_text();
        assert!(log.contains("token audience does not match"), "{log}");
        assert!(log.contains("token expired"), "{log}");
        assert!(
            !log.contains(&good) && !log.contains(&expired),
            "tokens in the log"
        );
    }
}

/// The provider replaces its key: a token of the new key works once fastmcp has fetched the new
/// set (at most every 10 s, so this polls, bounded), and a token of the old one no longer does.
fn key_rotation(mode: Mode) {
    let Some(f) = start(mode, &[], &[]) else {
        return;
    };
    let old = f.token("read");
    let session = f.open(&old);
    let s = session.as_deref();
    assert!(f.whoami(&old, s).starts_with("caller=oauth:"));

    let kid = f.idp.rotate();
    let new = f.token("read");
    let picked_up = util::eventually(Duration::from_secs(30), || {
        f.call(&new, s, "whoami").status() == 200
    });
    assert!(
        picked_up,
        "{mode:?}: the token of the new key {kid} was never accepted"
    );
    assert!(f.whoami(&new, s).starts_with("caller=oauth:"));
    assert_invalid(f.call(&old, s, "whoami"), "a token of the rotated-out key");
}

#[test]
fn a_rotated_key_is_picked_up_without_restart_and_the_old_refused_stateful() {
    key_rotation(Mode::Stateful);
}

#[test]
fn a_rotated_key_is_picked_up_without_restart_and_the_old_refused_stateless() {
    key_rotation(Mode::Stateless);
}

#[test]
fn every_method_combined() {
    let key = "k3y-0f-the-oauth-t3sts-5c1a";
    let secret = "an-hs256-secret-of-at-least-32-bytes!!";
    let Some(f) = start(
        Mode::Stateless,
        &[],
        &[("FASTMCP_API_KEY", key), ("FASTMCP_JWT_SECRET", secret)],
    ) else {
        return;
    };
    let oauth = f.token("read");
    assert!(
        f.whoami(&oauth, None)
            .starts_with("caller=oauth:fastmcp-test ")
    );
    let hs256 = super::jwt::mint(
        secret.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": "ann", "exp": super::jwt::now() + 600}),
    );
    assert!(f.whoami(&hs256, None).starts_with("caller=jwt:ann "));
    // HS256 with the provider's public key as the secret meets the real secret, and fails.
    let jwk = f.idp.jwks()["keys"][0].to_string();
    let confused = super::jwt::mint(
        jwk.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": "ann", "exp": super::jwt::now() + 600}),
    );
    assert_invalid(
        f.call(&confused, None, "whoami"),
        "HS256 signed with the public key",
    );
    assert!(f.whoami(key, None).starts_with("caller=key:api-key "));
    let r = f.server.call_with(
        &tool_call(1, "whoami", json!({})),
        &[("x-api-key", key)],
        None,
    );
    assert!(text_of(&r).starts_with("caller=key:api-key "), "{r}");
}

#[test]
fn the_typescript_sdk_discovers_the_provider_and_calls_a_tool() {
    let sdk = util::root().join("tests/clients/node_modules/@modelcontextprotocol/sdk");
    if !sdk.is_dir() {
        let required = std::env::var("FASTMCP_TEST_REQUIRE_CLIENTS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{} is missing: run `npm ci` there",
            sdk.display()
        );
        eprintln!("notice: skipping the SDK OAuth test: run `npm ci` in tests/clients");
        return;
    }
    for mode in MODES {
        let Some(f) = start(mode, &[], &[]) else {
            return;
        };
        let out = std::process::Command::new("node")
            .arg(util::root().join("tests/oidc/sdk_oauth.mjs"))
            .arg(f.server.mcp())
            .output()
            .expect("run node");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{mode:?}: {stdout}\n{stderr}");
        let v: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
        // The SDK found the provider through fastmcp's 401 and metadata, got a token for
        // fastmcp's resource URL, and called the tool with it.
        assert_eq!(v["authorizationServer"], f.idp.issuer.as_str(), "{v}");
        assert_eq!(v["resource"], f.resource.as_str(), "{v}");
        assert!(
            v["whoami"]
                .as_str()
                .unwrap_or_default()
                .starts_with("caller=oauth:fastmcp-test scopes=read "),
            "{v}"
        );
        assert!(
            v["tools"].as_array().unwrap().contains(&json!("whoami")),
            "{v}"
        );
    }
}
