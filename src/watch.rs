//! File events -> debounced plugin reloads.
//!
//! The notify callback only forwards paths into a bounded channel (watchexec style); an async
//! task maps them to plugin slots, waits for a quiet period after the last event (trailing
//! edge), and reloads on a blocking thread, one reload per slot at a time; events that arrive
//! during a reload schedule another.
//!
//! Libraries are watched through their parent directory, because cargo and `mv` replace the
//! file with a new inode and a watch on the file itself would die with the old one. Crates are
//! watched recursively, ignoring `target/` and hidden or editor-temporary files.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::mcp::Service;
use crate::plugin::reload::{self, Reloaded};

/// Quiet time after the last event on a library before it is reloaded.
pub(crate) const LIBRARY_DEBOUNCE: Duration = Duration::from_millis(50);
/// Quiet time after the last source edit before a crate is rebuilt.
pub(crate) const CRATE_DEBOUNCE: Duration = Duration::from_millis(150);

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WatchError {
    /// The file watcher could not be created or could not watch a directory.
    #[error("cannot watch {path}: {source}")]
    Watch {
        /// The directory.
        path: PathBuf,
        /// The watcher's error.
        source: notify::Error,
    },
}

/// What a slot's events look like.
#[derive(Debug, Clone)]
enum Target {
    /// A library: events on exactly this file name in this directory.
    Library {
        dir: PathBuf,
        name: std::ffi::OsString,
    },
    /// A crate: events on any source file below this directory.
    Crate { dir: PathBuf },
}

impl Target {
    fn matches(&self, path: &Path) -> bool {
        match self {
            Target::Library { dir, name } => {
                path.file_name() == Some(name.as_os_str()) && path.parent() == Some(dir.as_path())
            }
            Target::Crate { dir } => match path.strip_prefix(dir) {
                Ok(rel) => is_source(rel),
                Err(_) => false,
            },
        }
    }

    fn debounce(&self) -> Duration {
        match self {
            Target::Library { .. } => LIBRARY_DEBOUNCE,
            Target::Crate { .. } => CRATE_DEBOUNCE,
        }
    }
}

/// A path inside a crate that can change the build: not under `target/`, not hidden, not an
/// editor's temporary file.
fn is_source(rel: &Path) -> bool {
    let mut parts = rel.components().peekable();
    if parts.peek().is_none() {
        return false;
    }
    for c in rel.components() {
        let Component::Normal(name) = c else {
            return false;
        };
        let name = name.to_string_lossy();
        if name == "target" || name.starts_with('.') {
            return false;
        }
    }
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    !(name.ends_with('~') || name.ends_with(".swp") || name.ends_with(".tmp"))
}

/// The running watcher; dropping it stops watching.
#[derive(Debug)]
pub(crate) struct Watch {
    _watcher: notify::RecommendedWatcher,
}

/// Starts watching every loaded plugin of `service`; reloads use cargo `profile` for crates.
pub(crate) fn spawn(service: Arc<Service>, profile: String) -> Result<Watch, WatchError> {
    let mut targets = Vec::new();
    for slot in service.registry().slots() {
        let target = match &slot.crate_manifest {
            Some(manifest) => {
                let dir = manifest.parent().unwrap_or(Path::new("."));
                Target::Crate {
                    dir: canonical(dir),
                }
            }
            None => Target::Library {
                dir: canonical(slot.library.parent().unwrap_or(Path::new("."))),
                name: slot.library.file_name().unwrap_or_default().to_owned(),
            },
        };
        targets.push(target);
    }
    let (tx, rx) = mpsc::channel::<PathBuf>(1024);
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        for p in event.paths {
            // A full channel means a burst is already being debounced; dropping is fine.
            let _ = tx.try_send(p);
        }
    })
    .map_err(|source| WatchError::Watch {
        path: PathBuf::from("."),
        source,
    })?;
    let mut watched = Vec::new();
    for t in &targets {
        let (dir, mode) = match t {
            Target::Library { dir, .. } => (dir, RecursiveMode::NonRecursive),
            Target::Crate { dir } => (dir, RecursiveMode::Recursive),
        };
        if watched.contains(dir) {
            continue;
        }
        watcher
            .watch(dir, mode)
            .map_err(|source| WatchError::Watch {
                path: dir.clone(),
                source,
            })?;
        tracing::info!(dir = %dir.display(), "watching for plugin changes");
        watched.push(dir.clone());
    }
    tokio::spawn(run(service, profile, targets, rx));
    Ok(Watch { _watcher: watcher })
}

fn canonical(p: &Path) -> PathBuf {
    let p = if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    };
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

async fn run(
    service: Arc<Service>,
    profile: String,
    targets: Vec<Target>,
    mut rx: mpsc::Receiver<PathBuf>,
) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<usize>();
    let mut deadlines: HashMap<usize, Instant> = HashMap::new();
    let mut running = vec![false; targets.len()];
    let mut dirty = vec![false; targets.len()];
    loop {
        let next = deadlines.values().min().copied();
        tokio::select! {
            path = rx.recv() => {
                let Some(path) = path else { return };
                for (i, t) in targets.iter().enumerate() {
                    if t.matches(&path) {
                        deadlines.insert(i, Instant::now() + t.debounce());
                    }
                }
            }
            Some(i) = done_rx.recv() => {
                running[i] = false;
                if std::mem::take(&mut dirty[i]) {
                    deadlines.insert(i, Instant::now());
                }
            }
            () = sleep_until(next) => {
                let now = Instant::now();
                let due: Vec<usize> = deadlines.iter().filter(|(_, d)| **d <= now).map(|(i, _)| *i).collect();
                for i in due {
                    deadlines.remove(&i);
                    if running[i] {
                        dirty[i] = true;
                        continue;
                    }
                    running[i] = true;
                    let service = service.clone();
                    let profile = profile.clone();
                    let done = done_tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let outcome = reload::reload(service.registry(), i, &profile);
                        if let Some(m) = &service.options().metrics
                            && !matches!(outcome, Reloaded::Unchanged)
                        {
                            let catalog = service.registry().catalog();
                            let plugin = catalog
                                .generation(i)
                                .map_or("unknown", |g| g.manifest.name.as_str());
                            m.record_reload(plugin, matches!(outcome, Reloaded::Swapped { .. }));
                        }
                        if let Reloaded::Swapped { changes, .. } = outcome {
                            service.broadcast_list_changed(changes);
                        }
                        let _ = done.send(i);
                    });
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_sources_exclude_target_and_temp_files() {
        assert!(is_source(Path::new("src/lib.rs")));
        assert!(is_source(Path::new("Cargo.toml")));
        assert!(!is_source(Path::new("target/release/libx.so")));
        assert!(!is_source(Path::new(".git/index")));
        assert!(!is_source(Path::new("src/.lib.rs.swp")));
        assert!(!is_source(Path::new("src/lib.rs~")));
    }

    #[test]
    fn library_target_matches_only_its_file() {
        let t = Target::Library {
            dir: PathBuf::from("/a/b"),
            name: "libx.so".into(),
        };
        assert!(t.matches(Path::new("/a/b/libx.so")));
        assert!(!t.matches(Path::new("/a/b/liby.so")));
        assert!(!t.matches(Path::new("/a/c/libx.so")));
    }
}
