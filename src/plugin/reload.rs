//! Replacing a served plugin with a new version of its file (or a rebuild of its crate).
//!
//! A reload reads the file once, skips it when the bytes are the ones already served, loads
//! the new generation beside the old one and swaps the catalog. Any failure (a file caught
//! half-written, a wrong ABI, an invalid manifest, a name clash with another plugin, a compile
//! error) is recorded on the slot and the previous generation keeps serving.

use std::time::Instant;

use super::manifest::Manifest;
use super::{Changes, PluginError, Registry, build};

/// How a reload attempt ended.
#[derive(Debug)]
pub enum Reloaded {
    /// The file is byte-for-byte the one being served: nothing to do.
    Unchanged,
    /// A new generation serves now.
    Swapped {
        /// Its generation number.
        generation: u64,
        /// Which lists changed, for `list_changed` notifications.
        changes: Changes,
    },
    /// The old generation keeps serving; the slot records the error.
    Failed(String),
}

/// Names added, removed and changed between two manifests' tools.
fn tool_diff(old: &Manifest, new: &Manifest) -> (Vec<String>, Vec<String>, Vec<String>) {
    let find = |m: &Manifest, n: &str| {
        m.tools
            .iter()
            .find(|t| t.tool.name == n)
            .map(|t| t.tool.clone())
    };
    let mut added = Vec::new();
    let mut changed = Vec::new();
    for t in &new.tools {
        match find(old, &t.tool.name) {
            None => added.push(t.tool.name.to_string()),
            Some(o) if o != t.tool => changed.push(t.tool.name.to_string()),
            Some(_) => {}
        }
    }
    let removed = old
        .tools
        .iter()
        .filter(|t| find(new, &t.tool.name).is_none())
        .map(|t| t.tool.name.to_string())
        .collect();
    (added, removed, changed)
}

/// Rebuilds (for a crate slot) and reloads slot `index`. Blocking.
///
/// Logs one line for the outcome: `plugin reloaded` (or `plugin loaded`, for a crate whose
/// first build had failed), `unchanged, not reloaded` or `reload failed`. `build_ms` is
/// cargo's time, `load_ms` the time from the built file to serving it.
pub fn reload(registry: &Registry, index: usize, profile: &str) -> Reloaded {
    let Some(slot) = registry.slots().get(index) else {
        return Reloaded::Failed(format!("no plugin slot {index}"));
    };
    let mut library = slot.library.clone();
    let mut build_ms = None;
    if let Some(manifest) = &slot.crate_manifest {
        tracing::info!(plugin = %slot.label, "rebuilding plugin crate");
        match build::cargo_build(manifest, profile, false) {
            Ok(out) => {
                build_ms = Some(millis(out.elapsed));
                // The build names the library: a crate whose first build failed had none.
                library = out.library;
            }
            Err(e) => return fail(slot, PluginError::from(e)),
        }
    }
    let started = Instant::now();
    let staged = match super::library::stage(&library) {
        Ok(s) => s,
        Err(e) => return fail(slot, e),
    };
    let old = registry.catalog().generation(index).cloned();
    // An isolated plugin that crashed in a loop is started afresh even from the same bytes:
    // a reload is how the operator says "try again" (the crash may have come from outside).
    if old
        .as_ref()
        .is_some_and(|g| g.content_hash == staged.hash && g.failure().is_none())
    {
        // Nothing changed; a previous failure no longer applies to the file on disk.
        slot.set_last_error(None);
        tracing::info!(plugin = %slot.label, build_ms, "unchanged, not reloaded");
        return Reloaded::Unchanged;
    }
    let new = match slot.load_staged(staged) {
        Ok(g) => g,
        Err(e) => return fail(slot, e),
    };
    let generation = new.id;
    let (added, removed, changed) = match &old {
        Some(o) => tool_diff(&o.manifest, &new.manifest),
        None => (tool_names(&new.manifest), Vec::new(), Vec::new()),
    };
    match registry.replace(index, new) {
        Ok(changes) => {
            slot.set_last_error(None);
            tracing::info!(
                plugin = %slot.label,
                generation,
                added = ?added,
                removed = ?removed,
                changed = ?changed,
                build_ms,
                load_ms = millis(started.elapsed()),
                "{}",
                if old.is_some() { "plugin reloaded" } else { "plugin loaded" }
            );
            Reloaded::Swapped {
                generation,
                changes,
            }
        }
        Err(e) => fail(slot, e),
    }
}

/// Milliseconds, with a fraction: a reload of a small library takes well under one.
fn millis(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn tool_names(m: &Manifest) -> Vec<String> {
    m.tools.iter().map(|t| t.tool.name.to_string()).collect()
}

fn fail(slot: &super::Slot, e: PluginError) -> Reloaded {
    let msg = e.to_string();
    tracing::error!(plugin = %slot.label, error = %msg, "reload failed; the previous version keeps serving");
    slot.set_last_error(Some(msg.clone()));
    Reloaded::Failed(msg)
}
