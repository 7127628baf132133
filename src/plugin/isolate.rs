//! Isolated plugins (`--isolate`): a plugin served from a supervised child process, so that a
//! crash (a segfault, an abort, a stack overflow, a failed allocation, an exit) costs only the
//! calls that child held (`docs/architecture.md`, "Isolated plugins").
//!
//! - [`child`]: the child's side (`fastmcp-plugin-host`, or `fastmcp __plugin-host`): loads
//!   the library in-process and serves the host's frames.
//! - `conn`: one running child seen from the host: calls awaited without a thread, the
//!   reader of its frames and its stderr, the crash error.
//! - [`exe`]: which executable a child runs: the small `fastmcp-plugin-host` beside the
//!   host's, from the same build, else the host's own.
//! - `inbox`: reads a child's frames on the server's runtime, without a thread.
//! - `outbox`: writes the host's frames to a child, a turn of the runtime's calls at once.
//! - `death`: how a child died, in words (the crash error), and its last stderr lines.
//! - `supervisor`: starts, restarts (with backoff) and stops one generation's children, and
//!   gives up on a crash loop.
//! - `wire`: the frames on the socket pair between them.
//!
//! From the catalog's point of view an isolated generation is a [`Generation`] like any other:
//! only its backend differs.

use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::pool::PoolOptions;
use super::{Generation, PluginError};
use crate::sandbox::Policy;

pub mod child;
mod conn;
mod death;
pub mod exe;
mod inbox;
mod outbox;
mod supervisor;
mod wire;

pub(crate) use supervisor::Supervisor;

/// Which plugins run isolated (`--isolate`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Isolation {
    /// Every plugin in-process (the default).
    #[default]
    None,
    /// Every plugin in a child process.
    All,
    /// The plugins named (by manifest name, crate or file name) in child processes.
    Only(Vec<String>),
}

impl Isolation {
    /// Reads `--isolate`'s value: `true`/`all`, `false`/`none`, or a comma-separated list of
    /// plugin names.
    pub(crate) fn parse(text: &str) -> Result<Isolation, String> {
        match text.trim() {
            "" => Err("expected true, false, or a comma-separated list of plugin names".into()),
            "true" | "all" | "1" | "yes" => Ok(Isolation::All),
            "false" | "none" | "0" | "no" => Ok(Isolation::None),
            list => {
                let names: Vec<String> = list
                    .split(',')
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty())
                    .collect();
                if names.is_empty() {
                    return Err(format!("{list:?} names no plugin"));
                }
                Ok(Isolation::Only(names))
            }
        }
    }

    /// Whether the plugin of `library` (shown as `label`) runs isolated. A name matches the
    /// library's file name with or without `lib` and extension, with `-` and `_` the same
    /// (cargo writes `my-tool` as `libmy_tool.so`), or the label's last path component.
    pub(crate) fn covers(&self, label: &str, library: &Path) -> bool {
        match self {
            Isolation::None => false,
            Isolation::All => true,
            Isolation::Only(names) => {
                let norm = |s: &str| s.replace('-', "_");
                let stem = library.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                let stem = norm(stem.strip_prefix("lib").unwrap_or(stem));
                let last = Path::new(label)
                    .file_name()
                    .and_then(|s| s.to_str())
                    .map(norm)
                    .unwrap_or_default();
                names.iter().any(|n| norm(n) == stem || norm(n) == last)
            }
        }
    }
}

/// When an isolated plugin's children crash too often to keep restarting them
/// (`--isolate-crash-loop`): this many crashes within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CrashLoop {
    /// Crashes that make a loop.
    pub(crate) crashes: u32,
    /// Within this long.
    pub(crate) window: Duration,
}

impl Default for CrashLoop {
    /// 5 crashes in 30 s.
    fn default() -> Self {
        CrashLoop {
            crashes: 5,
            window: Duration::from_secs(30),
        }
    }
}

/// How an isolated plugin's children run.
pub(crate) struct Isolated<'a> {
    /// Their worker threads.
    pub(crate) pool: &'a PoolOptions,
    /// When their crashes make a loop.
    pub(crate) crash_loop: CrashLoop,
    /// Their sandbox, whatever its library (each child gets its own).
    pub(crate) sandbox: &'a Policy,
}

/// Loads `staged` as generation `id` in a child process of its own, run as `how` says.
/// Blocking: returns once the child sent its manifest.
pub(crate) fn load(
    staged: super::library::Staged,
    id: u64,
    label: &str,
    how: &Isolated<'_>,
) -> Result<Arc<Generation>, PluginError> {
    let path = staged.path.clone();
    let hash = staged.hash;
    let pool = how.pool;
    let spec = child::ChildSpec {
        library: staged.copy_path().to_owned(),
        policy: Some(Policy {
            library: staged.copy_path().to_owned(),
            memory_cgroup: memory_cgroup(how.sandbox, label, id),
            ..how.sandbox.clone()
        }),
        generation: id,
        max_blocking_calls: pool.max_threads,
        tool_timeout_ms: pool
            .stuck_after
            .saturating_sub(super::pool::STUCK_GRACE)
            .as_millis() as u64,
        ..child::ChildSpec::default()
    };
    let isolated = |reason| PluginError::Isolated {
        path: path.clone(),
        reason,
    };
    let (supervisor, manifest) =
        Supervisor::start(staged, spec, label, how.crash_loop).map_err(isolated)?;
    let manifest = super::manifest::parse(&manifest).map_err(|reason| PluginError::Manifest {
        path: path.clone(),
        reason,
    })?;
    let listing = Arc::new(super::listing::Listing::new(&manifest));
    supervisor.set_listing(listing.clone());
    Ok(Generation::isolated(
        id, manifest, hash, &path, supervisor, listing,
    ))
}

/// The cgroup v2 that enforces `--plugin-memory-limit` for generation `id` of `label`, where
/// one is delegated to this server (`sandbox::cgroup`). Its children restart into the same
/// one; the last one removes it when it is asked to exit. `None`: no limit, or no usable
/// cgroup (the child then uses `RLIMIT_AS`; the startup warning said why).
fn memory_cgroup(sandbox: &Policy, label: &str, id: u64) -> Option<std::path::PathBuf> {
    #[cfg(target_os = "linux")]
    {
        let limit = sandbox.memory_limit?;
        let root = crate::sandbox::cgroup::delegated_root().ok()?;
        let stem: String = Path::new(label)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("plugin")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        let child = format!("{stem}-g{id}");
        match crate::sandbox::cgroup::prepare(&root, &child, limit) {
            Ok(dir) => Some(dir),
            Err(e) => {
                tracing::warn!(plugin = %label, "memory limit through RLIMIT_AS: {e}");
                None
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (sandbox, label, id);
        None
    }
}

/// Locks, ignoring poison: every critical section of these modules leaves its data
/// consistent, and a panic elsewhere must not take a child's calls with it.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A job for the spawning thread.
type SpawnJob = Box<dyn FnOnce() + Send>;

/// Starts `cmd` on the one thread that starts every child and never exits: the kernel sends a
/// child its parent-death signal when the *thread* that forked it ends, so a child started
/// from a worker that later exits idle would be killed with it.
fn spawn(mut cmd: Command) -> std::io::Result<Child> {
    static SPAWNER: OnceLock<Option<mpsc::Sender<SpawnJob>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        let run = move || {
            while let Ok(job) = rx.recv() {
                job();
            }
        };
        let started = std::thread::Builder::new()
            .name("fastmcp-spawner".into())
            .spawn(run);
        started.is_ok().then_some(tx)
    });
    let Some(spawner) = spawner else {
        return Err(std::io::Error::other("no thread to start children on"));
    };
    let (tx, rx) = mpsc::sync_channel(1);
    let job: SpawnJob = Box::new(move || {
        let _ = tx.send(cmd.spawn());
    });
    spawner
        .send(job)
        .map_err(|_| std::io::Error::other("the spawning thread is gone"))?;
    rx.recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the spawning thread is gone")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolation_values_and_names() {
        assert_eq!(Isolation::parse("true"), Ok(Isolation::All));
        assert_eq!(Isolation::parse("none"), Ok(Isolation::None));
        assert!(Isolation::parse(" ").is_err());
        assert!(Isolation::parse(",,").is_err());
        let only = Isolation::parse("test-plugin, calc").unwrap();
        let lib = Path::new("/t/libtest_plugin.so");
        assert!(only.covers("/t/libtest_plugin.so", lib));
        assert!(only.covers("/src/calc", Path::new("/t/target/libcalculator.so")));
        assert!(!only.covers("/src/other", Path::new("/t/libother.so")));
        assert!(!Isolation::None.covers("x", lib));
        assert!(Isolation::All.covers("x", lib));
    }
}
