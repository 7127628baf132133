//! Which executable an isolated plugin's child runs: `fastmcp-plugin-host`, found beside the
//! host's own executable, when it is there and from the same build; otherwise the host's own
//! executable as `fastmcp __plugin-host`. Both run [`super::child::run`]; the small one maps a
//! fraction of the pages (`docs/performance.md`, "Isolated plugins").
//!
//! "The same build" is checked once per host process: the small binary prints its
//! [`build`] when run with [`BUILD_FLAG`], and a different one (a `fastmcp-plugin-host` left
//! from an earlier `cargo build` beside a `fastmcp` that `cargo run` rebuilt alone) is not used.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The file name of the child's own binary (a `[[bin]]` of this package).
pub(crate) const PLUGIN_HOST: &str = "fastmcp-plugin-host";

/// The argument that makes `fastmcp-plugin-host` print its [`build`] and exit.
pub const BUILD_FLAG: &str = "--build-id";

/// What must match between a host and the small child binary: the package version and a hash
/// of everything the child compiles (every source file of this crate and of the ABI crate, the
/// manifests, the lock file and the profile: `build.rs`), so that a child built from other
/// sources is never paired with this host, whichever file changed.
pub fn build() -> String {
    format!(
        "{}+{}",
        env!("CARGO_PKG_VERSION"),
        env!("FASTMCP_SOURCE_HASH")
    )
}

/// The program and the arguments before the spec that start a child.
#[derive(Debug, Clone)]
pub(crate) struct ChildExe {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<OsString>,
}

/// The child executable, found once per process. Errors when the host cannot find its own
/// executable.
pub(crate) fn child_exe() -> Result<&'static ChildExe, String> {
    static EXE: OnceLock<Result<ChildExe, String>> = OnceLock::new();
    EXE.get_or_init(|| {
        let own = std::env::current_exe().map_err(|e| format!("cannot find fastmcp: {e}"))?;
        Ok(choose(&own))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// `fastmcp-plugin-host` beside `own` when it is from this build, else `own __plugin-host`.
fn choose(own: &Path) -> ChildExe {
    let small = own.with_file_name(PLUGIN_HOST);
    match build_of(&small) {
        Ok(found) if found == build() => {
            tracing::debug!(child = %small.display(), "isolated plugins run in {PLUGIN_HOST}");
            return ChildExe {
                program: small,
                args: Vec::new(),
            };
        }
        Ok(found) => tracing::warn!(
            child = %small.display(),
            found,
            expected = build(),
            "{PLUGIN_HOST} is from another build than this fastmcp: not using it (rebuild both \
             with `cargo build`); isolated plugins run in `fastmcp __plugin-host`"
        ),
        Err(why) => tracing::debug!(
            child = %small.display(),
            %why,
            "isolated plugins run in `fastmcp __plugin-host`"
        ),
    }
    ChildExe {
        program: own.to_owned(),
        args: vec!["__plugin-host".into()],
    }
}

/// What `path --build-id` prints, or why it could not tell.
fn build_of(path: &Path) -> Result<String, String> {
    if !path.is_file() {
        return Err("not found".into());
    }
    let out = Command::new(path)
        .arg(BUILD_FLAG)
        .env_clear()
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("{BUILD_FLAG} failed: {}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    /// The files the build id's hash covers (`build.rs`).
    const INPUTS: &str = include_str!(concat!(env!("OUT_DIR"), "/source_hash_inputs.txt"));

    /// A plugin host from a build where only the sandbox, the loader or the ABI changed runs
    /// other code than this host expects: those files are in the hash, not just the frames.
    #[test]
    fn the_build_id_covers_all_the_code_the_child_runs() {
        let inputs: Vec<&str> = INPUTS.lines().collect();
        for file in [
            "src/plugin/isolate/child.rs",
            "src/plugin/isolate/wire.rs",
            "src/plugin/library.rs",
            "src/plugin/generation.rs",
            "src/sandbox.rs",
            "src/sandbox/landlock_rules.rs",
            "src/bin/plugin_host.rs",
            "tool-plugins/fastmcp-abi/src/lib.rs",
            "Cargo.lock",
        ] {
            assert!(inputs.contains(&file), "{file} is not hashed: {inputs:?}");
        }
        let id = super::build();
        let (version, hash) = id.split_once('+').expect("VERSION+HASH");
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
        assert_eq!(hash.len(), 16, "{id}");
    }
}
