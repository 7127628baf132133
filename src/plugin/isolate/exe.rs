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
/// of the sources of the child's side and of the frames between them, so that a child built
/// from other sources of these files is never paired with this host.
pub fn build() -> String {
    const HASH: u64 = fnv1a(
        fnv1a(0xcbf2_9ce4_8422_2325, include_bytes!("child.rs")),
        include_bytes!("wire.rs"),
    );
    format!("{}+{HASH:016x}", env!("CARGO_PKG_VERSION"))
}

/// FNV-1a, at compile time.
const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
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
