//! One configured plugin slot: where its library comes from, how its generations run
//! (worker pool, isolation, sandbox), and how its reloads went. The registry owns the slots.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::PluginError;
use super::generation::Generation;
use super::isolate::{self, CrashLoop};
use super::pool::PoolOptions;
use crate::sandbox::Policy;

/// One configured plugin: where it comes from and how its reloads went.
#[derive(Debug)]
pub struct Slot {
    /// What the user named (a library path or a crate), for messages and `/ready`.
    pub(crate) label: String,
    /// The library file this slot loads.
    pub(crate) library: PathBuf,
    /// For a plugin served from its crate: the crate's `Cargo.toml`, rebuilt on change.
    pub(crate) crate_manifest: Option<PathBuf>,
    /// The last failed reload's message, cleared by a good one.
    last_error: Mutex<Option<String>>,
    /// Its crate's first build failed: [`Registry::load_all`](super::Registry::load_all) serves nothing for it, and the
    /// first rebuild that succeeds loads it (`fastmcp dev CRATE` waits for the fix).
    pub(super) unbuilt: bool,
    /// A failed first load leaves the slot empty instead of failing [`Registry::load_all`](super::Registry::load_all):
    /// a watched crate, which the next rebuild may fix.
    pub(super) waits_for_fix: bool,
    /// Next generation number.
    next_id: AtomicU64,
    /// How every generation of this slot runs its worker threads (set by the registry).
    pub(super) pool: PoolOptions,
    /// Its generations run in child processes (`--isolate`; set by the registry).
    pub(super) isolated: bool,
    /// When an isolated plugin's crashes make a loop (set by the registry).
    pub(super) crash_loop: CrashLoop,
    /// The sandbox of its children, but for the library (set by the registry).
    pub(super) sandbox: Policy,
}

impl Slot {
    /// A slot for `library`, shown to users as `label`.
    pub fn new(label: impl Into<String>, library: impl Into<PathBuf>) -> Slot {
        Slot {
            label: label.into(),
            library: library.into(),
            crate_manifest: None,
            last_error: Mutex::new(None),
            unbuilt: false,
            waits_for_fix: false,
            next_id: AtomicU64::new(1),
            pool: PoolOptions::default(),
            isolated: false,
            crash_loop: CrashLoop::default(),
            sandbox: Policy::new(""),
        }
    }

    /// Marks the slot as built from the crate at `manifest` (watched and rebuilt on change).
    pub(crate) fn with_crate(mut self, manifest: impl Into<PathBuf>) -> Slot {
        self.crate_manifest = Some(manifest.into());
        self
    }

    /// A slot for the crate at `manifest` whose first build failed with `error`: it serves
    /// nothing until a rebuild succeeds. `library` stays empty: only a build can name it.
    pub(crate) fn unbuilt(
        label: impl Into<String>,
        manifest: impl Into<PathBuf>,
        error: String,
    ) -> Slot {
        let mut slot = Slot::new(label, PathBuf::new())
            .with_crate(manifest)
            .waiting_for_fix();
        slot.unbuilt = true;
        slot.set_last_error(Some(error));
        slot
    }

    /// Lets a failed first load leave the slot empty, until a reload succeeds, instead of
    /// failing [`Registry::load_all`](super::Registry::load_all) (for a watched crate: the developer's next save may fix it).
    pub(crate) fn waiting_for_fix(mut self) -> Slot {
        self.waits_for_fix = true;
        self
    }

    /// The message of the last failed reload, if the latest attempt failed.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records the outcome of a reload attempt.
    pub(crate) fn set_last_error(&self, error: Option<String>) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = error;
    }

    /// Loads the slot's library as its next generation. Blocking.
    pub(crate) fn load(&self) -> Result<Arc<Generation>, PluginError> {
        self.load_staged(super::library::stage(&self.library)?)
    }

    /// Loads an already staged copy of the library as the next generation. Blocking.
    pub(crate) fn load_staged(
        &self,
        staged: super::library::Staged,
    ) -> Result<Arc<Generation>, PluginError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if self.isolated {
            let how = isolate::Isolated {
                pool: &self.pool,
                crash_loop: self.crash_loop,
                sandbox: &self.sandbox,
            };
            return isolate::load(staged, id, &self.label, &how);
        }
        let generation = Generation::load_staged(staged, id, self.pool.clone())?;
        generation.pool().set_plugin(&generation.manifest.name);
        Ok(generation)
    }
}
