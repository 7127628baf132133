//! The registry: every configured plugin slot and the catalog of what is served right now.
//!
//! The catalog is an immutable snapshot (generations, name indexes) swapped atomically, so a
//! request takes one lock-free load and then works on a consistent view; a reload builds a new
//! catalog and swaps it in, and calls already running keep their generation.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use super::PluginError;
use super::catalog::Catalog;
use super::generation::Generation;
use super::isolate::{CrashLoop, Isolation};
use super::pool::{PoolOptions, Usage};
use super::slot::Slot;
use crate::sandbox::Policy;

/// Which lists differ between two catalogs (for `list_changed` notifications).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// The tool list changed.
    pub(crate) tools: bool,
    /// The resource or resource-template list changed.
    pub(crate) resources: bool,
    /// The prompt list changed.
    pub(crate) prompts: bool,
}

/// All plugin slots and the catalog being served.
#[derive(Debug)]
pub struct Registry {
    /// Set once, when every plugin has been built and loaded.
    slots: std::sync::OnceLock<Vec<Slot>>,
    /// How many plugins are configured (known before they are built).
    total: usize,
    catalog: ArcSwap<Catalog>,
    /// `true` once [`Registry::load_all`] is done: requests are served from then on, even
    /// while a crate waits for a build that succeeds.
    serving: std::sync::atomic::AtomicBool,
    /// Serialises catalog replacements.
    swap_lock: Mutex<()>,
    /// How the generations of every slot run their worker threads.
    pool: PoolOptions,
    /// Which plugins run in child processes (`--isolate`).
    isolation: Isolation,
    /// When an isolated plugin's crashes make a loop.
    crash_loop: CrashLoop,
    /// The sandbox of isolated plugins, but for the library.
    sandbox: Policy,
}

/// A served plugin whose every worker thread runs a stuck call (for `/ready`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stuck {
    /// The slot's label, as in `reload_errors`.
    pub(crate) plugin: String,
    /// The generation whose workers are stuck.
    pub(crate) generation: u64,
    /// How many calls are stuck (every worker: `--max-blocking-calls`).
    pub(crate) calls: usize,
}

impl Registry {
    /// A registry for `total` plugins, serving nothing until [`Registry::load_all`] succeeds.
    pub fn new(total: usize) -> Registry {
        Registry {
            slots: std::sync::OnceLock::new(),
            total,
            catalog: ArcSwap::from_pointee(Catalog::default()),
            serving: std::sync::atomic::AtomicBool::new(false),
            swap_lock: Mutex::new(()),
            pool: PoolOptions::default(),
            isolation: Isolation::None,
            crash_loop: CrashLoop::default(),
            sandbox: Policy::new(""),
        }
    }

    /// Sets which plugins run in child processes, and when their crashes make a loop (before
    /// [`Registry::load_all`]).
    pub(crate) fn with_isolation(
        mut self,
        isolation: Isolation,
        crash_loop: CrashLoop,
    ) -> Registry {
        self.isolation = isolation;
        self.crash_loop = crash_loop;
        self
    }

    /// Sets the sandbox of isolated plugins' children (`--plugin-*`): `sandbox` with any
    /// library, which each load replaces with its own (before [`Registry::load_all`]). The
    /// default is the strictest: no network, no paths, no limits.
    pub(crate) fn with_sandbox(mut self, sandbox: Policy) -> Registry {
        self.sandbox = sandbox;
        self
    }

    /// Sets how the generations of every slot run their worker threads (before
    /// [`Registry::load_all`]).
    pub(crate) fn with_pool_options(mut self, options: PoolOptions) -> Registry {
        self.pool = options;
        self
    }

    /// Loads every slot and serves them. An [unbuilt](Slot::unbuilt) slot, or one
    /// [waiting for a fix](Slot::waiting_for_fix) whose load fails, serves nothing yet.
    /// Blocking; called once. The first other failure is returned.
    pub fn load_all(&self, mut slots: Vec<Slot>) -> Result<(), PluginError> {
        let mut gens = Vec::with_capacity(slots.len());
        for slot in &mut slots {
            slot.pool = self.pool.clone();
            slot.isolated = self.isolation.covers(&slot.label, &slot.library);
            slot.crash_loop = self.crash_loop;
            slot.sandbox = self.sandbox.clone();
            if slot.unbuilt {
                gens.push(None);
                continue;
            }
            match slot.load() {
                Ok(generation) => gens.push(Some(generation)),
                Err(e) if slot.waits_for_fix => {
                    tracing::error!(plugin = %slot.label, error = %e, "first load failed; serving the other plugins and waiting for a fix");
                    slot.set_last_error(Some(e.to_string()));
                    gens.push(None);
                }
                Err(e) => return Err(e),
            }
        }
        let catalog = Catalog::build(&slots, gens)?;
        let _guard = self.swap_lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.slots.set(slots).is_err() {
            return Ok(());
        }
        self.catalog.store(Arc::new(catalog));
        self.serving.store(true, Ordering::Release);
        Ok(())
    }

    /// Serves `generation` for slot `index` in place of the current one, if its names do not
    /// clash with another plugin's. Returns what changed.
    pub(crate) fn replace(
        &self,
        index: usize,
        generation: Arc<Generation>,
    ) -> Result<Changes, PluginError> {
        let _guard = self.swap_lock.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.catalog.load_full();
        let mut gens = old.generations.clone();
        gens[index] = Some(generation);
        let new = Catalog::build(self.slots(), gens)?;
        let Some(nm) = new.generation(index).map(|g| &g.manifest) else {
            return Ok(Changes::default());
        };
        let changes = match old.generation(index).map(|g| &g.manifest) {
            Some(om) => Changes {
                tools: !same(
                    om.tools.iter().map(|t| &t.tool),
                    nm.tools.iter().map(|t| &t.tool),
                ),
                // A skill file edited to the same length leaves its resource entry as it was;
                // its digest in the skill entry tells.
                resources: om.resources != nm.resources
                    || om.resource_templates != nm.resource_templates
                    || om
                        .skills
                        .iter()
                        .map(|s| &s.entry)
                        .ne(nm.skills.iter().map(|s| &s.entry)),
                prompts: om.prompts != nm.prompts,
            },
            // Served for the first time (its first build had failed): every list it adds to.
            None => Changes {
                tools: !nm.tools.is_empty(),
                resources: !nm.resources.is_empty() || !nm.resource_templates.is_empty(),
                prompts: !nm.prompts.is_empty(),
            },
        };
        self.catalog.store(Arc::new(new));
        Ok(changes)
    }

    /// Rebuilds the catalog after `generation` showed or hid some of its tools or prompts
    /// (`HostContext::set_listed`), if it changed and is still served. Returns what changed.
    pub(crate) fn relist(&self, generation: &Generation) -> Result<Changes, PluginError> {
        if !generation.listing().take_dirty() {
            return Ok(Changes::default());
        }
        let _guard = self.swap_lock.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.catalog.load_full();
        if !old.served().any(|g| std::ptr::eq(&**g, generation)) {
            return Ok(Changes::default());
        }
        let new = Catalog::build(self.slots(), old.generations.clone())?;
        let changes = Changes {
            tools: !same(old.tool_defs(), new.tool_defs()),
            resources: false,
            prompts: !same(
                old.prompts.iter().map(|(_, p)| p),
                new.prompts.iter().map(|(_, p)| p),
            ),
        };
        self.catalog.store(Arc::new(new));
        Ok(changes)
    }

    /// The catalog being served now.
    pub fn catalog(&self) -> arc_swap::Guard<Arc<Catalog>> {
        self.catalog.load()
    }

    /// The loaded slots (empty until [`Registry::load_all`] succeeded).
    pub(crate) fn slots(&self) -> &[Slot] {
        self.slots.get().map_or(&[], Vec::as_slice)
    }

    /// How many plugins are configured.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// Whether the plugins were loaded and requests are served (see [`Registry::waiting`] for
    /// those still missing).
    pub(crate) fn is_serving(&self) -> bool {
        self.serving.load(Ordering::Acquire)
    }

    /// The slots with nothing served yet (their crate has not built and loaded since startup),
    /// with the last attempt's error.
    pub(crate) fn waiting(&self) -> Vec<(&Slot, String)> {
        let catalog = self.catalog();
        self.slots()
            .iter()
            .enumerate()
            .filter(|(i, _)| catalog.generation(*i).is_none())
            .map(|(_, slot)| (slot, slot.last_error().unwrap_or_default()))
            .collect()
    }

    /// The served plugins whose every worker thread runs a call that overran the tool timeout
    /// (a reload, which brings new threads, clears it). Logs the first time it finds one.
    pub(crate) fn stuck(&self) -> Vec<Stuck> {
        let catalog = self.catalog();
        let slots = self.slots();
        catalog
            .generations
            .iter()
            .zip(slots)
            .filter_map(|(generation, slot)| {
                let generation = generation.as_ref()?;
                let usage: Usage = generation.pool().usage();
                usage.wedged().then(|| Stuck {
                    plugin: slot.label.clone(),
                    generation: generation.id,
                    calls: usage.stuck,
                })
            })
            .collect()
    }

    /// The served isolated plugins whose children crashed in a loop and are not restarted
    /// (for `/ready`; a reload clears it): label, generation and reason.
    pub(crate) fn failed(&self) -> Vec<(String, u64, String)> {
        let catalog = self.catalog();
        let slots = self.slots();
        let served = catalog.generations.iter().zip(slots);
        served
            .filter_map(|(generation, slot)| {
                let generation = generation.as_ref()?;
                let reason = generation.failure()?;
                Some((slot.label.clone(), generation.id, reason))
            })
            .collect()
    }
}

fn same<'a, T: PartialEq + 'a>(
    a: impl Iterator<Item = &'a T>,
    b: impl Iterator<Item = &'a T>,
) -> bool {
    a.eq(b)
}
