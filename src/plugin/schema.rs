//! A JSON Schema subset, compiled once per tool from its `outputSchema`, that checks a tool's
//! `structuredContent` before it is forwarded.
//!
//! Checked keywords: `type` (one or a list; `integer` is a number without a fraction),
//! `properties`, `required`, `additionalProperties` (boolean or schema), `items`, `enum`,
//! `const`, `allOf`, `anyOf`, `oneOf`, `minimum`, `maximum`, boolean schemas, and `$ref` to the
//! document's own `#/$defs/...` or `#/definitions/...` (what schemars writes for nested types).
//! Every other keyword (formats, patterns, lengths, conditionals) is accepted unchecked: the
//! point is to catch a plugin whose reply does not have the shape it declared, not to be a full
//! validator. A `$ref` that cannot be resolved makes the whole schema unchecked.

use serde_json::{Map, Value};

/// A compiled schema: nodes that refer to each other by index (so `$ref` cycles are fine).
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    nodes: Vec<Node>,
}

type Id = usize;

#[derive(Debug, Clone, Default)]
struct Node {
    /// `false` schema.
    never: bool,
    /// Bit set of [`TYPES`]; `None` for any type.
    types: Option<u8>,
    properties: Vec<(String, Id)>,
    required: Vec<String>,
    additional: Additional,
    items: Option<Id>,
    one_of_values: Option<Vec<Value>>,
    all_of: Vec<Id>,
    any_of: Vec<Id>,
    one_of: Vec<Id>,
    minimum: Option<f64>,
    maximum: Option<f64>,
}

#[derive(Debug, Clone, Default)]
enum Additional {
    #[default]
    Any,
    Never,
    Schema(Id),
}

const TYPES: [&str; 7] = [
    "null", "boolean", "object", "array", "number", "string", "integer",
];

/// How deep a value is checked; deeper parts pass unchecked (a recursive schema, huge data).
const MAX_DEPTH: usize = 64;

impl Schema {
    /// Compiles `schema`; `None` when it cannot be checked (an unresolvable `$ref`).
    pub(crate) fn compile(schema: &Value) -> Option<Schema> {
        let mut c = Compiler {
            nodes: Vec::new(),
            defs: Map::new(),
            def_ids: Vec::new(),
        };
        if let Some(root) = schema.as_object() {
            for key in ["$defs", "definitions"] {
                if let Some(defs) = root.get(key).and_then(Value::as_object) {
                    for (name, def) in defs {
                        c.defs.insert(format!("#/{key}/{name}"), def.clone());
                    }
                }
            }
        }
        // The root is node 0, where `check` starts; then every definition gets its index, so
        // a `$ref` compiles before its target does.
        let root = c.reserve();
        let names: Vec<String> = c.defs.keys().cloned().collect();
        for name in &names {
            let id = c.reserve();
            c.def_ids.push((name.clone(), id));
        }
        for (i, name) in names.iter().enumerate() {
            let def = c.defs[name].clone();
            let node = c.node_with_ref(&def)?;
            c.nodes[c.def_ids[i].1] = node;
        }
        c.nodes[root] = c.node_with_ref(schema)?;
        let nodes = c.nodes;
        Some(Schema { nodes })
    }

    /// Checks `value`; the error names the JSON pointer of the first mismatch.
    pub(crate) fn check(&self, value: &Value) -> Result<(), String> {
        self.check_at(0, value, &mut String::new(), 0)
    }

    fn check_at(&self, id: Id, v: &Value, path: &mut String, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        let n = &self.nodes[id];
        let at = |path: &str, what: String| {
            Err(format!(
                "{}: {what}",
                if path.is_empty() { "/" } else { path }
            ))
        };
        if n.never {
            return at(path, "no value is allowed here".into());
        }
        if let Some(types) = n.types
            && types & type_bits(v) == 0
        {
            return at(path, format!("expected {}, got {}", names(types), kind(v)));
        }
        if let Some(values) = &n.one_of_values
            && !values.contains(v)
        {
            return at(path, format!("{v} is not one of the allowed values"));
        }
        if let Some(x) = v.as_f64()
            && (n.minimum.is_some_and(|m| x < m) || n.maximum.is_some_and(|m| x > m))
        {
            return at(path, format!("{v} is out of range"));
        }
        for &sub in &n.all_of {
            self.check_at(sub, v, path, depth + 1)?;
        }
        let passes = |sub: Id| self.check_at(sub, v, &mut path.clone(), depth + 1).is_ok();
        if !n.any_of.is_empty() && !n.any_of.iter().any(|&s| passes(s)) {
            return at(path, "matches none of anyOf".into());
        }
        if !n.one_of.is_empty() && n.one_of.iter().filter(|&&s| passes(s)).count() != 1 {
            return at(path, "does not match exactly one of oneOf".into());
        }
        match v {
            Value::Object(map) => self.check_object(n, map, path, depth),
            Value::Array(items) => match n.items {
                Some(item) => items.iter().enumerate().try_for_each(|(i, x)| {
                    let len = path.len();
                    path.push_str(&format!("/{i}"));
                    let r = self.check_at(item, x, path, depth + 1);
                    path.truncate(len);
                    r
                }),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn check_object(
        &self,
        n: &Node,
        map: &Map<String, Value>,
        path: &mut String,
        depth: usize,
    ) -> Result<(), String> {
        if let Some(missing) = n.required.iter().find(|r| !map.contains_key(*r)) {
            let at = if path.is_empty() { "/" } else { path };
            return Err(format!(
                "{at}: the required property `{missing}` is missing"
            ));
        }
        for (key, value) in map {
            let len = path.len();
            path.push('/');
            path.push_str(&key.replace('~', "~0").replace('/', "~1"));
            let r = match n.properties.iter().find(|(k, _)| k == key) {
                Some((_, id)) => self.check_at(*id, value, path, depth + 1),
                None => match n.additional {
                    Additional::Any => Ok(()),
                    Additional::Never => Err(format!("{path}: no such property is allowed")),
                    Additional::Schema(id) => self.check_at(id, value, path, depth + 1),
                },
            };
            path.truncate(len);
            r?;
        }
        Ok(())
    }
}

struct Compiler {
    nodes: Vec<Node>,
    defs: Map<String, Value>,
    def_ids: Vec<(String, Id)>,
}

impl Compiler {
    fn reserve(&mut self) -> Id {
        self.nodes.push(Node::default());
        self.nodes.len() - 1
    }

    fn compile(&mut self, schema: &Value) -> Option<Id> {
        let node = self.node_with_ref(schema)?;
        let id = self.reserve();
        self.nodes[id] = node;
        Some(id)
    }

    /// A node; a `$ref` (alone or beside other keywords) joins its `allOf`, since the target and
    /// the rest must both hold. `None` for a `$ref` outside the document's definitions.
    fn node_with_ref(&mut self, schema: &Value) -> Option<Node> {
        let mut node = self.node(schema)?;
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            let target = self.def_ids.iter().find(|(n, _)| n == target)?.1;
            node.all_of.push(target);
        }
        Some(node)
    }

    fn list(&mut self, schema: &Value, key: &str) -> Option<Vec<Id>> {
        match schema.get(key).and_then(Value::as_array) {
            Some(subs) => subs.iter().map(|s| self.compile(s)).collect(),
            None => Some(Vec::new()),
        }
    }

    fn node(&mut self, schema: &Value) -> Option<Node> {
        let mut n = Node::default();
        let Some(obj) = schema.as_object() else {
            n.never = schema == &Value::Bool(false);
            return Some(n);
        };
        n.types = match obj.get("type") {
            Some(Value::String(t)) => type_mask(t),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(type_mask).sum(),
            _ => None,
        };
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                let id = self.compile(s)?;
                n.properties.push((k.clone(), id));
            }
        }
        n.required = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        n.additional = match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => Additional::Never,
            Some(s @ Value::Object(_)) => Additional::Schema(self.compile(s)?),
            _ => Additional::Any,
        };
        if let Some(items) = obj.get("items").filter(|i| i.is_object() || i.is_boolean()) {
            n.items = Some(self.compile(items)?);
        }
        n.one_of_values = match (obj.get("enum"), obj.get("const")) {
            (_, Some(c)) => Some(vec![c.clone()]),
            (Some(Value::Array(values)), None) => Some(values.clone()),
            _ => None,
        };
        n.all_of = self.list(schema, "allOf")?;
        n.any_of = self.list(schema, "anyOf")?;
        n.one_of = self.list(schema, "oneOf")?;
        n.minimum = obj.get("minimum").and_then(Value::as_f64);
        n.maximum = obj.get("maximum").and_then(Value::as_f64);
        Some(n)
    }
}

fn type_mask(name: &str) -> Option<u8> {
    let i = TYPES.iter().position(|t| *t == name)?;
    Some(1 << i)
}

fn type_bits(v: &Value) -> u8 {
    let bit = |name: &str| type_mask(name).unwrap_or(0);
    match v {
        Value::Null => bit("null"),
        Value::Bool(_) => bit("boolean"),
        Value::Object(_) => bit("object"),
        Value::Array(_) => bit("array"),
        Value::String(_) => bit("string"),
        Value::Number(n)
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) =>
        {
            bit("number") | bit("integer")
        }
        Value::Number(_) => bit("number"),
    }
}

fn names(types: u8) -> String {
    let list: Vec<&str> = (0..TYPES.len())
        .filter(|i| types & (1 << i) != 0)
        .map(|i| TYPES[i])
        .collect();
    list.join(" or ")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(schema: Value, value: Value) -> Result<(), String> {
        Schema::compile(&schema).expect("compiles").check(&value)
    }

    #[test]
    fn types_properties_required_and_additional() {
        let s = json!({"type": "object", "properties": {
            "n": {"type": "integer", "minimum": 0},
            "tags": {"type": "array", "items": {"type": "string"}},
            "opt": {"type": ["string", "null"]}
        }, "required": ["n"], "additionalProperties": false});
        assert!(check(s.clone(), json!({"n": 3, "tags": ["a"], "opt": null})).is_ok());
        assert!(
            check(s.clone(), json!({"n": 3.0})).is_ok(),
            "3.0 is an integer"
        );
        let e = check(s.clone(), json!({"n": 1.5})).unwrap_err();
        assert!(e.starts_with("/n: expected integer"), "{e}");
        let e = check(s.clone(), json!({"n": -1})).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = check(s.clone(), json!({"tags": []})).unwrap_err();
        assert!(e.contains("`n` is missing"), "{e}");
        let e = check(s.clone(), json!({"n": 1, "tags": ["a", 2]})).unwrap_err();
        assert!(e.starts_with("/tags/1: expected string"), "{e}");
        let e = check(s.clone(), json!({"n": 1, "extra/x": 1})).unwrap_err();
        assert!(e.starts_with("/extra~1x: no such property"), "{e}");
        assert!(check(s, json!([1])).is_err());
    }

    #[test]
    fn refs_enums_and_combinators() {
        let s = json!({
            "type": "object",
            "properties": {"op": {"$ref": "#/$defs/Op"}, "next": {"$ref": "#/$defs/Node"}},
            "$defs": {
                "Op": {"type": "string", "enum": ["add", "sub"]},
                "Node": {"type": "object", "properties": {"next": {"anyOf": [
                    {"$ref": "#/$defs/Node"}, {"type": "null"}]}}}
            }
        });
        assert!(
            check(
                s.clone(),
                json!({"op": "add", "next": {"next": {"next": null}}})
            )
            .is_ok()
        );
        let e = check(s.clone(), json!({"op": "mul"})).unwrap_err();
        assert!(e.starts_with("/op: \"mul\" is not one of"), "{e}");
        let e = check(s, json!({"next": {"next": 5}})).unwrap_err();
        assert!(e.starts_with("/next/next: matches none of anyOf"), "{e}");
        let one = json!({"oneOf": [{"type": "integer"}, {"type": "number"}]});
        assert!(check(one.clone(), json!(1.5)).is_ok());
        assert!(check(one, json!(1)).is_err(), "1 matches both");
        assert!(check(json!({"const": 7}), json!(7)).is_ok());
        assert!(check(json!(false), json!(7)).is_err());
        assert!(check(json!(true), json!(7)).is_ok());
    }

    #[test]
    fn unknown_refs_leave_the_schema_unchecked() {
        assert!(Schema::compile(&json!({"$ref": "https://example.com/s.json"})).is_none());
        let s = json!({"type": "string", "format": "date-time", "pattern": "^x"});
        assert!(
            check(s, json!("anything")).is_ok(),
            "formats and patterns are not checked"
        );
    }
}
