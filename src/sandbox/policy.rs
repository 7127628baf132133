//! [`Policy`]: what an isolated plugin's child may do, as the host hands it over (JSON).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What one isolated plugin's child process may touch, and its limits. Built by the host from
/// the `--plugin-*` settings (`config::SandboxSettings::policy`), serialised, and applied by
/// the child with [`super::apply`]. Every path is absolute (the child's working directory is
/// not the operator's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The plugin library the child opens: readable, nothing else.
    pub(crate) library: PathBuf,
    /// `--plugin-allow-path`: files and directories (with everything beneath) the plugin may
    /// read and write.
    #[serde(default)]
    pub(crate) allow_paths: Vec<PathBuf>,
    /// The child's own working directories, created before [`super::apply`] (for example the
    /// directory it stages its copy of the library in): readable and writable like
    /// `allow_paths`, but not the operator's choice.
    #[serde(default)]
    pub(crate) scratch_dirs: Vec<PathBuf>,
    /// `--plugin-allow-net`: leave sockets of every family and TCP alone.
    #[serde(default)]
    pub(crate) allow_net: bool,
    /// `--plugin-memory-limit` in bytes.
    #[serde(default)]
    pub(crate) memory_limit: Option<u64>,
    /// The cgroup v2 directory the host prepared with `memory.max` set to `memory_limit`
    /// ([`super::cgroup::prepare`]); the child moves itself in. Without it the limit is
    /// `RLIMIT_AS`.
    #[serde(default)]
    pub memory_cgroup: Option<PathBuf>,
    /// `--plugin-cpu-limit`: CPU time one call may use ([`super::CpuWatch`]).
    #[serde(default)]
    pub(crate) cpu_limit: Option<Duration>,
}

impl Policy {
    /// The strictest policy for `library`: no network, no paths, no limits.
    pub(crate) fn new(library: impl Into<PathBuf>) -> Policy {
        Policy {
            library: library.into(),
            allow_paths: Vec::new(),
            scratch_dirs: Vec::new(),
            allow_net: false,
            memory_limit: None,
            memory_cgroup: None,
            cpu_limit: None,
        }
    }

    /// Adds a scratch directory (see [`Policy::scratch_dirs`]).
    pub(crate) fn with_scratch_dir(mut self, dir: &Path) -> Policy {
        self.scratch_dirs.push(dir.to_owned());
        self
    }

    /// The policy as the JSON the child reads.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a policy always serialises")
    }

    /// Reads the JSON of [`Policy::to_json`]; the error says what is wrong with it.
    pub fn from_json(json: &str) -> Result<Policy, String> {
        serde_json::from_str(json).map_err(|e| format!("not a sandbox policy: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let mut policy = Policy::new("/x/libp.so").with_scratch_dir(Path::new("/tmp/s"));
        policy.allow_paths.push("/data".into());
        policy.memory_limit = Some(512 << 20);
        policy.cpu_limit = Some(Duration::from_millis(1500));
        assert_eq!(Policy::from_json(&policy.to_json()), Ok(policy));
        let minimal = Policy::from_json(r#"{"library": "/x/libp.so"}"#).unwrap();
        assert_eq!(minimal, Policy::new("/x/libp.so"));
        let err = Policy::from_json(r#"{"allow_net": true}"#).unwrap_err();
        assert!(err.contains("missing field `library`"), "{err}");
    }
}
