//! The `--plugin-*` settings: the sandbox and limits of isolated plugins
//! ([`SandboxSettings`]), resolved with the others in [`super::Config::resolve`] (flag >
//! `FASTMCP_*` > default). They apply to plugins that run in their own process only; a
//! plugin loaded into the server runs with the server's rights.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::parse::{parse_bool, parse_bytes, parse_positive_duration};
use super::{ConfigError, flag_and_var, get, parse_flag_bool};
use crate::sandbox::{Policy, Support};

/// The smallest `--plugin-memory-limit`: under `RLIMIT_AS` a plugin process needs about this
/// much address space to load the plugin at all (measured: 32 MiB is not enough).
pub(crate) const MIN_PLUGIN_MEMORY: u64 = 64 << 20;

/// What isolated plugins may do and use; [`SandboxSettings::policy`] makes each one's
/// [`Policy`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SandboxSettings {
    /// `--plugin-memory-limit` in bytes; `None`: unlimited.
    pub(crate) memory_limit: Option<u64>,
    /// `--plugin-cpu-limit`: CPU time per call; `None`: unlimited.
    pub(crate) cpu_limit: Option<Duration>,
    /// `--plugin-allow-net`: isolated plugins may use the network.
    pub(crate) allow_net: bool,
    /// `--plugin-allow-path`s, absolute and resolved (they existed at startup).
    pub(crate) allow_paths: Vec<PathBuf>,
}

/// The raw `--plugin-*` values of one source (the flags, or the environment).
#[derive(Debug, Default)]
pub(super) struct RawSandbox {
    pub(super) memory_limit: Option<String>,
    pub(super) cpu_limit: Option<String>,
    pub(super) allow_net: Option<String>,
    /// Flags: one entry per `--plugin-allow-path`; environment: one `:`-separated entry.
    pub(super) allow_paths: Vec<String>,
}

impl SandboxSettings {
    /// The policy of one isolated plugin whose library is `library`.
    pub(crate) fn policy(&self, library: &Path) -> Policy {
        Policy {
            allow_paths: self.allow_paths.clone(),
            allow_net: self.allow_net,
            memory_limit: self.memory_limit,
            cpu_limit: self.cpu_limit,
            ..Policy::new(library)
        }
    }

    /// The loud startup warnings: each protection these settings ask of isolated plugins that
    /// this kernel (`support`, from [`crate::sandbox::probe`]) cannot give.
    pub(crate) fn warnings(&self, support: &Support) -> Vec<String> {
        support.warnings(&self.policy(Path::new("")))
    }

    /// Flags beat the environment, setting by setting; the paths of the flags replace those of
    /// the variable.
    pub(super) fn resolve(flags: RawSandbox, env: RawSandbox) -> Result<Self, ConfigError> {
        let names = |field: &str| flag_and_var(&format!("plugin_{field}"));
        let (mem_flag, mem_var) = names("memory_limit");
        let (cpu_flag, cpu_var) = names("cpu_limit");
        let (net_flag, net_var) = names("allow_net");
        let (path_flag, path_var) = names("allow_path");
        let memory = [(mem_flag, flags.memory_limit), (mem_var, env.memory_limit)];
        let cpu = [(cpu_flag, flags.cpu_limit), (cpu_var, env.cpu_limit)];
        let allow_net = match flags.allow_net {
            Some(v) => get(
                [(net_flag.clone(), Some(v))],
                false,
                parse_flag_bool(&net_flag),
            )?,
            None => get([(net_var, env.allow_net)], false, parse_bool)?,
        };
        let allow_paths = if flags.allow_paths.is_empty() {
            let entries = env
                .allow_paths
                .iter()
                .flat_map(|v| std::env::split_paths(v));
            resolve_paths(&path_var, entries.map(|p| p.to_string_lossy().into_owned()))?
        } else {
            resolve_paths(&path_flag, flags.allow_paths.into_iter())?
        };
        Ok(SandboxSettings {
            memory_limit: get(memory, None, |s| parse_memory_limit(s).map(Some))?,
            cpu_limit: get(cpu, None, |s| parse_positive_duration(s).map(Some))?,
            allow_net,
            allow_paths,
        })
    }
}

fn parse_memory_limit(s: &str) -> Result<u64, String> {
    match parse_bytes(s)? {
        0 => Err("must be greater than 0".into()),
        n if n < MIN_PLUGIN_MEMORY => Err(
            "must be at least 64MiB: a plugin process needs that much address space to load".into(),
        ),
        n => Ok(n),
    }
}

/// Each path must exist now: it is made absolute and resolved, since the plugin's process
/// neither shares our working directory nor may follow a symlink out of what was allowed.
fn resolve_paths(
    name: &str,
    entries: impl Iterator<Item = String>,
) -> Result<Vec<PathBuf>, ConfigError> {
    entries
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            std::fs::canonicalize(&e).map_err(|err| {
                let reason = match err.kind() {
                    std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                    _ => err.to_string(),
                };
                ConfigError::invalid(name, &e, reason)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(argv: &[&str], vars: &[(&str, &str)]) -> Result<SandboxSettings, ConfigError> {
        crate::config::tests::resolve(argv, vars).map(|c| c.sandbox)
    }

    #[test]
    fn defaults_variables_and_flags() {
        assert_eq!(resolve(&["x.so"], &[]).unwrap(), SandboxSettings::default());
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::write(&b, "").unwrap();
        let joined = format!("{}:{}:", a.display(), b.display());
        let vars = [
            ("FASTMCP_PLUGIN_MEMORY_LIMIT", "512MiB"),
            ("FASTMCP_PLUGIN_CPU_LIMIT", "2s"),
            ("FASTMCP_PLUGIN_ALLOW_NET", "true"),
            ("FASTMCP_PLUGIN_ALLOW_PATH", joined.as_str()),
        ];
        let from_env = resolve(&["x.so"], &vars).unwrap();
        let (a, b) = (a.canonicalize().unwrap(), b.canonicalize().unwrap());
        let want = SandboxSettings {
            memory_limit: Some(512 << 20),
            cpu_limit: Some(Duration::from_secs(2)),
            allow_net: true,
            allow_paths: vec![a.clone(), b.clone()],
        };
        assert_eq!(from_env, want);
        let b_flag = format!("--plugin-allow-path={}", b.display());
        let flags = [
            "--plugin-memory-limit=1GiB",
            "--plugin-cpu-limit",
            "500ms",
            "--plugin-allow-net=false",
            b_flag.as_str(),
            "--plugin-allow-path",
            a.to_str().unwrap(),
            "x.so",
        ];
        let from_flags = resolve(&flags, &vars).unwrap();
        let want = SandboxSettings {
            memory_limit: Some(1 << 30),
            cpu_limit: Some(Duration::from_millis(500)),
            allow_net: false,
            allow_paths: vec![b, a.clone()],
        };
        assert_eq!(from_flags, want);
        let policy = from_flags.policy(Path::new("/p/libx.so"));
        assert_eq!(policy.library, Path::new("/p/libx.so"));
        assert_eq!(
            (policy.memory_limit, policy.allow_net),
            (Some(1 << 30), false)
        );
        assert_eq!(policy.allow_paths, from_flags.allow_paths);
        let bare = resolve(&["--plugin-allow-net", "--", "x.so"], &[]).unwrap();
        assert!(bare.allow_net);
    }

    #[test]
    fn bad_values_name_their_source() {
        let cases = [
            (
                "--plugin-memory-limit=0",
                "invalid value \"0\" for --plugin-memory-limit: must be greater than 0",
            ),
            (
                "--plugin-memory-limit=lots",
                "invalid value \"lots\" for --plugin-memory-limit: expected a size",
            ),
            (
                "--plugin-memory-limit=1MiB",
                "invalid value \"1MiB\" for --plugin-memory-limit: must be at least 64MiB",
            ),
            (
                "--plugin-cpu-limit=0",
                "invalid value \"0\" for --plugin-cpu-limit: must be greater than 0",
            ),
            (
                "--plugin-allow-net=maybe",
                "invalid value \"maybe\" for --plugin-allow-net: expected true or false",
            ),
            (
                "--plugin-allow-path=/no/such/fastmcp/dir",
                "invalid value \"/no/such/fastmcp/dir\" for --plugin-allow-path: no such file or directory",
            ),
        ];
        for (flag, want) in cases {
            let err = resolve(&[flag, "x.so"], &[]).unwrap_err().to_string();
            assert!(err.starts_with(want), "{flag}: {err}");
        }
        let vars = [("FASTMCP_PLUGIN_ALLOW_PATH", "/tmp:/no/such/fastmcp/dir")];
        let err = resolve(&["x.so"], &vars).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid value \"/no/such/fastmcp/dir\" for FASTMCP_PLUGIN_ALLOW_PATH: no such file or directory"
        );
        let vars = [("FASTMCP_PLUGIN_CPU_LIMIT", "soon")];
        let err = resolve(&["x.so"], &vars).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid value \"soon\" for FASTMCP_PLUGIN_CPU_LIMIT"),
            "{err}"
        );
    }
}
