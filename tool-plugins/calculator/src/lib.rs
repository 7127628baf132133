//! The README's example plugin: one tool, `calculate`, answering like the TypeScript server it
//! replaces (`Result: 5`, `Result: 0.25`, `Result: Infinity`).

use fastmcp_sdk::prelude::*;

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Operation {
    Add,
    Subtract,
    Multiply,
    Divide,
}

#[derive(Deserialize, JsonSchema)]
struct CalculateArgs {
    /// The operation to perform
    operation: Operation,
    /// The first operand
    a: f64,
    /// The second operand
    b: f64,
}

/// Perform a calculation
#[tool(read_only, idempotent, open_world = false)]
fn calculate(args: CalculateArgs) -> String {
    let CalculateArgs { operation, a, b } = args;
    let result = match operation {
        Operation::Add => a + b,
        Operation::Subtract => a - b,
        Operation::Multiply => a * b,
        Operation::Divide => a / b,
    };
    format!("Result: {}", JsNumber(result))
}

fastmcp_sdk::export_plugin! {
    name: "calculator",
    version: env!("CARGO_PKG_VERSION"),
    tools: [calculate],
}

/// Formats a number like JavaScript's `String(n)`: `5`, `0.25`, `NaN`, `Infinity`, `1e+21`.
struct JsNumber(f64);

impl std::fmt::Display for JsNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        if n.is_infinite() {
            return f.write_str(if n > 0.0 { "Infinity" } else { "-Infinity" });
        }
        if n.is_nan() || n == 0.0 || (1e-6..1e21).contains(&n.abs()) {
            return write!(f, "{}", n + 0.0); // `+ 0.0` turns -0 into 0, as JavaScript prints it
        }
        let exponential = format!("{n:e}"); // 1e21, 1e-7
        if exponential.contains("e-") {
            f.write_str(&exponential)
        } else {
            f.write_str(&exponential.replace('e', "e+"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fastmcp_sdk::testing::TestHost;

    fn calc(operation: &str, a: f64, b: f64) -> String {
        let host = TestHost::new(fastmcp_plugin_entry);
        let reply = host.call_tool("calculate", json!({"operation": operation, "a": a, "b": b}));
        assert!(!reply.is_error(), "{reply:?}");
        reply.text()
    }

    #[test]
    fn answers_like_the_typescript_server() {
        assert_eq!(calc("add", 2.0, 3.0), "Result: 5");
        assert_eq!(calc("subtract", 2.0, 3.0), "Result: -1");
        assert_eq!(calc("multiply", 6.0, 7.0), "Result: 42");
        assert_eq!(calc("divide", 1.0, 4.0), "Result: 0.25");
        assert_eq!(calc("divide", 1.0, 0.0), "Result: Infinity");
        assert_eq!(calc("divide", -1.0, 0.0), "Result: -Infinity");
        assert_eq!(calc("divide", 0.0, 0.0), "Result: NaN");
        assert_eq!(calc("add", 0.1, 0.2), "Result: 0.30000000000000004");
    }

    #[test]
    fn formats_numbers_like_javascript() {
        let cases = [
            (-0.0, "0"),
            (-42.0, "-42"),
            (9_007_199_254_740_992.0, "9007199254740992"),
            (1e16, "10000000000000000"),
            (1e21, "1e+21"),
            (1e-6, "0.000001"),
            (1.5e-7, "1.5e-7"),
            (123456789012345680000.0, "123456789012345680000"),
            (-2.5e300, "-2.5e+300"),
        ];
        for (n, text) in cases {
            assert_eq!(JsNumber(n).to_string(), text, "{n}");
        }
    }

    #[test]
    fn rejects_unknown_operations() {
        let host = TestHost::new(fastmcp_plugin_entry);
        let reply = host.call_tool("calculate", json!({"operation": "modulo", "a": 1, "b": 2}));
        assert!(reply.is_error());
        assert_eq!(
            reply.text(),
            "Invalid arguments for tool \"calculate\": operation: unknown variant `modulo`, \
             expected one of `add`, `subtract`, `multiply`, `divide`"
        );
    }

    #[test]
    fn manifest_describes_the_tool() {
        let manifest = TestHost::new(fastmcp_plugin_entry).manifest();
        assert_eq!(manifest["name"], "calculator");
        let tool = &manifest["tools"][0];
        assert_eq!(tool["name"], "calculate");
        assert_eq!(tool["description"], "Perform a calculation");
        assert_eq!(
            tool["annotations"],
            json!({"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false})
        );
        let schema = &tool["inputSchema"];
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["operation", "a", "b"]));
        assert_eq!(
            schema["properties"]["a"]["description"],
            "The first operand"
        );
        // Inline, so clients that do not resolve `$ref` still see the operations.
        assert_eq!(
            schema["properties"]["operation"]["enum"],
            json!(["add", "subtract", "multiply", "divide"])
        );
        assert!(schema.get("$defs").is_none() && schema.get("title").is_none());
        assert_eq!(
            schema["properties"]["a"],
            json!({"type": "number", "description": "The first operand"})
        );
    }
}
