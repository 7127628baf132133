//! Who is calling: what authentication establishes and what tool access rules, the task store
//! (a task belongs to its caller) and plugins (`ctx.caller()`) see. It lives here, below the
//! protocol layer, so that authentication does not depend on MCP.

use serde::Serialize;

/// Who is calling, as established by authentication.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The caller's identity (key id or JWT `sub`).
    pub(crate) id: String,
    /// The caller's scopes.
    pub(crate) scopes: Vec<String>,
}
