//! The registry: every configured plugin slot and the catalog of what is served right now.
//!
//! The catalog is an immutable snapshot (generations, name indexes) swapped atomically, so a
//! request takes one lock-free load and then works on a consistent view; a reload builds a new
//! catalog and swaps it in, and calls already running keep their generation.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rmcp::model::{Prompt, Resource, ResourceTemplate, Tool};
use rustc_hash::FxHashMap;

use super::PluginError;
use super::generation::Generation;
use super::isolate::{self, CrashLoop, Isolation};
use super::listing::Listed;
use super::manifest::ToolEntry;
use super::pool::{PoolOptions, Usage};
use super::skills::Skill;
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
    /// Its crate's first build failed: [`Registry::load_all`] serves nothing for it, and the
    /// first rebuild that succeeds loads it (`fastmcp dev CRATE` waits for the fix).
    unbuilt: bool,
    /// A failed first load leaves the slot empty instead of failing [`Registry::load_all`]:
    /// a watched crate, which the next rebuild may fix.
    waits_for_fix: bool,
    /// Next generation number.
    next_id: AtomicU64,
    /// How every generation of this slot runs its worker threads (set by the registry).
    pool: PoolOptions,
    /// Its generations run in child processes (`--isolate`; set by the registry).
    isolated: bool,
    /// When an isolated plugin's crashes make a loop (set by the registry).
    crash_loop: CrashLoop,
    /// The sandbox of its children, but for the library (set by the registry).
    sandbox: Policy,
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
    /// failing [`Registry::load_all`] (for a watched crate: the developer's next save may fix it).
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

/// An immutable view of what is served: one generation per slot plus name indexes.
#[derive(Debug, Default)]
pub struct Catalog {
    /// The serving generation of each slot, by slot index; `None` for a crate whose first
    /// build failed and that waits for one that succeeds.
    pub(crate) generations: Vec<Option<Arc<Generation>>>,
    /// All tools in slot order, then plugin order.
    pub(crate) tools: Vec<(usize, ToolEntry)>,
    tool_index: FxHashMap<String, usize>,
    /// Static resources with their slot.
    pub(crate) resources: Vec<(usize, Resource)>,
    resource_index: FxHashMap<String, usize>,
    /// Resource templates with their slot.
    pub(crate) resource_templates: Vec<(usize, ResourceTemplate)>,
    /// Prompts with their slot.
    pub(crate) prompts: Vec<(usize, Prompt)>,
    prompt_index: FxHashMap<String, usize>,
    /// Skills (the skills extension) in slot order, then plugin order.
    pub(crate) skills: Vec<Arc<Skill>>,
    /// `SKILL.md` URI to position in `skills`.
    skill_index: FxHashMap<String, usize>,
    /// Directory URI (a skill's root or one of its subdirectories) to position in `skills`.
    directory_index: FxHashMap<String, usize>,
}

impl Catalog {
    /// Builds a catalog, refusing names that two plugins both export.
    pub(crate) fn build(
        slots: &[Slot],
        generations: Vec<Option<Arc<Generation>>>,
    ) -> Result<Catalog, PluginError> {
        let mut c = Catalog::default();
        let mut tool_owner: HashMap<String, usize> = HashMap::new();
        let mut prompt_owner: HashMap<String, usize> = HashMap::new();
        let mut resource_owner: HashMap<String, usize> = HashMap::new();
        let mut skill_owner: HashMap<String, usize> = HashMap::new();
        let dup = |kind, name: &str, a: usize, b: usize| PluginError::Duplicate {
            kind,
            name: name.to_string(),
            first: slots[a].label.clone(),
            second: slots[b].label.clone(),
        };
        let served = generations
            .iter()
            .enumerate()
            .filter_map(|(slot, g)| Some((slot, g.as_ref()?)));
        for (slot, generation) in served {
            let m = &generation.manifest;
            super::leaks::serving(generation.path(), m.tools.iter().map(|t| &t.inline));
            let listing = generation.listing();
            for entry in &m.tools {
                if listing.hides(Listed::Tool, &entry.tool.name) {
                    continue;
                }
                let name = entry.tool.name.to_string();
                if let Some(&other) = tool_owner.get(&name) {
                    return Err(dup("tool", &name, other, slot));
                }
                tool_owner.insert(name.clone(), slot);
                c.tool_index.insert(name, c.tools.len());
                c.tools.push((slot, entry.clone()));
            }
            for skill in &m.skills {
                // Before resources, whose URIs a same-named skill shares: the error names the
                // skill. Names, not only URIs: hosts show skills by name.
                if let Some(&other) = skill_owner.get(&skill.name) {
                    return Err(dup("skill", &skill.name, other, slot));
                }
                skill_owner.insert(skill.name.clone(), slot);
                c.skill_index.insert(skill.uri.clone(), c.skills.len());
                for dir in skill.directories.keys() {
                    c.directory_index.insert(dir.clone(), c.skills.len());
                }
                c.skills.push(skill.clone());
            }
            for r in &m.resources {
                if let Some(&other) = resource_owner.get(&r.uri) {
                    return Err(dup("resource", &r.uri, other, slot));
                }
                resource_owner.insert(r.uri.clone(), slot);
                c.resource_index.insert(r.uri.clone(), c.resources.len());
                c.resources.push((slot, r.clone()));
            }
            for t in &m.resource_templates {
                c.resource_templates.push((slot, t.clone()));
            }
            for p in &m.prompts {
                if listing.hides(Listed::Prompt, &p.name) {
                    continue;
                }
                if let Some(&other) = prompt_owner.get(&p.name) {
                    return Err(dup("prompt", &p.name, other, slot));
                }
                prompt_owner.insert(p.name.clone(), slot);
                c.prompt_index.insert(p.name.clone(), c.prompts.len());
                c.prompts.push((slot, p.clone()));
            }
        }
        c.generations = generations;
        Ok(c)
    }

    /// The tool named `name` and the generation serving it.
    pub(crate) fn tool(&self, name: &str) -> Option<(&ToolEntry, &Arc<Generation>)> {
        let &i = self.tool_index.get(name)?;
        let (slot, entry) = &self.tools[i];
        Some((entry, self.generation(*slot)?))
    }

    /// The generation serving the static resource `uri`.
    pub(crate) fn resource(&self, uri: &str) -> Option<(&Resource, &Arc<Generation>)> {
        let &i = self.resource_index.get(uri)?;
        let (slot, r) = &self.resources[i];
        Some((r, self.generation(*slot)?))
    }

    /// The generation serving the prompt `name`.
    pub(crate) fn prompt(&self, name: &str) -> Option<(&Prompt, &Arc<Generation>)> {
        let &i = self.prompt_index.get(name)?;
        let (slot, p) = &self.prompts[i];
        Some((p, self.generation(*slot)?))
    }

    /// The skill whose `SKILL.md` is at `uri`.
    pub(crate) fn skill(&self, uri: &str) -> Option<&Skill> {
        self.skill_index.get(uri).map(|&i| &*self.skills[i])
    }

    /// The direct children of the skill directory at `uri` (`resources/directory/read`).
    pub(crate) fn directory(&self, uri: &str) -> Option<&[serde_json::Value]> {
        let &i = self.directory_index.get(uri)?;
        self.skills[i].directories.get(uri).map(Vec::as_slice)
    }

    /// The generation serving slot `slot`, if it has one.
    pub fn generation(&self, slot: usize) -> Option<&Arc<Generation>> {
        self.generations.get(slot)?.as_ref()
    }

    /// Every generation being served, in slot order.
    pub(crate) fn served(&self) -> impl Iterator<Item = &Arc<Generation>> {
        self.generations.iter().flatten()
    }

    /// The MCP tool definitions, in order.
    pub(crate) fn tool_defs(&self) -> impl Iterator<Item = &Tool> {
        self.tools.iter().map(|(_, e)| &e.tool)
    }
}

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
