//! `/health` (liveness) and `/ready` (readiness): both answer GET and HEAD, and `/ready` says
//! 503 "starting" while a plugin crate is still being built, then 200 "ready".

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, plugins, rpc};

#[test]
fn health_answers_get_and_head_with_plain_text() {
    let server = util::serve(&plugins().calculator, &[]);
    let c = util::client();
    let r = c.get(format!("{}/health", server.base)).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        util::content_type(&r).starts_with("text/plain"),
        "{:?}",
        r.headers()
    );
    assert_eq!(r.text().unwrap(), "✓ Ok");
    let r = c.head(format!("{}/health", server.base)).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(util::content_type(&r).starts_with("text/plain"));
    assert_eq!(r.text().unwrap(), "");
}

#[test]
fn ready_answers_get_and_head() {
    let server = util::serve(&plugins().calculator, &["--stateless"]);
    let c = util::client();
    let r = c.get(format!("{}/ready", server.base)).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(util::content_type(&r), "application/json");
    let body: Value = r.json().unwrap();
    assert_eq!(body["status"], "ready");
    let r = c.head(format!("{}/ready", server.base)).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().unwrap(), "");
}

/// A copy of the calculator as a standalone crate whose build script waits until `go` exists,
/// so the test decides when the plugin finishes building.
fn gated_calculator_crate(dir: &Path, go: &Path) -> std::path::PathBuf {
    let krate = dir.join("slow_start");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    let sdk = util::root().join("tool-plugins/fastmcp-sdk");
    let toml = format!(
        r#"[package]
name = "slow_start"
version = "0.1.0"
edition = "2021"
publish = false
build = "build.rs"

[lib]
crate-type = ["cdylib"]

[dependencies]
fastmcp-sdk = {{ path = {sdk:?} }}
serde = {{ version = "1", features = ["derive"] }}

[workspace]
"#
    );
    std::fs::write(krate.join("Cargo.toml"), toml).unwrap();
    // The workspace's lock file keeps the dependency versions, so their builds are reused.
    std::fs::copy(util::root().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    std::fs::copy(
        util::root().join("tool-plugins/calculator/src/lib.rs"),
        krate.join("src/lib.rs"),
    )
    .unwrap();
    let build_rs = format!(
        "fn main() {{\n    let go = std::path::Path::new({go:?});\n    \
         for _ in 0..6000 {{\n        if go.exists() {{ return; }}\n        \
         std::thread::sleep(std::time::Duration::from_millis(20));\n    }}\n}}\n"
    );
    std::fs::write(krate.join("build.rs"), build_rs).unwrap();
    krate
}

#[test]
fn ready_is_503_starting_until_the_plugin_crate_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    let krate = gated_calculator_crate(dir.path(), &go);
    let target = util::target_dir().join("test-crates");
    let server = util::spawn(
        &[krate.to_str().unwrap(), "--profile", "dev", "--watch=false"],
        &[("CARGO_TARGET_DIR", target.to_str().unwrap())],
    );

    // Listening, but the build script is waiting for us: not ready.
    let (status, body) = util::ready(&server);
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body,
        json!({"mode": "stateful", "ready": 0, "status": "starting", "total": 1, "sessions": 0})
    );
    let head = util::client()
        .head(format!("{}/ready", server.base))
        .send()
        .unwrap();
    assert_eq!(head.status(), 503);
    // Liveness does not depend on plugins.
    let health = util::client()
        .get(format!("{}/health", server.base))
        .send()
        .unwrap();
    assert_eq!(health.status(), 200);
    // MCP requests are refused until the plugins are there.
    let r = server.post(&rpc(1, "tools/list", json!({})), None);
    assert_eq!(r.status(), 503);
    let err: Value = r.json().unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("loading"),
        "{err}"
    );

    std::fs::write(&go, b"").unwrap();
    // The first build of the SDK's dependencies in this target dir can take minutes.
    assert!(
        util::eventually(Duration::from_secs(300), || util::ready(&server).0 == 200),
        "never became ready; log:\n{}",
        server.log_text()
    );
    assert_eq!(
        util::ready(&server).1,
        json!({"mode": "stateful", "ready": 1, "status": "ready", "total": 1, "sessions": 0})
    );
    let session = server.initialize();
    let r = server.call(
        &util::tool_call(1, "calculate", json!({"operation": "add", "a": 2, "b": 3})),
        Some(&session),
    );
    assert_eq!(util::text_of(&r), "Result: 5");
}
