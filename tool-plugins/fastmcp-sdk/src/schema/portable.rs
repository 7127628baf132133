//! `null` in generated schemas, written the way every client reads.
//!
//! schemars writes `Option<T>` as `T` plus `null`: `"type": ["string", "null"]`,
//! `"enum": [..., null]`, or `"anyOf": [T, {"type": "null"}]`. Clients that map a tool schema
//! onto a single-`type` dialect (Gemini's OpenAPI subset, some form builders) reject the first
//! two, and the MCP Inspector's portability check warns about type arrays. Yet for an optional
//! property the `null` says nothing useful: absent already means "none". So:
//!
//! - an optional property (not in `required`) loses its `null`: the type array collapses to the
//!   inner type, `null` leaves the `enum`, a `null` branch leaves `anyOf`/`oneOf`, and a
//!   `"default": null` goes (absent is the default);
//! - unless its author asked for nullability with [`nullable`], or the property is required
//!   (an output field that serializes as `null`): then the `null` stays, spelled the portable
//!   way, `"anyOf": [T, {"type": "null"}]`. The same spelling is used wherever else a
//!   `T`-or-`null` type array appears (`Vec<Option<T>>` items, map values).
//!
//! Deserializing is untouched: serde still accepts an explicit `null` for an `Option` field.

use schemars::Schema;
use serde_json::{Map, Value};

/// The mark [`nullable`] leaves on a property's schema; removed before the schema is served.
const KEEP_NULL: &str = "x-fastmcp-nullable";

/// Keywords that describe a schema without constraining it: they stay on the outer schema when
/// its type is split into `anyOf` branches, and the outer one wins when a branch is merged in.
const ANNOTATIONS: [&str; 9] = [
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
    KEEP_NULL,
];

/// Keywords about the document rather than the value: they stay where they are, too.
const DOCUMENT: [&str; 4] = ["$schema", "$id", "$defs", "definitions"];

/// Keywords holding a map of subschemas.
const SCHEMA_MAPS: [&str; 5] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];
/// Keywords holding an array of subschemas.
const SCHEMA_ARRAYS: [&str; 4] = ["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords holding one subschema (`items` may also be an array, before draft 2020-12).
const SCHEMA_ONES: [&str; 11] = [
    "items",
    "additionalItems",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
];

/// Keeps `null` in an optional property's schema: the field accepts an explicit `null` and
/// its schema should say so. Use it as a field attribute,
/// `#[schemars(transform = fastmcp_sdk::nullable)]`, on an `Option<T>` field. The schema is
/// then `{"anyOf": [T, {"type": "null"}]}` instead of `T`.
///
/// ```
/// use fastmcp_sdk::prelude::*;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct RenameArgs {
///     /// The new nickname; `null` removes it
///     #[schemars(transform = fastmcp_sdk::nullable)]
///     nickname: Option<String>,
/// }
/// # fn main() {}
/// ```
///
/// Only the `null` the field's type already has is kept: on a field whose type does not accept
/// `null` (no `Option`) it changes nothing.
pub fn nullable(schema: &mut Schema) {
    schema.insert(KEEP_NULL.into(), Value::Bool(true));
}

/// Rewrites every `null` in a generated schema as the module docs say, at every depth.
pub(crate) fn make_portable(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let required: Vec<String> = match object.get("required") {
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            if !required.contains(name) {
                drop_null(property);
            }
        }
    }
    object.remove(KEEP_NULL);
    split_nullable_type(object);
    for_each_subschema(object, make_portable);
}

/// Calls `visit` on each direct subschema of `object`.
fn for_each_subschema(object: &mut Map<String, Value>, mut visit: impl FnMut(&mut Value)) {
    for (keyword, value) in object.iter_mut() {
        let keyword = keyword.as_str();
        match value {
            Value::Object(map) if SCHEMA_MAPS.contains(&keyword) => {
                map.values_mut().for_each(&mut visit);
            }
            Value::Array(items) if SCHEMA_ARRAYS.contains(&keyword) || keyword == "items" => {
                items.iter_mut().for_each(&mut visit);
            }
            Value::Object(_) if SCHEMA_ONES.contains(&keyword) => visit(value),
            _ => {}
        }
    }
}

/// Removes `null` from an optional property's schema, unless [`nullable`] marked it.
fn drop_null(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if object.contains_key(KEEP_NULL) {
        return;
    }
    if let Some(Value::Array(types)) = object.get_mut("type")
        && types.len() > 1
    {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(values)) = object.get_mut("enum")
        && values.iter().any(|v| !v.is_null())
    {
        values.retain(|v| !v.is_null());
    }
    if object.get("default").is_some_and(Value::is_null) {
        object.remove("default");
    }
    for keyword in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = object.get_mut(keyword) else {
            continue;
        };
        if branches.len() < 2 || !branches.iter().any(is_null_schema) {
            continue;
        }
        branches.retain(|branch| !is_null_schema(branch));
        if branches.len() == 1 {
            let branch = branches.pop().expect("one branch");
            object.remove(keyword);
            merge_branch(object, keyword, branch);
        }
    }
}

/// Whether `schema` is the schema of `null` alone (`{"type": "null"}`, as schemars writes it).
fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").is_some_and(|t| t == "null")
}

/// Puts the only branch left of an `anyOf`/`oneOf` in place of the keyword: its keywords join
/// the outer schema's, whose annotations (the field's description, default) win. A branch
/// whose constraints clash with the outer schema's stays a one-branch `keyword`, which means
/// the same.
fn merge_branch(object: &mut Map<String, Value>, keyword: &str, branch: Value) {
    let Value::Object(inner) = branch else {
        // `true` constrains nothing; `false` (never produced for a type) is kept as it was.
        if branch == Value::Bool(false) {
            object.insert(keyword.into(), Value::Array(vec![branch]));
        }
        return;
    };
    let clashes = inner
        .keys()
        .any(|key| object.contains_key(key) && !ANNOTATIONS.contains(&key.as_str()));
    if clashes {
        object.insert(keyword.into(), Value::Array(vec![Value::Object(inner)]));
        return;
    }
    for (key, value) in inner {
        object.entry(key).or_insert(value);
    }
}

/// Rewrites `"type": [T, "null"]` as `"anyOf": [{"type": T, ...}, {"type": "null"}]`: the
/// constraints move into the `T` branch, the annotations stay outside. An `enum` without
/// `null` means `null` was never accepted: then only `T` is left. Other type arrays (two
/// types besides `null`) are left as they are.
fn split_nullable_type(object: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = object.get("type") else {
        return;
    };
    let others: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
    let [inner_type] = others.as_slice() else {
        return;
    };
    if types.len() != 2 {
        return;
    }
    let inner_type = (*inner_type).clone();
    let null_allowed = match object.get_mut("enum") {
        Some(Value::Array(values)) => {
            let had_null = values.iter().any(Value::is_null);
            values.retain(|v| !v.is_null());
            had_null
        }
        _ => true,
    };
    object.insert("type".into(), inner_type);
    if !null_allowed {
        return;
    }
    let constraints: Vec<String> = object
        .keys()
        .filter(|key| !ANNOTATIONS.contains(&key.as_str()) && !DOCUMENT.contains(&key.as_str()))
        .cloned()
        .collect();
    let mut branch = Map::new();
    for key in constraints {
        let value = object.remove(&key).expect("listed key");
        branch.insert(key, value);
    }
    let null = Value::Object(Map::from_iter([("type".into(), "null".into())]));
    object.insert(
        "anyOf".into(),
        Value::Array(vec![Value::Object(branch), null]),
    );
}

#[cfg(test)]
mod tests;
