//! The skills extension (`io.modelcontextprotocol/skills`, SEP-2640): `skills/list`,
//! `skills/get` and `resources/directory/read`, answered from the catalog, and the capability
//! that announces them. Skill files themselves are read with `resources/read`, like any
//! resource of the plugin that ships them.

use rmcp::model::ErrorData;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::{PageParams, Reply, Service, page};
use crate::mcp::jsonrpc;

/// The extension's identifier under `capabilities.extensions`.
pub(crate) const EXTENSION_ID: &str = "io.modelcontextprotocol/skills";
/// The extension's methods.
pub(crate) const METHODS: [&str; 3] = ["skills/list", "skills/get", "resources/directory/read"];

#[derive(Deserialize)]
struct UriPage {
    uri: String,
    cursor: Option<String>,
}

impl Service {
    /// Serves one of [`METHODS`].
    pub(super) fn skills_method(&self, method: &str, params: Option<&RawValue>) -> Reply {
        let cat = self.registry.catalog();
        match method {
            "skills/list" => {
                let p: PageParams = jsonrpc::params(params)?;
                let entries: Vec<&Value> = cat.skills.iter().map(|s| &s.entry).collect();
                let (items, next) = page(&entries, p.cursor.as_deref())?;
                Ok(paged("skills", &items, next))
            }
            "skills/get" => {
                #[derive(Deserialize)]
                struct P {
                    uri: String,
                }
                let p: P = jsonrpc::params(params)?;
                let skill = cat.skill(&p.uri).ok_or_else(|| {
                    ErrorData::invalid_params(
                        format!("No skill is served at {}", p.uri),
                        Some(json!({"uri": p.uri})),
                    )
                })?;
                Ok(json!({"skill": skill.entry}).to_string())
            }
            _ => {
                let p: UriPage = jsonrpc::params(params)?;
                let children = cat.directory(&p.uri).ok_or_else(|| {
                    ErrorData::invalid_params(
                        format!("{} is not a directory resource", p.uri),
                        Some(json!({"uri": p.uri})),
                    )
                })?;
                let children: Vec<&Value> = children.iter().collect();
                let (items, next) = page(&children, p.cursor.as_deref())?;
                Ok(paged("resources", &items, next))
            }
        }
    }

    /// Whether any served plugin ships skills: only then is the extension announced.
    pub(super) fn serves_skills(&self) -> bool {
        !self.registry.catalog().skills.is_empty()
    }
}

fn paged(key: &str, items: &[&Value], next: Option<String>) -> String {
    let mut result = serde_json::Map::new();
    result.insert(key.into(), json!(items));
    if let Some(next) = next {
        result.insert("nextCursor".into(), next.into());
    }
    Value::Object(result).to_string()
}

/// `capabilities` of an `initialize` or `server/discover` result, with the extension announced
/// (`directoryRead`: every skill directory answers `resources/directory/read`).
pub(crate) fn advertise(result: &str) -> String {
    let Ok(mut obj) = serde_json::from_str::<serde_json::Map<String, Value>>(result) else {
        return result.to_string();
    };
    if let Some(caps) = obj.get_mut("capabilities").and_then(Value::as_object_mut) {
        let extensions = caps.entry("extensions").or_insert_with(|| json!({}));
        if let Some(extensions) = extensions.as_object_mut() {
            extensions.insert(EXTENSION_ID.into(), json!({"directoryRead": true}));
        }
    }
    Value::Object(obj).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertising_keeps_other_extensions() {
        let raw = r#"{"capabilities":{"resources":{},"extensions":{"x/y":{}}},"serverInfo":{}}"#;
        let v: Value = serde_json::from_str(&advertise(raw)).unwrap();
        assert_eq!(v["capabilities"]["extensions"]["x/y"], json!({}));
        assert_eq!(
            v["capabilities"]["extensions"][EXTENSION_ID],
            json!({"directoryRead": true})
        );
        assert_eq!(v["capabilities"]["resources"], json!({}));
    }

    #[test]
    fn pages_carry_a_cursor_only_when_more_follow() {
        let a = json!(1);
        let parse = |s: String| serde_json::from_str::<Value>(&s).unwrap();
        assert_eq!(parse(paged("skills", &[&a], None)), json!({"skills": [1]}));
        assert_eq!(
            parse(paged("resources", &[], Some("100".into()))),
            json!({"resources": [], "nextCursor": "100"})
        );
    }
}
