//! Property-based fuzzing (proptest, bounded: it runs with the unit tests in CI) of the two
//! places that read untrusted bytes first: the JSON-RPC parser (client input) and the
//! plugin-reply checks (plugin output, including the `outputSchema` subset). Expected of
//! every input: no panic, no hang, and for well-formed input the right answer.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::mcp::jsonrpc::{self, Incoming};
use crate::plugin::reply::{check_result, check_tool_result};
use crate::plugin::schema::Schema;

/// Cases per property: enough to find the shallow bugs on every CI run, quick on two cores.
const CASES: u32 = 1500;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Arbitrary JSON, a few levels deep, with the keys protocol messages use.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("jsonrpc".to_string()),
        Just("id".to_string()),
        Just("method".to_string()),
        Just("params".to_string()),
        Just("result".to_string()),
        Just("error".to_string()),
        Just("content".to_string()),
        Just("type".to_string()),
        Just("text".to_string()),
        Just("isError".to_string()),
        Just("structuredContent".to_string()),
        Just("_meta".to_string()),
        "[a-z]{0,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![Just("2.0".to_string()), Just("text".to_string()), ".{0,12}"]
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A well-formed request, then a few random byte edits of it.
fn mutated_request() -> impl Strategy<Value = Vec<u8>> {
    let request = (any::<i64>(), "[a-z/]{1,20}", json_value()).prop_map(|(id, method, params)| {
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
    });
    let edit = (any::<prop::sample::Index>(), any::<u8>(), 0u8..3);
    (request, prop::collection::vec(edit, 0..8)).prop_map(|(text, edits)| {
        let mut bytes = text.into_bytes();
        for (at, byte, kind) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ => {}
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = jsonrpc::parse(&bytes).map_err(|e| e.to_error());
    }

    #[test]
    fn the_parser_never_panics_on_edited_requests(bytes in mutated_request()) {
        let _ = jsonrpc::parse(&bytes).map_err(|e| e.to_error());
    }

    #[test]
    fn the_parser_reads_any_json_without_panicking(v in json_value()) {
        let _ = jsonrpc::parse(v.to_string().as_bytes()).map_err(|e| e.to_error());
    }

    #[test]
    fn a_well_formed_request_is_read_as_sent(id in any::<i64>(), method in "[a-z/]{1,20}") {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method}).to_string();
        match jsonrpc::parse(body.as_bytes()) {
            Ok(Incoming::Request { id: got, method: m, .. }) => {
                prop_assert_eq!(got, rmcp::model::RequestId::Number(id));
                prop_assert_eq!(&*m, method.as_str());
            }
            other => prop_assert!(false, "{body}: {other:?}"),
        }
    }

    #[test]
    fn reply_checks_never_panic(v in json_value(), text in ".{0,64}") {
        let raw = v.to_string();
        let _ = check_tool_result(&raw, None);
        let _ = check_tool_result(&text, None);
        for method in ["resources/read", "prompts/get", "completion/complete", "resources/subscribe"] {
            let _ = check_result(method, &raw);
        }
    }

    #[test]
    fn a_text_result_passes_whatever_its_text(text in any::<String>(), is_error in any::<Option<bool>>()) {
        let mut result = json!({"content": [{"type": "text", "text": text}]});
        if let Some(e) = is_error {
            result["isError"] = e.into();
        }
        let shape = check_tool_result(&result.to_string(), None);
        prop_assert_eq!(shape.map(|s| s.is_error), Ok(is_error.unwrap_or(false)));
    }

    #[test]
    fn schemas_compile_and_check_without_panicking(schema in json_value(), value in json_value()) {
        if let Some(compiled) = Schema::compile(&schema) {
            let _ = compiled.check(&value);
            let raw = json!({"content": [], "structuredContent": value}).to_string();
            let _ = check_tool_result(&raw, Some(&compiled));
        }
    }
}
