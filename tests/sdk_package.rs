//! The SDK crates as crates.io would get them: `cargo package` of `fastmcp-abi`,
//! `fastmcp-sdk-macros` and `fastmcp-sdk` (in dependency order, unverified: CI verifies) must
//! succeed, and each `.crate` must carry its README and the metadata crates.io shows.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::scaffold::shared_target;
use crate::util;

/// The SDK crates, dependencies first.
pub(crate) const SDK_CRATES: [&str; 3] = ["fastmcp-abi", "fastmcp-sdk-macros", "fastmcp-sdk"];

/// Packages the SDK crates once per test run; returns the directory holding the `.crate` files.
fn packaged() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = shared_target().join("sdk-package");
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(util::root())
            .args(["package", "--no-verify", "--allow-dirty"])
            .args(SDK_CRATES.iter().flat_map(|c| ["-p", c]))
            .env("CARGO_TARGET_DIR", &target);
        let out = util::run_command(cmd, "cargo package", Duration::from_secs(300));
        assert_eq!(out.code, Some(0), "cargo package:\n{}", out.stderr);
        target.join("package")
    })
}

/// The `.crate` file of `name` (a name followed by `-` and a digit, so that `fastmcp-sdk`
/// does not match `fastmcp-sdk-macros`).
fn crate_file(name: &str) -> PathBuf {
    let prefix = format!("{name}-");
    std::fs::read_dir(packaged())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let file = p.file_name().unwrap().to_str().unwrap();
            file.ends_with(".crate")
                && file
                    .strip_prefix(&prefix)
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .unwrap_or_else(|| panic!("no {name}-VERSION.crate in {}", packaged().display()))
}

/// `tar ARGS FILE`: its listing with `-tzf`, a member's text with `-xzOf FILE MEMBER`.
fn tar(args: &[&str], file: &Path) -> String {
    let mut cmd = Command::new("tar");
    cmd.args(&args[..1]).arg(file).args(&args[1..]);
    let out = util::run_command(cmd, "tar", Duration::from_secs(30));
    assert_eq!(
        out.code,
        Some(0),
        "tar {args:?} {}: {}",
        file.display(),
        out.stderr
    );
    out.stdout
}

/// The packaged crate's `Cargo.toml`, as cargo rewrote it for crates.io.
fn packaged_manifest(file: &Path) -> String {
    let base = file.file_stem().unwrap().to_str().unwrap();
    tar(&["-xzOf", &format!("{base}/Cargo.toml")], file)
}

#[test]
fn the_sdk_crates_package_with_a_readme_and_crates_io_metadata() {
    for name in SDK_CRATES {
        let file = crate_file(name);
        let base = file.file_stem().unwrap().to_str().unwrap();
        let listing = tar(&["-tzf"], &file);
        for member in ["Cargo.toml", "README.md", "src/lib.rs"] {
            let path = format!("{base}/{member}");
            assert!(listing.lines().any(|l| l == path), "{name}: no {path}");
        }
        let manifest = packaged_manifest(&file);
        for key in [
            "description = \"",
            "license = \"MIT OR Apache-2.0\"",
            "repository = \"https://",
            "readme = \"README.md\"",
            "keywords = [",
            "categories = [",
            "rust-version = \"1.",
        ] {
            assert!(
                manifest.lines().any(|l| l.starts_with(key)),
                "{name}: no `{key}` in the packaged Cargo.toml:\n{manifest}"
            );
        }
        // Published manifests name their dependencies by version only (the macros' path-only
        // dev-dependency on the SDK is dropped); `path`s left are the crate's own files.
        assert!(
            !manifest.contains("path = \"../") && !manifest.contains("dependencies.fastmcp-sdk]"),
            "{name}:\n{manifest}"
        );
    }
    let manifest = packaged_manifest(&crate_file("fastmcp-sdk"));
    // The macros' output uses the SDK's private API: one SDK, one macros release.
    let macros = manifest
        .split("[dependencies.fastmcp-sdk-macros]")
        .nth(1)
        .expect("a fastmcp-sdk-macros dependency");
    assert!(
        macros.trim_start().starts_with("version = \"=0."),
        "{manifest}"
    );
}
