//! The catalog: an immutable snapshot of what is served (one generation per slot) with its
//! name indexes, built on every load and reload and swapped in by the registry. Two plugins
//! that export the same name are refused here.

use std::collections::HashMap;
use std::sync::Arc;

use rmcp::model::{Prompt, Resource, ResourceTemplate, Tool};
use rustc_hash::FxHashMap;

use super::PluginError;
use super::generation::Generation;
use super::listing::Listed;
use super::manifest::ToolEntry;
use super::skills::Skill;
use super::slot::Slot;

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
