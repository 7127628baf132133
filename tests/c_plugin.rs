//! The plugin in C (`tool-plugins/c-example`), built with `make` and the system `cc` as its
//! Makefile documents, loaded by the real binary: `fastmcp dev` lists its tool with the
//! schemas the C code declares and serves its calls over HTTP, in stateful and stateless mode,
//! and over stdio; bad arguments come back as tool errors; `fastmcp inspect` reads it. `make check` feeds the
//! plugin what the host never sends (malformed JSON, short structs) under the sanitizers.
//!
//! The Makefile and sources are copied into a scratch tree with the repository's layout, so
//! the documented command runs exactly as written without writing into the working tree.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, rpc, text_of, tool_call};

const EXAMPLE: &str = "tool-plugins/c-example";
const HEADER: &str = "tool-plugins/fastmcp-abi/include/fastmcp.h";

/// Copies the example's sources and the header into `root`, at their paths in the repository.
fn copy_example(root: &Path) {
    let src = util::root().join(EXAMPLE);
    std::fs::create_dir_all(root.join(EXAMPLE)).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name == "Makefile" || name.ends_with(".c") || name.ends_with(".h") {
            std::fs::copy(&path, root.join(EXAMPLE).join(&name)).unwrap();
        }
    }
    std::fs::create_dir_all(root.join(HEADER).parent().unwrap()).unwrap();
    std::fs::copy(util::root().join(HEADER), root.join(HEADER)).unwrap();
}

/// Runs `make ARGS` in `root` and returns its output; panics with it when make fails.
fn make(root: &Path, args: &[&str]) -> String {
    let out = Command::new("make")
        .current_dir(root)
        .args(args)
        .env_remove("MAKEFLAGS")
        .output()
        .unwrap_or_else(|e| panic!("cannot run make ({e}); scripts/test.sh installs it"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "make {args:?} failed:\n{text}");
    text
}

/// `libc_example.so`, built once per test run by the documented command in a scratch copy.
fn plugin() -> &'static Path {
    static PLUGIN: OnceLock<PathBuf> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        let root = util::target_dir().join("c-example-test");
        copy_example(&root);
        make(&root, &["-C", EXAMPLE]);
        root.join(EXAMPLE).join("libc_example.so")
    })
}

/// The schemas `add` declares in c_example.c, as a client must see them.
fn add_input_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "a": {"type": "number", "description": "The first addend"},
            "b": {"type": "number", "description": "The second addend"}
        },
        "required": ["a", "b"],
        "additionalProperties": false
    })
}

/// Lists the tools (`session` in stateful mode) and checks `add` is there, schemas and all.
fn assert_lists_add(server: &util::Server, session: Option<&str>) {
    let list = server.call(&rpc(1, "tools/list", json!({})), session);
    let tools = list["result"]["tools"].as_array().expect("a tool list");
    assert_eq!(tools.len(), 1, "{list}");
    let add = &tools[0];
    assert_eq!(add["name"], "add");
    assert_eq!(add["title"], "Add");
    assert_eq!(add["description"], "Adds two numbers");
    assert_eq!(add["inputSchema"], add_input_schema());
    assert_eq!(
        add["outputSchema"],
        json!({"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]})
    );
    assert_eq!(add["annotations"]["readOnlyHint"], true);
}

/// Calls `add` with `arguments`; returns the JSON-RPC response.
fn add(server: &util::Server, session: Option<&str>, arguments: Value) -> Value {
    server.call(&tool_call(2, "add", arguments), session)
}

/// Checks that `add` answers `arguments` with a tool error whose text contains `reason`.
fn assert_tool_error(server: &util::Server, session: Option<&str>, arguments: Value, reason: &str) {
    let r = add(server, session, arguments.clone());
    assert!(
        r.get("error").is_none(),
        "{arguments} gave a protocol error: {r}"
    );
    assert_eq!(r["result"]["isError"], true, "{arguments}: {r}");
    assert!(text_of(&r).contains(reason), "{arguments}: {r}");
}

/// What every mode must show: the tool, a sum, and tool errors for wrong arguments.
fn check_served(server: &util::Server, session: Option<&str>) {
    assert_lists_add(server, session);

    let r = add(server, session, json!({"a": 2, "b": 3}));
    assert_eq!(text_of(&r), "5", "{r}");
    assert_eq!(r["result"]["structuredContent"], json!({"sum": 5}));
    assert_ne!(r["result"]["isError"], true);

    let r = add(server, session, json!({"b": 0.2, "a": 0.1}));
    assert_eq!(text_of(&r), "0.30000000000000004", "{r}");
    assert_eq!(r["result"]["structuredContent"]["sum"], 0.1 + 0.2);

    assert_tool_error(
        server,
        session,
        json!({"a": "two", "b": 3}),
        "`a` must be a number",
    );
    assert_tool_error(server, session, json!({"a": 2}), "missing `b`");
    assert_tool_error(server, session, json!({}), "missing `a`");
    assert_tool_error(
        server,
        session,
        json!({"a": 1, "b": 2, "c": 3}),
        "unknown argument `c`",
    );
    assert_tool_error(
        server,
        session,
        json!({"a": 1e308, "b": 1e308}),
        "out of range",
    );
    assert_tool_error(
        server,
        session,
        json!({"a": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]], "b": null}),
        "`a` must be a number",
    );
    // Deeper than the C reader recurses (64), though still JSON to every other reader.
    let deep = format!("{{\"a\": {}1{}, \"b\": 1}}", "[".repeat(70), "]".repeat(70));
    let deep: Value = serde_json::from_str(&deep).unwrap();
    assert_tool_error(server, session, deep, "nested too deeply");
}

#[test]
fn fastmcp_dev_serves_the_c_tool_with_its_schemas_statefully() {
    let server = util::serve(plugin(), &[]);
    let session = server.initialize();
    check_served(&server, Some(&session));
}

#[test]
fn fastmcp_dev_serves_the_c_tool_statelessly() {
    let server = util::serve(plugin(), &["--stateless", "true"]);
    check_served(&server, None);
}

#[test]
fn fastmcp_dev_serves_the_c_tool_over_stdio() {
    let mut cmd = Command::new(util::bin());
    cmd.args(["dev", "--transport", "stdio", "--watch=false"])
        .arg(plugin())
        .env_remove("RUST_LOG");
    let input: String = [
        rpc(1, "initialize", util::initialize_params("2025-06-18")),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        rpc(2, "tools/list", json!({})),
        tool_call(3, "add", json!({"a": 40, "b": 2})),
        tool_call(4, "add", json!({"a": true, "b": 2})),
    ]
    .iter()
    .map(|m| format!("{m}\n"))
    .collect();
    // Closing stdin ends the server once it has answered.
    let out = util::run_command_with_input(
        cmd,
        "fastmcp dev --transport stdio",
        Some(&input),
        Duration::from_secs(30),
    );
    let replies: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("only JSON-RPC lines on stdout"))
        .collect();
    let by_id = |id: i64| {
        replies
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no reply {id} in {replies:?}"))
    };
    assert_eq!(
        by_id(2)["result"]["tools"][0]["inputSchema"],
        add_input_schema()
    );
    assert_eq!(text_of(by_id(3)), "42");
    assert_eq!(by_id(4)["result"]["isError"], true);
    assert!(text_of(by_id(4)).contains("`a` must be a number"));
}

#[test]
fn a_call_without_arguments_is_a_tool_error_not_a_crash() {
    let server = util::serve(plugin(), &["--stateless", "true"]);
    let r = server.call(&rpc(3, "tools/call", json!({"name": "add"})), None);
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(text_of(&r).contains("missing `a`"), "{r}");
    // The server is still there and still adds.
    let r = add(&server, None, json!({"a": -1.5, "b": 1}));
    assert_eq!(text_of(&r), "-0.5", "{r}");
}

#[test]
fn fastmcp_inspect_shows_the_c_tool_and_its_arguments() {
    let path = plugin().to_str().unwrap();
    let out = util::run_bin(&["inspect", path], &[], Duration::from_secs(30));
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("c_example 0.1.0"), "{}", out.stdout);
    let row = |name: &str| util::table_row(&out.stdout, name);
    assert!(row("add").contains("Adds two numbers"));
    for (arg, text) in [("a", "The first addend"), ("b", "The second addend")] {
        assert!(row(arg).contains("number"), "{}", out.stdout);
        assert!(row(arg).contains("required"), "{}", out.stdout);
        assert!(row(arg).contains(text), "{}", out.stdout);
    }

    let out = util::run_bin(&["inspect", "--json", path], &[], Duration::from_secs(30));
    assert_eq!(out.code, Some(0), "{out:?}");
    let manifest: Value = serde_json::from_str(&out.stdout).expect("inspect --json prints JSON");
    assert_eq!(manifest["tools"][0]["inputSchema"], add_input_schema());
}

#[test]
fn make_builds_into_the_example_directory_or_out_and_make_clean_removes_it() {
    let scratch = tempfile::tempdir().unwrap();
    copy_example(scratch.path());
    let built = scratch.path().join(EXAMPLE).join("libc_example.so");

    make(scratch.path(), &["-C", EXAMPLE]);
    assert!(built.is_file());
    make(scratch.path(), &["-C", EXAMPLE, "clean"]);
    assert!(!built.exists());

    let out = scratch.path().join("elsewhere");
    std::fs::create_dir(&out).unwrap();
    let out_arg = format!("OUT={}", out.display());
    make(scratch.path(), &["-C", EXAMPLE, &out_arg]);
    assert!(out.join("libc_example.so").is_file());
    assert!(
        !built.exists(),
        "OUT= must not also build in the example directory"
    );
    make(scratch.path(), &["-C", EXAMPLE, &out_arg, "clean"]);
    assert!(!out.join("libc_example.so").exists());
}

#[test]
fn make_check_passes_under_the_sanitizers() {
    let scratch = tempfile::tempdir().unwrap();
    copy_example(scratch.path());
    let out = make(scratch.path(), &["-C", EXAMPLE, "check"]);
    assert!(out.contains("all checks passed"), "{out}");
}
