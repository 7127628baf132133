//! Which executable an isolated plugin's child runs, and starting a child with it: `fastmcp-plugin-host`, found beside the
//! host's own executable, when it is there and from the same build; otherwise the host's own
//! executable as `fastmcp __plugin-host`. Both run [`super::child::run`]; the small one maps a
//! fraction of the pages (`docs/performance.md`, "Isolated plugins").
//!
//! "The same build" is checked once per host process: the small binary prints its
//! [`build`] when run with [`BUILD_FLAG`], and a different one (a `fastmcp-plugin-host` left
//! from an earlier `cargo build` beside a `fastmcp` that `cargo run` rebuilt alone) is not used.

use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use super::child::ChildSpec;

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

/// Starts a child (the executable [`child_exe`] chose) for `spec` with one end of a new socket pair; returns the
/// process (its stderr piped) and the host's end.
pub(crate) fn start_child(spec: &ChildSpec) -> Result<(Child, UnixStream), String> {
    let (host, mut theirs) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    if theirs.as_raw_fd() < 3 {
        // A host started with a closed stdin, stdout or stderr got 0-2 back, which the
        // child's stdio set-up would overwrite: move it up (a duplicate is numbered >= 3).
        theirs = theirs.try_clone().map_err(|e| format!("dup: {e}"))?;
    }
    let mut spec = spec.clone();
    spec.fd = theirs.as_raw_fd();
    spec.parent = std::process::id();
    let spec_json = serde_json::to_string(&spec).map_err(|e| e.to_string())?;
    let exe = child_exe()?;
    let mut cmd = Command::new(&exe.program);
    // The plugin may read its environment: none of the server's own settings (API keys, JWT
    // and state secrets, the session store's URL) are its business. FASTMCP_LOG stays.
    for (name, _) in std::env::vars_os() {
        let name_str = name.to_string_lossy();
        if name_str.starts_with("FASTMCP_") && name_str != "FASTMCP_LOG" {
            cmd.env_remove(&name);
        }
    }
    cmd.args(&exe.args)
        .arg(spec_json)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let fd = spec.fd;
    // SAFETY: between fork and exec only async-signal-safe calls run (fcntl, dup2): the
    // child keeps its socket end across exec, and its stdout goes where its stderr goes.
    unsafe {
        cmd.pre_exec(move || {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::dup2(2, 1) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    };
    let process = super::spawn(cmd).map_err(|e| format!("cannot start the child: {e}"))?;
    drop(theirs);
    Ok((process, host))
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
