//! Where a new crate's `fastmcp-sdk` comes from.
//!
//! By default a version from crates.io, the SDK release that goes with this `fastmcp`. A
//! binary built from a source checkout (`cargo run`, `cargo build` in the repository) uses
//! that checkout's SDK instead, when it is still there: the checkout may be ahead of any
//! release, and the crate then builds without a registry. `--sdk-path` overrides both.

use std::path::{Path, PathBuf};

use super::ScaffoldError;

/// The version requirement written for the SDK from crates.io. A unit test keeps it in step
/// with `tool-plugins/fastmcp-sdk/Cargo.toml`; it cannot be read from there at build time,
/// because the published `fastmcp` package does not contain the SDK.
pub(crate) const SDK_VERSION: &str = "0.1";

/// The SDK of the checkout this binary was compiled in, if it was compiled in one.
const CHECKOUT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tool-plugins/fastmcp-sdk");

/// The `fastmcp-sdk` dependency of a new crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sdk {
    /// `fastmcp-sdk = "VERSION"`, from crates.io.
    Version(String),
    /// `fastmcp-sdk = { path = "..." }`, an absolute path to the SDK's crate directory.
    Path(PathBuf),
}

/// Why the SDK source was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SdkChoice {
    /// `--sdk-path`.
    Flag,
    /// The checkout this binary was built from.
    Checkout,
    /// Neither: the release on crates.io.
    Registry,
}

/// The SDK for a new crate: `flag` (`--sdk-path`) if given, else the build checkout's SDK if
/// it still exists, else the crates.io release.
pub(crate) fn choose(flag: Option<&Path>) -> Result<(Sdk, SdkChoice), ScaffoldError> {
    if let Some(path) = flag {
        let dir = locate(path).map_err(|reason| ScaffoldError::NotAnSdk {
            path: path.to_path_buf(),
            reason,
        })?;
        return Ok((Sdk::Path(dir), SdkChoice::Flag));
    }
    Ok(choose_default(Path::new(CHECKOUT_SDK)))
}

/// The default choice, given where the build checkout's SDK would be.
fn choose_default(checkout_sdk: &Path) -> (Sdk, SdkChoice) {
    match locate(checkout_sdk) {
        Ok(dir) => (Sdk::Path(dir), SdkChoice::Checkout),
        Err(_) => (Sdk::Version(SDK_VERSION.into()), SdkChoice::Registry),
    }
}

/// The absolute SDK crate directory `path` names: the directory itself, its `Cargo.toml`, or
/// the root of a fastmcp checkout.
fn locate(path: &Path) -> Result<PathBuf, String> {
    let path = std::fs::canonicalize(path).map_err(|e| e.to_string())?;
    let dir = if path.is_file() {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    } else if path.join("tool-plugins/fastmcp-sdk/Cargo.toml").is_file() {
        path.join("tool-plugins/fastmcp-sdk")
    } else {
        path
    };
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .map_err(|e| format!("no Cargo.toml in {}: {e}", dir.display()))?;
    if manifest
        .lines()
        .any(|line| line.replace(' ', "") == "name=\"fastmcp-sdk\"")
    {
        Ok(dir)
    } else {
        Err(format!(
            "{} is not the fastmcp-sdk crate (its Cargo.toml names another package)",
            dir.display()
        ))
    }
}

/// The dependency line for `Cargo.toml`, with a comment saying how to switch.
pub(crate) fn dependency(sdk: &Sdk) -> String {
    match sdk {
        Sdk::Version(v) => format!(
            "# From crates.io. For an unreleased SDK, use a git or path dependency (README.md).\n\
             fastmcp-sdk = \"{v}\""
        ),
        Sdk::Path(p) => format!(
            "# The SDK of a fastmcp checkout. With a released SDK: fastmcp-sdk = \"{SDK_VERSION}\"\n\
             fastmcp-sdk = {{ path = {} }}",
            toml_string(&p.to_string_lossy())
        ),
    }
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdk_dir() -> PathBuf {
        std::fs::canonicalize(CHECKOUT_SDK).unwrap()
    }

    #[test]
    fn the_version_is_the_sdk_crates_version() {
        let manifest = std::fs::read_to_string(Path::new(CHECKOUT_SDK).join("Cargo.toml"))
            .expect("the SDK's Cargo.toml");
        let version = manifest
            .lines()
            .find_map(|l| l.strip_prefix("version = \""))
            .and_then(|v| v.strip_suffix('"'))
            .expect("a version line");
        let req = format!("{SDK_VERSION}.");
        assert!(version.starts_with(&req), "{version} vs {SDK_VERSION}");
    }

    #[test]
    fn a_checkout_build_defaults_to_the_checkouts_sdk() {
        assert_eq!(
            choose(None).unwrap(),
            (Sdk::Path(sdk_dir()), SdkChoice::Checkout)
        );
    }

    #[test]
    fn without_the_checkout_the_default_is_the_release() {
        let gone = tempfile::tempdir()
            .unwrap()
            .path()
            .join("tool-plugins/fastmcp-sdk");
        assert_eq!(
            choose_default(&gone),
            (Sdk::Version(SDK_VERSION.into()), SdkChoice::Registry)
        );
    }

    #[test]
    fn the_flag_takes_the_crate_its_manifest_or_the_checkout_root() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for given in [
            root.join("tool-plugins/fastmcp-sdk"),
            root.join("tool-plugins/fastmcp-sdk/Cargo.toml"),
            root.to_path_buf(),
        ] {
            assert_eq!(
                choose(Some(&given)).unwrap(),
                (Sdk::Path(sdk_dir()), SdkChoice::Flag),
                "{}",
                given.display()
            );
        }
    }

    #[test]
    fn the_flag_refuses_another_crate() {
        let other = Path::new(env!("CARGO_MANIFEST_DIR")).join("tool-plugins/calculator");
        let err = choose(Some(&other)).unwrap_err();
        assert!(
            err.to_string().contains("not the fastmcp-sdk crate"),
            "{err}"
        );
        assert!(err.is_usage());
        let err = choose(Some(Path::new("/nonexistent/sdk"))).unwrap_err();
        assert!(
            err.to_string().starts_with("--sdk-path /nonexistent/sdk: "),
            "{err}"
        );
    }

    #[test]
    fn paths_are_escaped_for_toml() {
        assert_eq!(toml_string(r#"/a "b"\c"#), r#""/a \"b\"\\c""#);
        let line = dependency(&Sdk::Path(PathBuf::from("/x/sdk")));
        assert!(
            line.ends_with("fastmcp-sdk = { path = \"/x/sdk\" }"),
            "{line}"
        );
    }
}
