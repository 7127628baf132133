//! The Docker recipe for a plugin of one's own (`docs/deployment.md`, "Serve your own plugin",
//! which is the `Dockerfile` that `fastmcp new` writes), without a Docker engine: a crate outside
//! this checkout depends on `fastmcp-sdk` by version and gets it through the documented
//! vendored fallback (the SDK is not on crates.io); the build stage's commands run as written
//! in the crate, which is what `COPY . .` puts in the build stage's `WORKDIR`; then the final
//! stage's command serves the library the build produced, with the image's environment and
//! the `fastmcp` of the image this repository's `Dockerfile` builds (the recipe's default
//! `FASTMCP_IMAGE`), and its `HEALTHCHECK` passes. Both images ship `fastmcp-plugin-host`
//! beside `fastmcp`, so isolated plugins run in the small child.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::docker::{self, Instruction};
use crate::scaffold::{new_crate, pin_versions, shared_target};
use crate::util::{self, text_of, tool_call};

/// Where the fastmcp image puts the process isolated plugins run in: beside `fastmcp`, where
/// the server looks for it.
const PLUGIN_HOST: &str = "/usr/local/bin/fastmcp-plugin-host";

/// How long the build stage may take: it compiles the vendored SDK and the plugin in release.
const BUILD_TIMEOUT: Duration = Duration::from_secs(900);

/// The first fenced block of `lang` after `marker` in `doc`, without the indentation of a
/// list item.
fn block_after<'a>(doc: &'a str, marker: &str, lang: &str) -> String {
    let from = doc
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} in the doc"));
    let rest: &'a str = &doc[from..];
    let fence = format!("```{lang}\n");
    let start = rest
        .find(&fence)
        .unwrap_or_else(|| panic!("a {fence:?} block"))
        + fence.len();
    let body = &rest[start..];
    let lines: Vec<&str> = body.lines().take_while(|l| l.trim() != "```").collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect();
    lines.join("\n") + "\n"
}

/// The shell command of a `RUN`, without its `--mount=...` options.
fn shell_command(run: &Instruction) -> String {
    let mut rest = run.args.trim_start();
    while rest.starts_with("--") {
        rest = rest
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r)
            .trim_start();
    }
    rest.to_string()
}

/// Runs `script` with `sh -e` in `dir`, as written, with cargo's default target directory.
fn sh(dir: &Path, script: &str) {
    let mut cmd = Command::new("sh");
    cmd.args(["-ec", script])
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR");
    let out = util::run_command(cmd, script, BUILD_TIMEOUT);
    assert_eq!(
        out.code,
        Some(0),
        "`{script}` in {}:\n{}\n{}",
        dir.display(),
        out.stdout,
        out.stderr
    );
}

/// A plugin crate outside this checkout, depending on `fastmcp-sdk` by version as the recipe
/// says, with the SDK vendored into it by the documented commands.
fn out_of_tree_crate(doc: &str, dir: &Path) -> PathBuf {
    let krate = dir.join("recipe-demo");
    new_crate(dir, &["recipe-demo", "--path", krate.to_str().unwrap()]);
    let by_version = doc
        .split_once("The plugin depends on `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(dep, _)| dep)
        .expect("the recipe names the SDK dependency");
    assert!(by_version.starts_with("fastmcp-sdk = \""), "{by_version}");
    let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap();
    let manifest: Vec<String> = manifest
        .lines()
        .map(|l| {
            if l.starts_with("fastmcp-sdk = ") {
                by_version.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    let patch = block_after(doc, "**Vendored.**", "toml");
    assert!(patch.starts_with("[patch.crates-io]"), "{patch}");
    std::fs::write(
        krate.join("Cargo.toml"),
        manifest.join("\n") + "\n\n" + &patch,
    )
    .unwrap();

    // The checkout may hold uncommitted work while the tests run; the recipe assumes a clean one.
    let vendor = block_after(doc, "**Vendored.**", "sh")
        .replace("MY_CRATE", krate.to_str().unwrap())
        .replace("--no-verify", "--no-verify --allow-dirty");
    sh(&util::root(), &vendor);
    pin_versions(&krate);
    // `target/` as cargo's default, shared with the other tests' crates so dependencies built
    // once are reused.
    std::fs::create_dir_all(shared_target()).unwrap();
    std::os::unix::fs::symlink(shared_target(), krate.join("target")).unwrap();
    krate
}

#[test]
fn the_plugin_recipe_builds_an_out_of_tree_crate_and_serves_it() {
    let doc = std::fs::read_to_string(util::root().join("docs/deployment.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();

    // The documented recipe is what `fastmcp new` writes, word for word.
    let shown = dir.path().join("my-tools");
    new_crate(dir.path(), &["my-tools", "--path", shown.to_str().unwrap()]);
    let written = std::fs::read_to_string(shown.join("Dockerfile")).unwrap();
    assert_eq!(
        block_after(&doc, "**Serve your own plugin.**", "dockerfile"),
        written
    );
    // And the crate's README gives the same vendoring steps as the doc.
    let readme = std::fs::read_to_string(shown.join("README.md")).unwrap();
    for lang in ["sh", "toml"] {
        assert_eq!(
            block_after(&readme, "under `vendor/`", lang),
            block_after(&doc, "**Vendored.**", lang),
            "the {lang} block"
        );
    }

    let krate = out_of_tree_crate(&doc, dir.path());
    let dockerfile = std::fs::read_to_string(krate.join("Dockerfile")).unwrap();
    let all = docker::instructions(&dockerfile);
    let stage = |name: &str| -> &[Instruction] {
        let from = all
            .iter()
            .position(|i| i.keyword == "FROM" && i.args.ends_with(&format!(" AS {name}")))
            .unwrap_or_else(|| panic!("a stage named {name}"));
        let len = all[from + 1..]
            .iter()
            .take_while(|i| i.keyword != "FROM")
            .count();
        &all[from + 1..from + 1 + len]
    };
    // fastmcp comes from the image this repository's Dockerfile builds, by default.
    let global_arg = |arg: &str| all.iter().any(|i| i.keyword == "ARG" && i.args == arg);
    assert!(global_arg("FASTMCP_IMAGE=fastmcp"), "{all:?}");
    assert!(
        all.iter()
            .any(|i| i.keyword == "FROM" && i.args == "${FASTMCP_IMAGE} AS fastmcp"),
        "{all:?}"
    );
    let root_image = std::fs::read_to_string(util::root().join("Dockerfile")).unwrap();
    let fastmcp_image = docker::parse_image(&root_image, &docker::built);
    for bin in ["/usr/local/bin/fastmcp", PLUGIN_HOST] {
        assert!(fastmcp_image.files.contains_key(bin), "{bin}");
    }

    let build = stage("build");
    let has =
        |keyword: &str, args: &str| build.iter().any(|i| i.keyword == keyword && i.args == args);
    assert!(has("WORKDIR", "/src") && has("COPY", ". ."), "{build:?}");
    let runs: Vec<String> = build
        .iter()
        .filter(|i| i.keyword == "RUN")
        .map(shell_command)
        .collect();
    assert!(
        runs.iter().any(|r| r.starts_with("cargo build")),
        "{runs:?}"
    );
    for command in &runs {
        sh(&krate, command);
    }

    // The final stage, its `COPY --from=...` sources mapped to this build's files.
    let built = |source: &str| -> PathBuf {
        if source == "/usr/local/bin/fastmcp" {
            PathBuf::from(util::bin())
        } else if source == PLUGIN_HOST {
            PathBuf::from(env!("CARGO_BIN_EXE_fastmcp-plugin-host"))
        } else if let Some(rest) = source.strip_prefix("/src/") {
            krate.join(rest)
        } else {
            panic!("the image copies {source}, which no stage produces")
        }
    };
    let image = docker::parse_image(&dockerfile, &built);
    // Isolated plugins run in the small plugin host only when it sits beside `fastmcp`.
    assert!(image.files.contains_key(PLUGIN_HOST), "{:?}", image.files);
    let port = util::free_port();
    let workdir = tempfile::tempdir().unwrap();
    let mut server = image.serve(port, workdir.path());
    let call = tool_call(1, "greet", json!({"name": "Ada"}));
    let reply = server.post_with(&call, &[("host", "mcp.example.com")], None);
    assert_eq!(reply.status(), 200);
    let reply: Value = util::rpc_response(reply);
    assert_eq!(text_of(&reply), "Hello, Ada!", "{reply}");
    assert!(docker::healthy(&image, port), "the HEALTHCHECK fails");
    server.terminate();
    server.assert_exits(0, Duration::from_secs(15));
}
