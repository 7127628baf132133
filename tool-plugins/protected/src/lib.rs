//! An example plugin with a tool that only authenticated callers may see and call:
//! `protected_action`, answering `Hello, user <id>!` like the stateless-mode guide's server.
//!
//! Serve it with authentication on, e.g.
//! `fastmcp dev tool-plugins/protected --api-key "$API_KEY"`: `tools/list` shows the tool only
//! to requests carrying the key, and `ctx.caller()` is the caller's identity, named by how it
//! authenticated (`key:api-key` for `--api-key`, `key:<id>` for a keys-file entry, `jwt:<sub>`
//! for a JWT).

use fastmcp_sdk::prelude::*;

/// A protected action
#[tool(requires_auth)]
fn protected_action(ctx: &Context) -> Result<String, ToolError> {
    // The server never lets an anonymous request reach a `requires_auth` tool; a host that
    // does not enforce access rules gets an error instead of a greeting for nobody.
    let caller = ctx
        .caller()
        .ok_or_else(|| ToolError::new("This tool needs an authenticated caller"))?;
    Ok(format!("Hello, user {}!", caller.id))
}

fastmcp_sdk::export_plugin! {
    name: "protected",
    version: env!("CARGO_PKG_VERSION"),
    tools: [protected_action],
}

#[cfg(test)]
mod tests {
    use super::*;
    use fastmcp_sdk::testing::TestHost;

    fn call(context: Value) -> fastmcp_sdk::testing::Reply {
        let host = TestHost::new(fastmcp_plugin_entry);
        host.request_with_context(
            "tools/call",
            json!({"name": "protected_action", "arguments": {}}),
            context,
        )
    }

    #[test]
    fn greets_the_authenticated_caller() {
        let reply = call(json!({
            "protocolVersion": "2025-06-18",
            "caller": {"id": "jwt:user-123", "scopes": []},
        }));
        assert!(!reply.is_error(), "{reply:?}");
        assert_eq!(reply.text(), "Hello, user jwt:user-123!");
    }

    #[test]
    fn refuses_without_a_caller() {
        let reply = call(json!({"protocolVersion": "2025-06-18"}));
        assert!(reply.is_error(), "{reply:?}");
        assert_eq!(reply.text(), "This tool needs an authenticated caller");
    }

    #[test]
    fn manifest_marks_the_tool_as_requiring_auth() {
        let manifest = TestHost::new(fastmcp_plugin_entry).manifest();
        assert_eq!(manifest["name"], "protected");
        let tool = &manifest["tools"][0];
        assert_eq!(tool["name"], "protected_action");
        assert_eq!(tool["description"], "A protected action");
        assert_eq!(tool["access"], json!({"authenticated": true, "scopes": []}));
    }
}
