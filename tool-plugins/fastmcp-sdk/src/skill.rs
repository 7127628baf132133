//! Skills (the MCP skills extension, SEP-2640): directories of Agent Skills embedded with
//! [`skills!`](crate::skills) and served by the host.
//!
//! Each file of a skill is served as a resource at `skill://<name>/<path>` (read through
//! `resources/read`, answered from the embedded bytes), and the manifest carries one entry per
//! skill: its `SKILL.md` URI, frontmatter and the `{uri, digest, size}` of every file, which the
//! host serves as `skills/list`, `skills/get` and `resources/directory/read` (`docs/abi.md`).

use crate::ResourceContent;

/// One embedded skill, as [`skills!`](crate::skills) writes it.
#[derive(Debug, Clone, Copy)]
pub struct SkillDef {
    /// The frontmatter `name`, also the skill's directory name.
    pub name: &'static str,
    /// The frontmatter `description`.
    pub description: &'static str,
    /// `skill://<name>/SKILL.md`.
    pub uri: &'static str,
    /// The whole frontmatter as a JSON object, exactly as the file's YAML reads.
    pub frontmatter: &'static str,
    /// Every file, `SKILL.md` first.
    pub files: &'static [SkillFile],
}

/// One file of a skill.
#[derive(Debug, Clone, Copy)]
pub struct SkillFile {
    /// The path inside the skill's directory, `/`-separated.
    pub path: &'static str,
    /// `skill://<name>/<path>`.
    pub uri: &'static str,
    /// The content, embedded with `include_bytes!`.
    pub bytes: &'static [u8],
    /// `sha256:<64 lowercase hex digits>` of `bytes`.
    pub digest: &'static str,
    /// The MIME type, from the file's extension.
    pub mime_type: &'static str,
}

impl SkillFile {
    /// The `resources/read` content: text when the bytes are UTF-8, else a base64 blob.
    pub(crate) fn content(&self) -> ResourceContent {
        match std::str::from_utf8(self.bytes) {
            Ok(text) => ResourceContent::text(self.uri, self.mime_type, text),
            Err(_) => ResourceContent::bytes(self.uri, self.mime_type, self.bytes),
        }
    }

    /// The file's name (the last segment of its path).
    pub(crate) fn file_name(&self) -> &'static str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }
}

/// The skills of a directory, as [`skills!`](crate::skills) returns them; add them to a plugin
/// with `export_plugin! { ..., skills: skills!("skills") }` or [`Plugin::skills`](crate::Plugin::skills).
#[derive(Debug, Clone, Copy)]
pub struct Skills(&'static [SkillDef]);

impl Skills {
    /// Wraps the definitions (the macro's output).
    pub const fn new(skills: &'static [SkillDef]) -> Self {
        Self(skills)
    }

    /// The skills, in directory-name order.
    pub fn as_slice(&self) -> &'static [SkillDef] {
        self.0
    }
}
