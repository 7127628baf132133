//! The identity provider of the OAuth tests: panva's `oidc-provider` run by
//! `tests/oidc/provider.mjs` on 127.0.0.1, one per test, stopped when the test drops it.
//! Needs `npm ci` in `tests/oidc` (scripts/test.sh does it); without it the tests print a notice
//! and pass, unless FASTMCP_TEST_REQUIRE_CLIENTS=1.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::util;

/// The client the provider knows, allowed the client-credentials grant.
pub(crate) const CLIENT_ID: &str = "fastmcp-test";
const CLIENT_SECRET: &str = "fastmcp-secret";

/// Whether the provider is installed; fails the test when it is required but missing.
pub(crate) fn available() -> bool {
    let dir = util::root().join("tests/oidc");
    if dir.join("node_modules/oidc-provider").is_dir() {
        return true;
    }
    let required = std::env::var("FASTMCP_TEST_REQUIRE_CLIENTS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "FASTMCP_TEST_REQUIRE_CLIENTS=1 but {} has no node_modules; run `npm ci` there",
        dir.display()
    );
    eprintln!(
        "notice: skipping an OAuth test: run `npm ci` in {}",
        dir.display()
    );
    false
}

/// A running provider. Dropping it stops it.
#[derive(Debug)]
pub(crate) struct Idp {
    child: Child,
    /// `http://127.0.0.1:PORT`, the `iss` of its tokens.
    pub(crate) issuer: String,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Idp {
    /// Starts a provider and waits (at most 30 s) for the line naming its issuer.
    pub(crate) fn start() -> Idp {
        let mut child = Command::new("node")
            .arg(util::root().join("tests/oidc/provider.mjs"))
            // The provider exits when its stdin closes, so a test that dies takes it along.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run node (needed for the identity provider)");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let issuer = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["issuer"].as_str().map(str::to_owned));
        let Some(issuer) = issuer else {
            let _ = child.kill();
            panic!("the identity provider did not start: {line:?}");
        };
        Idp { child, issuer }
    }

    /// An access token from the client-credentials grant for `resource` (RFC 8707), with
    /// `scope`, signed with RS256.
    pub(crate) fn token(&self, resource: &str, scope: &str) -> String {
        self.token_signed(resource, scope, "RS256")
    }

    /// [`Idp::token`] signed with `alg` (one of fastmcp's accepted algorithms), by the
    /// provider's key for that algorithm.
    pub(crate) fn token_signed(&self, resource: &str, scope: &str, alg: &str) -> String {
        let r = util::client()
            .post(format!("{}/token", self.issuer))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-test-alg", alg)
            .body(format!(
                "grant_type=client_credentials&resource={}&scope={}",
                encode(resource),
                encode(scope)
            ))
            .send()
            .expect("POST /token");
        let status = r.status();
        let body = r.text().unwrap_or_default();
        assert_eq!(status, 200, "token request ({alg}): {body}");
        let body: Value = serde_json::from_str(&body).expect("a JSON token response");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    fn control(&self, path: &str) -> Value {
        let r = util::client()
            .post(format!("{}/test/{path}", self.issuer))
            .send()
            .expect("provider control");
        assert_eq!(r.status(), 200, "{path}");
        r.json().unwrap()
    }

    /// Replaces the signing key: the old one is no longer published. Returns the new `kid`.
    pub(crate) fn rotate(&self) -> String {
        self.control("rotate")["kid"].as_str().unwrap().to_owned()
    }

    /// Runs the provider's clock `seconds` off (negative: in the past).
    pub(crate) fn skew_clock(&self, seconds: i64) {
        self.control(&format!("clock?skew={seconds}"));
    }

    /// Makes the JWKS endpoint answer 503 (`true`) or serve the keys again.
    pub(crate) fn jwks_down(&self, down: bool) {
        self.control(&format!("jwks-down?on={}", u8::from(down)));
    }

    /// A token the provider's current RS256 key really signs, with this header (plus `alg` and
    /// `kid`).
    pub(crate) fn sign(&self, header: Value, claims: Value) -> String {
        self.sign_with(None, header, claims)
    }

    /// A token the provider's key `kid` (default: the current RS256 key) really signs, with
    /// this header; the header's `alg`, when it has one, is the algorithm the key signs with,
    /// whatever the key set says the key is for.
    pub(crate) fn sign_with(&self, kid: Option<&str>, header: Value, claims: Value) -> String {
        let r = util::client()
            .post(format!("{}/test/sign", self.issuer))
            .body(serde_json::json!({"header": header, "claims": claims, "kid": kid}).to_string())
            .send()
            .expect("provider sign");
        assert_eq!(r.status(), 200);
        r.text().unwrap()
    }

    /// The provider's published key set.
    pub(crate) fn jwks(&self) -> Value {
        util::client()
            .get(format!("{}/jwks", self.issuer))
            .send()
            .expect("GET /jwks")
            .json()
            .unwrap()
    }
}

/// Percent-encodes a form value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
