//! `fastmcp new`: the crate it writes passes its own tests, builds in release, and serves every
//! tool, the resource and the prompt over HTTP under `fastmcp dev`; the README's "start your
//! own plugin" command works as written; bad names and non-empty directories are refused.
//!
//! The crates build with `CARGO_TARGET_DIR=target/test-crates` (shared with the other tests
//! that build crates), so the SDK's dependencies are compiled once per machine, not per test;
//! each test's crate has its own name, so their libraries do not overwrite each other there.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{self, Finished, Server, rpc, text_of, tool_call};

/// A first build compiles the SDK's dependencies: several minutes on a slow, busy machine.
const BUILD_TIMEOUT: Duration = Duration::from_secs(900);

/// The target directory the crates built by tests share.
pub(crate) fn shared_target() -> PathBuf {
    util::target_dir().join("test-crates")
}

/// The SDK crate of this checkout.
pub(crate) fn sdk_dir() -> PathBuf {
    util::root().join("tool-plugins/fastmcp-sdk")
}

/// `fastmcp new ARGS` in `cwd`; panics unless it succeeds.
pub(crate) fn new_crate(cwd: &Path, args: &[&str]) -> Finished {
    let mut cmd = Command::new(util::bin());
    cmd.arg("new").args(args).current_dir(cwd);
    let out = util::run_command(cmd, "fastmcp new", Duration::from_secs(30));
    assert_eq!(out.code, Some(0), "fastmcp new {args:?}: {}", out.stderr);
    out
}

/// `cargo ARGS` in `dir` with the shared target directory; panics with the output on failure.
fn cargo(dir: &Path, args: &[&str]) -> Finished {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", shared_target());
    let out = util::run_command(cmd, &format!("cargo {}", args.join(" ")), BUILD_TIMEOUT);
    assert_eq!(
        out.code,
        Some(0),
        "cargo {args:?} in {}:\n{}\n{}",
        dir.display(),
        out.stdout,
        out.stderr
    );
    out
}

/// Copies this workspace's `Cargo.lock` into a new crate: it resolves to the versions the
/// workspace already built, instead of whatever crates.io has today.
pub(crate) fn pin_versions(krate: &Path) {
    std::fs::copy(util::root().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
}

/// `fastmcp dev ARGS` (JSON logs, port 0, shared target directory) run in `cwd`, once `/ready`
/// says ready; the crate is built first, which may take minutes.
fn dev(cwd: &Path, args: &[&str]) -> Server {
    let mut cmd = Command::new(util::bin());
    cmd.arg("dev")
        .args(args)
        .args(["--port", "0", "--stateless=true"])
        .current_dir(cwd)
        .env_remove("PORT")
        .env_remove("RUST_LOG")
        .env("FASTMCP_LOG_FORMAT", "json")
        .env("CARGO_TARGET_DIR", shared_target());
    let server = util::spawn_command(cmd);
    let deadline = Instant::now() + BUILD_TIMEOUT;
    while Instant::now() < deadline && util::ready(&server).1["status"] != "ready" {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        util::ready(&server).1["status"],
        "ready",
        "{}",
        server.log_text()
    );
    server
}

/// Calls each item of the generated crate named `name` over HTTP, as a client would.
fn call_everything(server: &Server, name: &str) {
    let tools = server.call(&rpc(1, "tools/list", json!({})), None);
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["greet", "countdown"], "{tools}");

    let greet = server.call(&tool_call(2, "greet", json!({"name": "Ada"})), None);
    assert_eq!(text_of(&greet), "Hello, Ada!", "{greet}");
    let args = json!({"from": 2, "interval_ms": 1});
    let countdown = server.call(&tool_call(3, "countdown", args), None);
    assert_eq!(text_of(&countdown), "2 ... liftoff!", "{countdown}");
    let refused = server.call(&tool_call(4, "countdown", json!({"from": 0})), None);
    assert_eq!(refused["result"]["isError"], true, "{refused}");

    let uri = format!("about://{name}");
    let about = server.call(&rpc(5, "resources/read", json!({"uri": uri})), None);
    let text = about["result"]["contents"][0]["text"]
        .as_str()
        .unwrap_or("");
    assert_eq!(text, format!("{name} 0.1.0: served by fastmcp"), "{about}");

    let params = json!({"name": "review", "arguments": {"code": "x = 1", "focus": "style"}});
    let prompt = server.call(&rpc(6, "prompts/get", params), None);
    assert_eq!(
        prompt["result"]["messages"][0]["content"]["text"], "Review this code for style:\n\nx = 1",
        "{prompt}"
    );
}

#[test]
fn a_new_crate_passes_its_tests_builds_and_serves_each_item() {
    let tmp = tempfile::tempdir().unwrap();
    let krate = tmp.path();
    let sdk = sdk_dir();
    let out = new_crate(
        krate,
        &[
            "demo",
            "--path",
            krate.to_str().unwrap(),
            "--sdk-path",
            sdk.to_str().unwrap(),
        ],
    );
    let sdk = std::fs::canonicalize(sdk).unwrap();
    assert_eq!(
        out.stderr.trim(),
        format!("fastmcp-sdk: path {} (--sdk-path)", sdk.display())
    );
    assert!(out.stdout.contains("fastmcp dev "), "{}", out.stdout);
    for file in ["README.md", ".gitignore", "Dockerfile", "src/lib.rs"] {
        assert!(krate.join(file).is_file(), "{file}");
    }
    let readme = std::fs::read_to_string(krate.join("README.md")).unwrap();
    assert!(readme.contains("fastmcp dev ."), "{readme}");
    pin_versions(krate);

    let tests = cargo(krate, &["test"]);
    assert!(
        tests.stdout.contains("test result: ok. 6 passed"),
        "{}",
        tests.stdout
    );
    cargo(krate, &["build", "--release"]);
    assert!(shared_target().join("release/libdemo.so").is_file());

    let server = dev(krate, &["."]);
    call_everything(&server, "demo");
}

/// The README's third command, `cargo run --release -- new my-tools && cargo run --release --
/// dev my-tools`, with `cargo run --release --` standing for the binary under test and a
/// scratch directory for the repository root.
#[test]
fn the_readmes_start_your_own_plugin_command_works_as_written() {
    let readme = std::fs::read_to_string(util::root().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -- new "))
        .expect("the README shows `cargo run --release -- new ...`");
    let steps: Vec<Vec<&str>> = line
        .split("&&")
        .map(|step| {
            let args = step.trim().strip_prefix("cargo run --release -- ");
            args.expect("each step runs fastmcp")
                .split_whitespace()
                .collect()
        })
        .collect();
    let [new, dev_args] = steps.as_slice() else {
        panic!("expected `new ... && dev ...`: {line}");
    };
    assert_eq!((new[0], dev_args[0]), ("new", "dev"), "{line}");

    let cwd = tempfile::tempdir().unwrap();
    let out = new_crate(cwd.path(), &new[1..]);
    // Run from a checkout, `new` takes the checkout's SDK and says so.
    let sdk = std::fs::canonicalize(sdk_dir()).unwrap();
    assert!(
        out.stderr
            .contains(&format!("fastmcp-sdk: path {},", sdk.display())),
        "{}",
        out.stderr
    );
    let krate = cwd.path().join(new[1]);
    pin_versions(&krate);
    let server = dev(cwd.path(), &dev_args[1..]);
    let greet = server.call(&tool_call(1, "greet", json!({"name": "you"})), None);
    assert_eq!(text_of(&greet), "Hello, you!", "{greet}");
}

#[test]
fn new_refuses_a_bad_name_and_a_directory_with_files() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = Command::new(util::bin());
        cmd.arg("new").args(args).current_dir(tmp.path());
        util::run_command(cmd, "fastmcp new", Duration::from_secs(30))
    };
    let cases = [
        (
            "my tools",
            "invalid crate name \"my tools\": ' ' is not allowed",
        ),
        (
            "2fast",
            "invalid crate name \"2fast\": it must start with an ASCII letter",
        ),
        ("fn", "invalid crate name \"fn\": `fn` is a Rust keyword"),
    ];
    for (name, message) in cases {
        let out = run(&[name]);
        assert_eq!(out.code, Some(2), "{name}: {}", out.stderr);
        assert!(
            out.stderr.starts_with(&format!("error: {message}")),
            "{}",
            out.stderr
        );
    }

    let taken = tmp.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("notes.txt"), "mine").unwrap();
    let out = run(&["taken"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(
        out.stderr.trim(),
        "error: taken already exists and is not an empty directory; choose another NAME or --path"
    );
    assert_eq!(
        std::fs::read_dir(&taken).unwrap().count(),
        1,
        "nothing was written"
    );

    let out = run(&["other", "--sdk-path", tmp.path().to_str().unwrap()]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("no Cargo.toml"), "{}", out.stderr);
    let listing: Vec<Value> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| json!(e.unwrap().file_name().to_string_lossy()))
        .collect();
    assert_eq!(listing, [json!("taken")], "a refused `new` writes nothing");
}
