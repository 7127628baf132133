//! `skills!("dir")`: embeds a directory of Agent Skills (one subdirectory per skill, each with a
//! `SKILL.md`) into the plugin at build time.
//!
//! The directory is walked here, relative to the plugin crate's `CARGO_MANIFEST_DIR`. Every file
//! becomes an `include_bytes!` of its absolute path, so editing a file rebuilds the plugin; the
//! `SKILL.md` frontmatter is parsed and checked now (a mistake is a compile error naming the
//! file), and each file's SHA-256 digest and size are computed now, so the plugin does no work
//! at load. A file added later is only seen when the crate is rebuilt for another reason: a
//! `build.rs` with `cargo:rerun-if-changed=<dir>` makes cargo watch the directory itself.

mod frontmatter;

use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;
use sha2::{Digest, Sha256};
use syn::LitStr;

/// What the skills extension lets a host refuse: more files or bytes than this in one skill.
const MAX_FILES: usize = 512;
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// One file of a skill, read and hashed.
struct File {
    /// Relative to the skill's directory, `/`-separated.
    path: String,
    absolute: PathBuf,
    size: u64,
    digest: String,
    mime_type: &'static str,
}

/// Expands `skills!("dir")`.
pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let lit: LitStr = syn::parse2(input)?;
    let span = lit.span();
    let fail = |message: String| syn::Error::new(span, message);
    let base = std::env::var("CARGO_MANIFEST_DIR")
        .map_err(|_| fail("skills!: CARGO_MANIFEST_DIR is not set (build with cargo)".into()))?;
    let root = Path::new(&base).join(lit.value());
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .map_err(|e| fail(format!("skills!: cannot read {}: {e}", root.display())))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.is_dir() && !hidden(p))
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(fail(format!(
            "skills!: {} has no skill directories (each skill is a directory with a SKILL.md)",
            root.display()
        )));
    }
    let skills = dirs
        .iter()
        .map(|dir| skill(dir).map_err(fail))
        .collect::<syn::Result<Vec<_>>>()?;
    Ok(quote! {{
        const SKILLS: &[::fastmcp_sdk::SkillDef] = &[#(#skills),*];
        ::fastmcp_sdk::Skills::new(SKILLS)
    }})
}

/// The `SkillDef` of one skill directory, or what is wrong with it.
fn skill(dir: &Path) -> Result<TokenStream, String> {
    let skill_md = dir.join("SKILL.md");
    let shown = skill_md.display();
    let text = fs::read_to_string(&skill_md).map_err(|e| format!("skills!: {shown}: {e}"))?;
    let map = frontmatter::parse(&text).map_err(|e| format!("skills!: {shown}: {e}"))?;
    let (name, description) =
        frontmatter::required(&map).map_err(|e| format!("skills!: {shown}: {e}"))?;
    check_name(name).map_err(|e| format!("skills!: {shown}: {e}"))?;
    let dir_name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if dir_name != name {
        return Err(format!(
            "skills!: {shown}: the frontmatter name `{name}` must equal its directory's name `{dir_name}`"
        ));
    }
    let mut files = Vec::new();
    walk(dir, "", &mut files)?;
    files.sort_by(|a, b| (a.path != "SKILL.md", &a.path).cmp(&(b.path != "SKILL.md", &b.path)));
    let total: u64 = files.iter().map(|f| f.size).sum();
    if files.len() > MAX_FILES || total > MAX_BYTES {
        return Err(format!(
            "skills!: {}: {} files and {total} bytes; a skill may have at most {MAX_FILES} files \
             and {MAX_BYTES} bytes (the skills extension's limits)",
            dir.display(),
            files.len()
        ));
    }
    let json = serde_json::Value::Object(map.clone()).to_string();
    let files = files.iter().map(|f| {
        let path = &f.path;
        let uri = format!("skill://{name}/{path}");
        let absolute = f.absolute.to_string_lossy().into_owned();
        let (digest, mime_type) = (&f.digest, f.mime_type);
        quote! {
            ::fastmcp_sdk::SkillFile {
                path: #path,
                uri: #uri,
                bytes: ::core::include_bytes!(#absolute),
                digest: #digest,
                mime_type: #mime_type,
            }
        }
    });
    let uri = format!("skill://{name}/SKILL.md");
    Ok(quote! {
        ::fastmcp_sdk::SkillDef {
            name: #name,
            description: #description,
            uri: #uri,
            frontmatter: #json,
            files: &[#(#files),*],
        }
    })
}

/// Adds every file under `dir` (hidden ones skipped) to `files`, with paths under `prefix`.
fn walk(dir: &Path, prefix: &str, files: &mut Vec<File>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("skills!: {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("skills!: {}: {e}", dir.display()))?;
        let path = entry.path();
        if hidden(&path) {
            continue;
        }
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| segment_ok(n)) else {
            return Err(format!(
                "skills!: {}: file names in a skill must be URI-safe (letters, digits, `-._~`)",
                path.display()
            ));
        };
        let relative = format!("{prefix}{name}");
        if path.is_dir() {
            walk(&path, &format!("{relative}/"), files)?;
            continue;
        }
        let bytes = fs::read(&path).map_err(|e| format!("skills!: {}: {e}", path.display()))?;
        let hex: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        files.push(File {
            mime_type: mime_type(&relative, &bytes),
            path: relative,
            absolute: path,
            size: bytes.len() as u64,
            digest: format!("sha256:{hex}"),
        });
    }
    Ok(())
}

fn hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// A path segment that needs no percent-encoding in a `skill://` URI.
fn segment_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
}

/// The Agent Skills naming rules: 1-64 lowercase letters, digits and hyphens, no hyphen at
/// either end and no two in a row.
fn check_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the name `{name}` breaks the Agent Skills naming rules (1-64 lowercase letters, \
             digits and hyphens; no hyphen first, last or twice in a row)"
        ))
    }
}

/// The MIME type of a skill file, from its extension (text files default to `text/plain`).
fn mime_type(path: &str, bytes: &[u8]) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("md" | "markdown") => "text/markdown",
        Some("txt") => "text/plain",
        Some("py") => "text/x-python",
        Some("sh") => "text/x-shellscript",
        Some("js" | "mjs") => "text/javascript",
        Some("json") => "application/json",
        Some("yaml" | "yml") => "application/yaml",
        Some("toml") => "application/toml",
        Some("html" | "htm") => "text/html",
        Some("csv") => "text/csv",
        Some("xml") => "application/xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        _ if std::str::from_utf8(bytes).is_ok() => "text/plain",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_agent_skills_rules() {
        for good in ["pdf-processing", "a", "x1", &"a".repeat(64)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "a--b", "Upper", "sp ace", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_skill_without_frontmatter_name_is_refused_with_its_file() {
        let dir = std::env::temp_dir().join(format!("fastmcp-skills-test-{}", std::process::id()));
        let skill = dir.join("broken");
        fs::create_dir_all(&skill).unwrap();
        fs::write(skill.join("SKILL.md"), "---\ndescription: no name\n---\n").unwrap();
        let error = super::skill(&skill).unwrap_err();
        assert!(error.contains("broken/SKILL.md"), "{error}");
        assert!(error.contains("no `name`"), "{error}");
        fs::write(
            skill.join("SKILL.md"),
            "---\nname: other\ndescription: d\n---\n",
        )
        .unwrap();
        let error = super::skill(&skill).unwrap_err();
        assert!(
            error.contains("must equal its directory's name `broken`"),
            "{error}"
        );
        fs::write(skill.join("SKILL.md"), "# no frontmatter\n").unwrap();
        assert!(
            super::skill(&skill)
                .unwrap_err()
                .contains("does not begin with `---`")
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
