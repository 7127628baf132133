//! JSON Schemas generated from Rust types, shaped for what MCP clients can read.
//!
//! Clients validate tool arguments against these schemas, many of them without resolving
//! `$ref`, and their validators (ajv) warn about `format` values they do not know. So the
//! schemas are draft 2020-12 with subschemas inlined (a recursive type still needs `$defs`), no
//! root `title` (the type's Rust name means nothing to a client), and only the formats the
//! standard defines (`date-time`, `email`, `uri`, `uuid`, ...; schemars' `uint32`, `double` and
//! friends are dropped, the `minimum`/`maximum` it emits with them stay), and `null` only where
//! it means something, written as an `anyOf` branch (see [`portable`]).
//! Hand-written schemas never pass through here.

mod portable;
pub use portable::nullable;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use schemars::transform::RestrictFormats;
use serde_json::Value;

/// The settings every generated schema uses.
fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12()
        .with(|settings| settings.inline_subschemas = true)
        .with_transform(RestrictFormats::default())
}

/// The schema of `T` as it is deserialized (tool arguments, prompt arguments).
#[doc(hidden)]
pub fn input_schema<T: JsonSchema>() -> Value {
    let generator = settings().for_deserialize().into_generator();
    polish(generator.into_root_schema_for::<T>().to_value())
}

/// The schema of `T` as it is serialized (structured tool output).
pub(crate) fn output_schema<T: JsonSchema>() -> Value {
    let generator = settings().for_serialize().into_generator();
    polish(generator.into_root_schema_for::<T>().to_value())
}

/// Removes the root `title`, which schemars fills in with the Rust type's name, and makes the
/// `null`s portable.
fn polish(mut schema: Value) -> Value {
    if let Some(object) = schema.as_object_mut() {
        object.remove("title");
    }
    portable::make_portable(&mut schema);
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    #[allow(dead_code)]
    enum Operation {
        Add,
        Subtract,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        /// The operation
        operation: Operation,
        count: u32,
        ratio: f64,
        small: u8,
        #[schemars(email)]
        email: String,
        #[schemars(url)]
        homepage: Option<String>,
        /// A nested struct
        inner: Option<Inner>,
        format: String,
    }

    #[derive(Deserialize, Serialize, JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        when: i64,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Tree {
        children: Vec<Tree>,
    }

    #[test]
    fn subschemas_are_inlined_and_the_root_has_no_title() {
        let schema = input_schema::<Args>();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert!(schema.get("title").is_none(), "{schema}");
        assert!(schema.get("$defs").is_none(), "{schema}");
        let operation = &schema["properties"]["operation"];
        assert_eq!(operation["enum"], json!(["add", "subtract"]));
        assert_eq!(operation["description"], "The operation");
        assert_eq!(
            schema["properties"]["inner"]["description"],
            "A nested struct"
        );
        let inner = &schema["properties"]["inner"];
        assert!(inner.to_string().contains("\"when\""), "{inner}");
        assert!(!schema.to_string().contains("$ref"), "{schema}");
    }

    #[test]
    fn only_standard_formats_are_kept() {
        let schema = input_schema::<Args>();
        let properties = &schema["properties"];
        assert_eq!(
            properties["count"],
            json!({"type": "integer", "minimum": 0})
        );
        assert_eq!(properties["ratio"], json!({"type": "number"}));
        assert_eq!(
            properties["small"],
            json!({"type": "integer", "minimum": 0, "maximum": 255})
        );
        assert_eq!(properties["email"]["format"], "email");
        assert_eq!(properties["homepage"]["format"], "uri");
        // A property that happens to be called `format` is a property, not a keyword.
        assert_eq!(properties["format"], json!({"type": "string"}));
        for removed in ["uint32", "double", "uint8", "int64"] {
            assert!(
                !schema.to_string().contains(removed),
                "{removed} in {schema}"
            );
        }
        let output = output_schema::<Inner>();
        assert_eq!(output["properties"]["when"], json!({"type": "integer"}));
        assert!(output.get("title").is_none());
    }

    #[test]
    fn recursive_types_keep_their_definitions() {
        let schema = input_schema::<Tree>();
        assert!(schema.get("title").is_none());
        assert_eq!(schema["properties"]["children"]["items"]["$ref"], "#");
    }
}
