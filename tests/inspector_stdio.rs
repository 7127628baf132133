//! The README's "MCP Inspector over stdio" recipes, run as written with the real Inspector
//! (from `tests/clients`): the Inspector launches `fastmcp` as a stdio server from its own
//! command line and lists the calculator's tools. Reading the lines out of the README keeps
//! the recipe from rotting: if the README changes, this test runs the new text.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::util::{self, plugins};

/// The `npx @modelcontextprotocol/inspector --cli ...` lines of the README's Inspector section.
fn recipes() -> Vec<String> {
    let readme = std::fs::read_to_string(util::root().join("README.md")).expect("README.md");
    let section = readme
        .split("### The MCP Inspector over stdio")
        .nth(1)
        .expect("README has an \"MCP Inspector over stdio\" section");
    // The section ends at the next heading (the code block's `# ...` comments are not ones).
    let section = section.split("\n## ").next().unwrap_or(section);
    let section = section.split("\n### ").next().unwrap_or(section);
    section
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("npx @modelcontextprotocol/inspector --cli "))
        .map(str::to_owned)
        .collect()
}

/// Runs one recipe line: `npx PACKAGE` becomes the package's own launcher, `fastmcp` is the
/// binary under test (found on PATH, as a user's would be), and the README's library path is
/// the calculator the tests built.
fn run(line: &str, launcher: &Path, calculator: &Path) -> util::Finished {
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[..2], ["npx", "@modelcontextprotocol/inspector"]);
    let args = words[2..].iter().map(|w| match *w {
        "target/release/libcalculator.so" => calculator.to_str().unwrap(),
        other => other,
    });
    let bin_dir = Path::new(util::bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The Inspector keeps a catalog and a secret store under $HOME: give it a throwaway one.
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("node");
    cmd.arg(launcher)
        .args(args)
        .env("PATH", path)
        .env("HOME", home.path())
        .env("MCP_INSPECTOR_SECRET_STORE", "memory")
        .env_remove("FASTMCP_TRANSPORT")
        .env_remove("PORT");
    util::run_command(cmd, line, Duration::from_secs(60))
}

#[test]
fn the_readmes_inspector_recipes_list_the_tools_over_stdio() {
    let Some(package) = util::node_package("@modelcontextprotocol/inspector") else {
        return;
    };
    let launcher = package.join("clients/launcher/build/index.js");
    let lines = recipes();
    assert_eq!(lines.len(), 2, "the README shows two recipes: {lines:?}");
    for line in &lines {
        let out = run(line, &launcher, &plugins().calculator);
        let report = format!("{line}\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
        assert_eq!(out.code, Some(0), "{report}");
        let listed: serde_json::Value = serde_json::from_str(out.stdout.trim())
            .unwrap_or_else(|e| panic!("the Inspector printed no JSON ({e}): {report}"));
        let names: Vec<&str> = listed["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("no tools: {report}"))
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(names, ["calculate"], "{report}");
    }
}
