//! Which of a generation's tools and prompts the plugin hides right now.
//!
//! A running call may hide or show its plugin's own tools and prompts
//! (`HostContext::set_listed`, ABI 1.3; the SDK's `Context::set_tool_enabled`). The manifest
//! stays what the plugin declared at load; this set says which of its names are left out of
//! the catalog. A change marks the generation dirty, and the service rebuilds the catalog and
//! sends `list_changed` after the call (`Registry::relist`; for a task's call, through
//! `Service::run_updates`). A reload starts a new generation
//! with nothing hidden, as the plugin's own state starts afresh.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::manifest::Manifest;

/// What a plugin can list: the kinds of `HostContext::set_listed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Listed {
    /// A tool (`LISTED_TOOL`).
    Tool,
    /// A prompt (`LISTED_PROMPT`).
    Prompt,
}

impl Listed {
    /// Its name on the isolated plugins' wire.
    fn as_str(self) -> &'static str {
        match self {
            Listed::Tool => "tool",
            Listed::Prompt => "prompt",
        }
    }

    /// The kind [`Listed::as_str`] names, if any.
    fn from_str(name: &str) -> Option<Listed> {
        match name {
            "tool" => Some(Listed::Tool),
            "prompt" => Some(Listed::Prompt),
            _ => None,
        }
    }

    /// The kind the ABI number names, if any.
    pub(crate) fn from_abi(kind: u32) -> Option<Listed> {
        match kind {
            fastmcp_abi::LISTED_TOOL => Some(Listed::Tool),
            fastmcp_abi::LISTED_PROMPT => Some(Listed::Prompt),
            _ => None,
        }
    }
}

/// One generation's hidden names.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// The names the manifest declares, the only ones that can be shown or hidden.
    known: HashSet<(Listed, String)>,
    hidden: Mutex<HashSet<(Listed, String)>>,
    /// Set by a change, taken by the one who rebuilds the catalog.
    dirty: AtomicBool,
}

impl Listing {
    /// Nothing hidden, for the names of `manifest`.
    pub(crate) fn new(manifest: &Manifest) -> Listing {
        let tools = manifest
            .tools
            .iter()
            .map(|t| (Listed::Tool, t.tool.name.to_string()));
        let prompts = manifest
            .prompts
            .iter()
            .map(|p| (Listed::Prompt, p.name.clone()));
        Listing {
            known: tools.chain(prompts).collect(),
            ..Listing::default()
        }
    }

    /// Shows or hides `name`: whether the set changed, or `None` for a name the manifest
    /// does not declare.
    pub(crate) fn set(&self, kind: Listed, name: &str, listed: bool) -> Option<bool> {
        let key = (kind, name.to_string());
        if !self.known.contains(&key) {
            return None;
        }
        let mut hidden = self.hidden.lock().unwrap_or_else(|e| e.into_inner());
        let changed = if listed {
            hidden.remove(&key)
        } else {
            hidden.insert(key)
        };
        if changed {
            self.dirty.store(true, Ordering::Release);
        }
        Some(changed)
    }

    /// Whether `name` is hidden.
    pub(crate) fn hides(&self, kind: Listed, name: &str) -> bool {
        let hidden = self.hidden.lock().unwrap_or_else(|e| e.into_inner());
        !hidden.is_empty() && hidden.contains(&(kind, name.to_string()))
    }

    /// The names hidden now, as an isolated plugin's child tells its host (`["tool", name]`
    /// pairs in JSON).
    pub(crate) fn hidden_json(&self) -> Vec<u8> {
        let hidden = self.hidden.lock().unwrap_or_else(|e| e.into_inner());
        let pairs: Vec<(&str, &str)> = hidden
            .iter()
            .map(|(kind, name)| (kind.as_str(), name.as_str()))
            .collect();
        serde_json::to_vec(&pairs).unwrap_or_default()
    }

    /// Hides exactly the names of `json` (what [`Listing::hidden_json`] wrote), marking the
    /// listing dirty when that changes anything. Names the manifest does not declare, and an
    /// unreadable payload, change nothing.
    pub(crate) fn replace_from_json(&self, json: &[u8]) {
        let Ok(pairs) = serde_json::from_slice::<Vec<(String, String)>>(json) else {
            return;
        };
        let wanted: HashSet<(Listed, String)> = pairs
            .into_iter()
            .filter_map(|(kind, name)| Some((Listed::from_str(&kind)?, name)))
            .filter(|key| self.known.contains(key))
            .collect();
        let mut hidden = self.hidden.lock().unwrap_or_else(|e| e.into_inner());
        if *hidden != wanted {
            *hidden = wanted;
            self.dirty.store(true, Ordering::Release);
        }
    }

    /// Whether something changed that no catalog serves yet, without taking it.
    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    /// Whether something changed since the last call (one atomic load when nothing did).
    pub(crate) fn take_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire) && self.dirty.swap(false, Ordering::AcqRel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_and_shows_only_declared_names() {
        let mut manifest = crate::plugin::manifest::parse(
            br#"{"name":"p","version":"1","tools":[{"name":"a","inputSchema":{"type":"object"}}]}"#,
        )
        .unwrap();
        manifest.prompts.clear();
        let listing = Listing::new(&manifest);
        assert_eq!(listing.set(Listed::Tool, "nope", false), None);
        assert_eq!(listing.set(Listed::Prompt, "a", false), None);
        assert!(!listing.take_dirty());
        assert_eq!(listing.set(Listed::Tool, "a", false), Some(true));
        assert!(listing.hides(Listed::Tool, "a"));
        assert!(listing.take_dirty());
        assert!(!listing.take_dirty());
        assert_eq!(listing.set(Listed::Tool, "a", false), Some(false));
        assert!(!listing.take_dirty());
        assert_eq!(listing.set(Listed::Tool, "a", true), Some(true));
        assert!(!listing.hides(Listed::Tool, "a"));
    }
}
