//! What a client negotiates with: the protocol versions served, the server's capabilities and
//! its name. Look here first when a new protocol revision ships: the handshake versions
//! (`initialize`, 2024-11-05 to 2025-11-25) and the per-request revision (2026-07-28, see
//! [`super::per_request`]) are listed together, and both eras advertise the same capabilities.

use rmcp::model::{
    Implementation, PromptsCapability, ResourcesCapability, ServerCapabilities, ToolsCapability,
};

/// Protocol versions served with the `initialize` handshake, oldest first.
pub(crate) const HANDSHAKE_VERSIONS: [&str; 4] =
    ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
/// The newest handshake version, offered when the client asks for one we do not know.
pub(crate) const LATEST_HANDSHAKE: &str = "2025-11-25";
/// The version assumed when a client sends no `MCP-Protocol-Version` header.
pub(crate) const DEFAULT_VERSION: &str = "2025-03-26";
/// The revision without a handshake: per-request metadata ([`super::per_request`]).
pub(crate) const REVISION: &str = "2026-07-28";
/// Every version served, oldest first.
pub(crate) const SUPPORTED: [&str; 5] = [
    HANDSHAKE_VERSIONS[0],
    HANDSHAKE_VERSIONS[1],
    HANDSHAKE_VERSIONS[2],
    HANDSHAKE_VERSIONS[3],
    REVISION,
];

/// What this server can do; the same in every session (lists may change after a reload).
pub(crate) fn capabilities() -> ServerCapabilities {
    let mut tools = ToolsCapability::default();
    tools.list_changed = Some(true);
    let mut resources = ResourcesCapability::default();
    resources.subscribe = Some(true);
    resources.list_changed = Some(true);
    let mut prompts = PromptsCapability::default();
    prompts.list_changed = Some(true);
    let mut caps = ServerCapabilities::default();
    caps.tools = Some(tools);
    caps.resources = Some(resources);
    caps.prompts = Some(prompts);
    caps.logging = Some(Default::default());
    caps.completions = Some(Default::default());
    caps
}

/// This server's name and version.
pub(crate) fn server_info() -> Implementation {
    Implementation::new("fastmcp", env!("CARGO_PKG_VERSION"))
}
