//! The skills a plugin ships (the MCP skills extension, SEP-2640), read from its manifest's
//! optional `skills` entries and checked at load.
//!
//! A skill's files are ordinary static resources of the plugin (`skill://<name>/<path>`, read
//! through `resources/read`); the `skills` entry is the index the host serves as `skills/list`
//! and `skills/get`, with the directory tree `resources/directory/read` walks computed here once
//! per load. An older host ignores the key and still serves the files as resources.

use std::collections::{BTreeMap, HashMap, HashSet};

use rmcp::model::Resource;
use serde_json::{Value, json};

/// The URI scheme of skill files.
pub(crate) const SCHEME: &str = "skill://";
/// The MIME type of a directory resource.
pub(crate) const DIRECTORY_MIME: &str = "inode/directory";
/// At most this many files in one skill (the extension's limit, `SKILL.md` included).
pub(crate) const MAX_FILES: usize = 512;
/// At most this many bytes in one skill, summed over its files.
pub(crate) const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// One skill, as the host serves it.
#[derive(Debug, Clone)]
pub(crate) struct Skill {
    /// The frontmatter `name`, the last segment of the skill path.
    pub(crate) name: String,
    /// `skill://<path>/SKILL.md`.
    pub(crate) uri: String,
    /// The wire `Skill` entry (`uri`, `frontmatter`, `resources`), served as is.
    pub(crate) entry: Value,
    /// Every directory of the skill (its root `skill://<path>` and each subdirectory), by URI,
    /// with the `Resource` metadata of its direct children in URI order.
    pub(crate) directories: BTreeMap<String, Vec<Value>>,
}

/// Parses and checks the manifest's `skills` entries against its `resources`, which must hold
/// every file a skill lists. The error names the skill.
pub(crate) fn parse(values: Vec<Value>, resources: &[Resource]) -> Result<Vec<Skill>, String> {
    let by_uri: HashMap<&str, &Resource> = resources.iter().map(|r| (r.uri.as_str(), r)).collect();
    let mut seen = HashSet::new();
    let mut skills = Vec::with_capacity(values.len());
    for (i, value) in values.into_iter().enumerate() {
        let label = match value.get("uri").and_then(Value::as_str) {
            Some(uri) => format!("skill `{uri}`"),
            None => format!("skill #{}", i + 1),
        };
        let skill = parse_one(value, &by_uri).map_err(|e| format!("{label}: {e}"))?;
        if !seen.insert(skill.name.clone()) {
            return Err(format!("{label}: the name `{}` is used twice", skill.name));
        }
        skills.push(skill);
    }
    Ok(skills)
}

fn parse_one(entry: Value, resources: &HashMap<&str, &Resource>) -> Result<Skill, String> {
    let uri = entry
        .get("uri")
        .and_then(Value::as_str)
        .ok_or("`uri` is missing or not a string")?;
    let frontmatter = entry
        .get("frontmatter")
        .and_then(Value::as_object)
        .ok_or("`frontmatter` is missing or not an object")?;
    for key in ["name", "description"] {
        match frontmatter.get(key).and_then(Value::as_str) {
            Some(s) if !s.trim().is_empty() => {}
            _ => return Err(format!("frontmatter `{key}` is missing or empty")),
        }
    }
    let name = frontmatter["name"].as_str().unwrap_or_default();
    let root = uri
        .strip_suffix("/SKILL.md")
        .filter(|r| r.starts_with(SCHEME) && r.len() > SCHEME.len())
        .ok_or("`uri` must be skill://<skill-path>/SKILL.md")?;
    let last = root.rsplit('/').next().unwrap_or_default();
    if last != name {
        return Err(format!(
            "the last segment of the skill path, `{last}`, must equal the frontmatter name `{name}`"
        ));
    }
    if !valid_name(name) {
        return Err(format!(
            "the name `{name}` breaks the Agent Skills naming rules (1-64 lowercase letters, \
             digits and hyphens; no hyphen first, last or twice in a row)"
        ));
    }
    let files = entry
        .get("resources")
        .and_then(Value::as_array)
        .ok_or("`resources` must be the array of the skill's files (\"dynamic\" is not served)")?;
    let (listed, total) = check_files(files, uri, root, resources)?;
    if !listed.contains(uri) {
        return Err("`resources` does not list its SKILL.md".into());
    }
    if files.len() > MAX_FILES || total > MAX_BYTES {
        return Err(format!(
            "{} files and {total} bytes; a skill may have at most {MAX_FILES} files and \
             {MAX_BYTES} bytes",
            files.len()
        ));
    }
    let directories = directories(root, listed.iter().copied(), resources);
    Ok(Skill {
        name: name.to_string(),
        uri: uri.to_string(),
        directories,
        entry,
    })
}

/// Checks the files a skill lists (inside its directory, once each, with a digest and a size,
/// among the plugin's resources); their URIs and total size.
fn check_files<'a>(
    files: &'a [Value],
    uri: &str,
    root: &str,
    resources: &HashMap<&str, &Resource>,
) -> Result<(HashSet<&'a str>, u64), String> {
    let mut listed = HashSet::new();
    let mut total = 0u64;
    for file in files {
        let file_uri = file
            .get("uri")
            .and_then(Value::as_str)
            .ok_or("a file has no `uri`")?;
        if file_uri != uri && !file_uri.starts_with(&format!("{root}/")) {
            return Err(format!(
                "file `{file_uri}` is outside the skill's directory"
            ));
        }
        if !listed.insert(file_uri) {
            return Err(format!("file `{file_uri}` is listed twice"));
        }
        let digest = file
            .get("digest")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !valid_digest(digest) {
            return Err(format!(
                "file `{file_uri}`: digest must be sha256:<64 lowercase hex>"
            ));
        }
        let size = file
            .get("size")
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("file `{file_uri}`: size must be a byte count"))?;
        total = total.saturating_add(size);
        if !resources.contains_key(file_uri) {
            return Err(format!(
                "file `{file_uri}` is not among the plugin's resources"
            ));
        }
    }
    Ok((listed, total))
}

/// The directory tree of a skill rooted at `root`, from its file URIs.
fn directories<'a>(
    root: &str,
    files: impl Iterator<Item = &'a str>,
    resources: &HashMap<&str, &Resource>,
) -> BTreeMap<String, Vec<Value>> {
    let mut children: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    children.insert(root.to_string(), BTreeMap::new());
    for file in files {
        let relative = &file[root.len() + 1..];
        let mut parent = root.to_string();
        let segments: Vec<&str> = relative.split('/').collect();
        for (i, segment) in segments.iter().enumerate() {
            let child = format!("{parent}/{segment}");
            let metadata = if i + 1 == segments.len() {
                resources
                    .get(file)
                    .and_then(|r| serde_json::to_value(r).ok())
                    .unwrap_or_else(|| json!({"uri": file, "name": segment}))
            } else {
                json!({"uri": child, "name": segment, "mimeType": DIRECTORY_MIME})
            };
            children
                .entry(parent.clone())
                .or_default()
                .insert(child.clone(), metadata);
            parent = child;
        }
    }
    children
        .into_iter()
        .map(|(dir, kids)| (dir, kids.into_values().collect()))
        .collect()
}

/// The Agent Skills naming rules.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

fn valid_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    fn resources(uris: &[&str]) -> Vec<Resource> {
        uris.iter()
            .map(|u| serde_json::from_value(json!({"uri": u, "name": u})).unwrap())
            .collect()
    }

    fn entry(name: &str, files: &[&str]) -> Value {
        let files: Vec<Value> = files
            .iter()
            .map(|f| json!({"uri": f, "digest": DIGEST, "size": 3}))
            .collect();
        json!({"uri": format!("skill://{name}/SKILL.md"),
               "frontmatter": {"name": name, "description": "d"}, "resources": files})
    }

    #[test]
    fn directories_list_direct_children_with_subdirectories() {
        let files = [
            "skill://pdf/SKILL.md",
            "skill://pdf/templates/a.md",
            "skill://pdf/templates/eu/b.md",
        ];
        let skills = parse(vec![entry("pdf", &files)], &resources(&files)).unwrap();
        let dirs = &skills[0].directories;
        let uris = |dir: &str| -> Vec<String> {
            dirs[dir]
                .iter()
                .map(|c| c["uri"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            uris("skill://pdf"),
            ["skill://pdf/SKILL.md", "skill://pdf/templates"]
        );
        assert_eq!(dirs["skill://pdf"][1]["mimeType"], DIRECTORY_MIME);
        assert_eq!(
            uris("skill://pdf/templates"),
            ["skill://pdf/templates/a.md", "skill://pdf/templates/eu"]
        );
        assert_eq!(
            uris("skill://pdf/templates/eu"),
            ["skill://pdf/templates/eu/b.md"]
        );
        assert!(!dirs.contains_key("skill://pdf/SKILL.md"));
    }

    #[test]
    fn bad_entries_are_refused_with_the_reason() {
        let files = ["skill://pdf/SKILL.md", "skill://pdf/x.md"];
        let res = resources(&files);
        let refused = |v: Value| parse(vec![v], &res).unwrap_err();
        let mut wrong_name = entry("pdf", &files);
        wrong_name["frontmatter"]["name"] = json!("other");
        assert!(refused(wrong_name).contains("must equal the frontmatter name"));
        assert!(
            refused(entry("pdf", &["skill://pdf/x.md"])).contains("does not list its SKILL.md")
        );
        let unknown = entry("pdf", &["skill://pdf/SKILL.md", "skill://pdf/missing.md"]);
        assert!(refused(unknown).contains("not among the plugin's resources"));
        let outside = entry("pdf", &["skill://pdf/SKILL.md", "skill://other/x.md"]);
        assert!(refused(outside).contains("outside the skill's directory"));
        let mut digest = entry("pdf", &files);
        digest["resources"][0]["digest"] = json!("md5:abc");
        assert!(refused(digest).contains("digest"));
        let mut dynamic = entry("pdf", &files);
        dynamic["resources"] = json!("dynamic");
        assert!(refused(dynamic).contains("\"dynamic\" is not served"));
        let mut big = entry("pdf", &files);
        big["resources"][1]["size"] = json!(MAX_BYTES);
        assert!(refused(big).contains("at most"));
        let twice = parse(vec![entry("pdf", &files), entry("pdf", &files)], &res).unwrap_err();
        assert!(twice.contains("used twice"));
    }
}
