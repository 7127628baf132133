//! Typed parameters from string maps. URI template variables and prompt arguments are strings
//! on the wire, yet a parameter struct may have a number, a bool or an enum field: a string
//! value is parsed into whatever type the field asks for, any other JSON value is taken as it is.

use std::cell::Cell;
use std::fmt::Display;

use serde::de::value::MapDeserializer;
use serde::de::{self, DeserializeOwned, Error as _, IntoDeserializer, Unexpected, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

/// Deserializes `T` from a map of (usually string) values. The error names the field and why.
pub(crate) fn from_map<T: DeserializeOwned>(map: &Map<String, Value>) -> Result<T, String> {
    let entries = map
        .iter()
        .map(|(key, value)| (key.as_str(), Lenient(value)));
    let deserializer = MapDeserializer::<_, serde_json::Error>::new(entries);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let reason = error.into_inner();
        if path == "." {
            reason.to_string()
        } else {
            format!("{path}: {reason}")
        }
    })
}

/// The field names of a struct as it is deserialized (after serde renames), in declaration
/// order; `None` for anything that is not a plain struct (a map, a flattened struct).
pub(crate) fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let fields = Cell::new(None);
    let _ = T::deserialize(FieldProbe(&fields));
    fields.get()
}

/// A value that parses strings into the type asked for.
#[derive(Clone, Copy)]
struct Lenient<'a>(&'a Value);

impl<'a> IntoDeserializer<'a, serde_json::Error> for Lenient<'a> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

/// `deserialize_*` methods that parse a string value with `str::parse`.
macro_rules! parse_string {
    ($($method:ident => $visit:ident($ty:ty)),* $(,)?) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.0 {
                Value::String(text) => match text.trim().parse::<$ty>() {
                    Ok(value) => visitor.$visit(value),
                    Err(_) => Err(Self::Error::invalid_value(Unexpected::Str(text), &visitor)),
                },
                other => other.$method(visitor),
            }
        }
    )*};
}

/// `deserialize_*` methods handed to the JSON value as they are.
macro_rules! forward_to_value {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        fn $method<V: Visitor<'a>>(self, $($arg: $ty,)* visitor: V)
            -> Result<V::Value, Self::Error>
        {
            self.0.$method($($arg,)* visitor)
        }
    )*};
}

impl<'a> de::Deserializer<'a> for Lenient<'a> {
    type Error = serde_json::Error;

    parse_string! {
        deserialize_bool => visit_bool(bool),
        deserialize_i8 => visit_i8(i8),
        deserialize_i16 => visit_i16(i16),
        deserialize_i32 => visit_i32(i32),
        deserialize_i64 => visit_i64(i64),
        deserialize_i128 => visit_i128(i128),
        deserialize_u8 => visit_u8(u8),
        deserialize_u16 => visit_u16(u16),
        deserialize_u32 => visit_u32(u32),
        deserialize_u64 => visit_u64(u64),
        deserialize_u128 => visit_u128(u128),
        deserialize_f32 => visit_f32(f32),
        deserialize_f64 => visit_f64(f64),
    }

    forward_to_value! {
        deserialize_any(),
        deserialize_char(),
        deserialize_str(),
        deserialize_string(),
        deserialize_bytes(),
        deserialize_byte_buf(),
        deserialize_unit(),
        deserialize_unit_struct(name: &'static str),
        deserialize_seq(),
        deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_map(),
        deserialize_struct(name: &'static str, fields: &'static [&'static str]),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
        deserialize_identifier(),
        deserialize_ignored_any(),
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }
}

/// A deserializer that only records the fields a struct asks for, then gives up.
struct FieldProbe<'f>(&'f Cell<Option<&'static [&'static str]>>);

#[derive(Debug)]
struct Probed;

impl Display for Probed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("probed")
    }
}

impl std::error::Error for Probed {}

impl de::Error for Probed {
    fn custom<T: Display>(_: T) -> Self {
        Probed
    }
}

impl<'de> de::Deserializer<'de> for FieldProbe<'_> {
    type Error = Probed;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        Err(Probed)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Probed> {
        self.0.set(Some(fields));
        Err(Probed)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;
    use std::collections::HashMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Unit {
        Celsius,
        Fahrenheit,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Params {
        city_name: String,
        days: u32,
        precise: Option<bool>,
        unit: Unit,
        #[serde(default)]
        offset: f64,
    }

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn strings_become_the_types_fields_ask_for() {
        let params: Params = from_map(&map(json!({
            "cityName": "Paris", "days": "3", "precise": "true", "unit": "celsius",
        })))
        .unwrap();
        let expected = Params {
            city_name: "Paris".into(),
            days: 3,
            precise: Some(true),
            unit: Unit::Celsius,
            offset: 0.0,
        };
        assert_eq!(params, expected);
        // Values that are already JSON numbers or booleans are taken as they are.
        let params: Params = from_map(&map(json!({
            "cityName": "Oslo", "days": 2, "precise": null, "unit": "fahrenheit", "offset": -1.5,
        })))
        .unwrap();
        assert_eq!(
            (params.days, params.precise, params.offset),
            (2, None, -1.5)
        );
        assert_eq!(params.unit, Unit::Fahrenheit);
        let any: HashMap<String, String> = from_map(&map(json!({"a": "1"}))).unwrap();
        assert_eq!(any["a"], "1");
    }

    #[test]
    fn errors_name_the_field() {
        let error = from_map::<Params>(&map(json!({
            "cityName": "Paris", "days": "three", "unit": "celsius",
        })))
        .unwrap_err();
        assert_eq!(error, "days: invalid value: string \"three\", expected u32");
        let error = from_map::<Params>(&map(json!({"cityName": "Paris"}))).unwrap_err();
        assert_eq!(error, "missing field `days`");
        let error = from_map::<Params>(&map(json!({
            "cityName": "P", "days": "1", "unit": "kelvin",
        })))
        .unwrap_err();
        assert!(
            error.starts_with("unit: unknown variant `kelvin`"),
            "{error}"
        );
    }

    #[test]
    fn probes_struct_fields_in_declaration_order() {
        assert_eq!(
            struct_fields::<Params>(),
            Some(&["cityName", "days", "precise", "unit", "offset"][..])
        );
        assert_eq!(struct_fields::<HashMap<String, String>>(), None);
        assert_eq!(struct_fields::<String>(), None);
    }
}
