//! Portable schemas from real derived types (input and output, recursive ones) and the rules
//! on raw schemas that derived types rarely produce.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::schema::{input_schema, output_schema};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Point {
    x: i64,
    y: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
enum Shape {
    Circle { r: f64 },
    Square(f64),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Args {
    name: String,
    /// A nickname
    nickname: Option<String>,
    #[schemars(url)]
    homepage: Option<String>,
    unit: Option<Unit>,
    /// Where
    point: Option<Point>,
    shape: Option<Shape>,
    #[serde(default)]
    steps: Option<u32>,
    #[serde(default = "three")]
    retries: Option<u32>,
    tags: Vec<Option<String>>,
    /// A note; null clears it
    #[schemars(transform = crate::nullable)]
    note: Option<String>,
    #[schemars(transform = crate::nullable)]
    kind: Option<Unit>,
    #[schemars(transform = crate::nullable)]
    count: u32,
}

fn three() -> Option<u32> {
    Some(3)
}

/// Every `type` array in `schema`, wherever it is.
fn type_arrays(schema: &Value, found: &mut Vec<Value>) {
    match schema {
        Value::Object(object) => {
            if let Some(types @ Value::Array(_)) = object.get("type") {
                found.push(types.clone());
            }
            object.values().for_each(|v| type_arrays(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| type_arrays(v, found)),
        _ => {}
    }
}

#[test]
fn optional_properties_are_their_inner_type_without_null() {
    let schema = input_schema::<Args>();
    let p = &schema["properties"];
    assert_eq!(
        p["nickname"],
        json!({"type": "string", "description": "A nickname"})
    );
    assert_eq!(p["homepage"], json!({"type": "string", "format": "uri"}));
    assert_eq!(
        p["unit"],
        json!({"type": "string", "enum": ["celsius", "fahrenheit"]})
    );
    assert_eq!(p["point"]["type"], "object", "{schema}");
    assert_eq!(p["point"]["description"], "Where");
    assert_eq!(p["point"]["required"], json!(["x", "y"]));
    assert!(p["point"].get("anyOf").is_none(), "{schema}");
    let shape = p["shape"]["oneOf"].as_array().expect("the enum's variants");
    assert_eq!(shape.len(), 2, "{schema}");
    // `"default": null` goes with the null; a real default stays.
    assert_eq!(p["steps"], json!({"type": "integer", "minimum": 0}));
    assert_eq!(
        p["retries"],
        json!({"type": "integer", "minimum": 0, "default": 3})
    );
    assert_eq!(schema["required"], json!(["name", "tags", "count"]));
}

#[test]
fn nullable_keeps_null_as_an_any_of_branch() {
    let schema = input_schema::<Args>();
    let p = &schema["properties"];
    assert_eq!(
        p["note"],
        json!({
            "description": "A note; null clears it",
            "anyOf": [{"type": "string"}, {"type": "null"}]
        })
    );
    assert_eq!(
        p["kind"],
        json!({"anyOf": [
            {"type": "string", "enum": ["celsius", "fahrenheit"]},
            {"type": "null"}
        ]})
    );
    // On a type without null it changes nothing.
    assert_eq!(p["count"], json!({"type": "integer", "minimum": 0}));
    // A required place that takes null (an item of `Vec<Option<T>>`) keeps it, spelled the same way.
    assert_eq!(
        p["tags"]["items"],
        json!({"anyOf": [{"type": "string"}, {"type": "null"}]})
    );
    let text = schema.to_string();
    assert!(!text.contains("x-fastmcp"), "{text}");
    let mut arrays = Vec::new();
    type_arrays(&schema, &mut arrays);
    assert!(arrays.is_empty(), "{arrays:?} in {schema}");
}

#[test]
fn an_explicit_null_is_still_accepted() {
    let args: Args = serde_json::from_value(json!({
        "name": "a", "tags": ["x", null], "nickname": null, "unit": null, "point": null,
        "note": null, "count": 1
    }))
    .unwrap();
    assert!(args.nickname.is_none() && args.unit.is_none() && args.point.is_none());
    assert_eq!(args.tags, [Some("x".to_owned()), None]);
}

#[derive(Serialize, JsonSchema)]
struct Reply {
    /// Serialized as null when absent: required, so it keeps null
    always: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sometimes: Option<Point>,
}

#[test]
fn output_fields_keep_null_only_when_it_is_sent() {
    let schema = output_schema::<Reply>();
    let p = &schema["properties"];
    assert_eq!(schema["required"], json!(["always"]));
    assert_eq!(
        p["always"]["anyOf"],
        json!([{"type": "string"}, {"type": "null"}])
    );
    assert_eq!(p["sometimes"]["type"], "object", "{schema}");
    assert!(p["sometimes"].get("anyOf").is_none(), "{schema}");
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Tree {
    label: Option<String>,
    parent: Option<Box<Tree>>,
    other: Option<Box<Forest>>,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Forest {
    name: Option<String>,
    trees: Vec<Tree>,
    next: Option<Box<Forest>>,
}

#[test]
fn definitions_and_references_are_rewritten_too() {
    let schema = input_schema::<Tree>();
    let p = &schema["properties"];
    assert_eq!(p["label"], json!({"type": "string"}));
    assert_eq!(p["parent"], json!({"$ref": "#"}), "{schema}");
    let forest = &schema["$defs"]["Forest"];
    assert_eq!(
        forest["properties"]["name"],
        json!({"type": "string"}),
        "{schema}"
    );
    assert_eq!(
        forest["properties"]["next"],
        json!({"$ref": "#/$defs/Forest"})
    );
    let text = schema.to_string();
    assert!(!text.contains("\"null\""), "{schema}");
}

#[test]
fn rules_on_raw_schemas() {
    let mut schema = json!({
        "type": "object",
        "properties": {
            // An enum of null and one value: only the value is left.
            "one": {"type": ["string", "null"], "enum": ["a", null]},
            // Clashing constraints keep a one-branch anyOf, which means the same.
            "clash": {"type": "object", "anyOf": [{"type": "string"}, {"type": "null"}]},
            // Two types besides null: only null goes.
            "many": {"type": ["string", "integer", "null"]},
            // Anything: nothing to drop.
            "any": true
        },
        "required": [],
        "$defs": {"Inner": {"type": "object", "properties": {"o": {"type": ["number", "null"]}}}}
    });
    super::make_portable(&mut schema);
    let p = &schema["properties"];
    assert_eq!(p["one"], json!({"type": "string", "enum": ["a"]}));
    assert_eq!(
        p["clash"],
        json!({"type": "object", "anyOf": [{"type": "string"}]})
    );
    assert_eq!(p["many"], json!({"type": ["string", "integer"]}));
    assert_eq!(p["any"], json!(true));
    assert_eq!(
        schema["$defs"]["Inner"]["properties"]["o"],
        json!({"type": "number"})
    );
    // A required type array with null whose enum has no null never took null.
    let mut required = json!({"type": ["string", "null"], "enum": ["a"]});
    super::make_portable(&mut required);
    assert_eq!(required, json!({"type": "string", "enum": ["a"]}));
}
