//! [`Plugin`]: the definition of a plugin (its name, version and items), as `export_plugin!`
//! collects it.
//!
//! Tools are the only kind of item so far. Resources, resource templates, prompts and
//! completions will be further vectors here, with their own manifest entries and request
//! methods; the tool path does not change when they arrive.

use crate::ToolDef;

/// A plugin's definition: name, version and tools.
///
/// `export_plugin! { name: ..., version: ..., tools: [...] }` builds one; the
/// `export_plugin! { plugin: expr }` form takes one built by hand.
#[derive(Debug, Clone)]
pub struct Plugin {
    pub(crate) name: &'static str,
    pub(crate) version: &'static str,
    pub(crate) tools: Vec<ToolDef>,
}

impl Plugin {
    /// A plugin with no tools yet.
    pub fn new(name: &'static str, version: &'static str) -> Self {
        Self {
            name,
            version,
            tools: Vec::new(),
        }
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: ToolDef) -> Self {
        self.tools.push(tool);
        self
    }

    /// The plugin's name (also the `logger` of its log messages).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The plugin's version.
    pub fn version(&self) -> &'static str {
        self.version
    }

    /// The tools, in the order they were added.
    pub fn tools(&self) -> &[ToolDef] {
        &self.tools
    }
}
