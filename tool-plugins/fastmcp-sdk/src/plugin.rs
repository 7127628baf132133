//! [`Plugin`]: the definition of a plugin (its name, version, items and skills), as
//! `export_plugin!` collects it.
//!
//! Each kind of item has its own vector, manifest entries and request method; adding a kind
//! never touches the tool path.

use crate::{
    CompletionDef, PromptDef, ResourceDef, ResourceTemplateDef, SkillDef, Skills, ToolDef,
};

/// A plugin's definition: name, version, tools, resources, resource templates, prompts and
/// completions.
///
/// `export_plugin! { name: ..., version: ..., tools: [...], ... }` builds one; the
/// `export_plugin! { plugin: expr }` form takes one built by hand.
#[derive(Debug, Clone)]
pub struct Plugin {
    pub(crate) name: &'static str,
    pub(crate) version: &'static str,
    pub(crate) tools: Vec<ToolDef>,
    pub(crate) resources: Vec<ResourceDef>,
    pub(crate) resource_templates: Vec<ResourceTemplateDef>,
    pub(crate) prompts: Vec<PromptDef>,
    pub(crate) completions: Vec<CompletionDef>,
    /// Skills embedded with `skills!`, served as `skill://` resources and manifest entries.
    pub(crate) skills: Vec<&'static SkillDef>,
    /// Whether clients may subscribe to this plugin's resources (manifest
    /// `capabilities.subscribe`).
    pub(crate) subscribe: bool,
}

impl Plugin {
    /// A plugin with nothing in it yet.
    pub fn new(name: &'static str, version: &'static str) -> Self {
        Self {
            name,
            version,
            tools: Vec::new(),
            resources: Vec::new(),
            resource_templates: Vec::new(),
            prompts: Vec::new(),
            completions: Vec::new(),
            skills: Vec::new(),
            subscribe: false,
        }
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: ToolDef) -> Self {
        self.tools.push(tool);
        self
    }

    /// Adds a resource.
    pub fn resource(mut self, resource: ResourceDef) -> Self {
        self.resources.push(resource);
        self
    }

    /// Adds a resource template.
    pub fn resource_template(mut self, template: ResourceTemplateDef) -> Self {
        self.resource_templates.push(template);
        self
    }

    /// Adds a prompt.
    pub fn prompt(mut self, prompt: PromptDef) -> Self {
        self.prompts.push(prompt);
        self
    }

    /// Adds a completion.
    pub fn completion(mut self, completion: CompletionDef) -> Self {
        self.completions.push(completion);
        self
    }

    /// Adds skills embedded with [`skills!`](crate::skills).
    pub fn skills(mut self, skills: Skills) -> Self {
        self.skills.extend(skills.as_slice());
        self
    }

    /// Declares that this plugin's resources change and clients may subscribe to them (manifest
    /// `capabilities.subscribe`): the host then forwards `resources/subscribe` and
    /// `resources/unsubscribe` for its URIs, which the SDK answers with `{}` (it keeps no state;
    /// the host tracks who subscribed). The plugin reports changes during its calls with
    /// [`Context::resource_updated`](crate::Context::resource_updated).
    pub fn with_subscribe(mut self, subscribe: bool) -> Self {
        self.subscribe = subscribe;
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

    /// The resources, in the order they were added.
    pub fn resources(&self) -> &[ResourceDef] {
        &self.resources
    }

    /// The resource templates, in the order they were added.
    pub fn resource_templates(&self) -> &[ResourceTemplateDef] {
        &self.resource_templates
    }

    /// The prompts, in the order they were added.
    pub fn prompts(&self) -> &[PromptDef] {
        &self.prompts
    }

    /// The completions, in the order they were added.
    pub fn completions(&self) -> &[CompletionDef] {
        &self.completions
    }

    /// The skills, in the order they were added.
    pub fn skill_defs(&self) -> &[&'static SkillDef] {
        &self.skills
    }
}
