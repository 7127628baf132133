//! The rmcp peer of the I/O-bound benchmark (`bench/io.sh`): rmcp 3.11's `#[tool] async fn
//! io_wait(ms)`, which awaits `tokio::time::sleep(ms)` and returns the text `waited N ms`, served
//! by rmcp's own `StreamableHttpService` without sessions (`legacy_session_mode: false`) and with
//! JSON responses (`json_response: true`) at `/mcp`. `GET /ready` answers 200 so the harness
//! waits for it the same way as for the other servers.
//!
//! Everything else is rmcp's default: its Host check (loopback only), its body limit, one
//! handler built per request by the service factory. Same runtime as fastmcp and the ceiling
//! (tokio multi-thread with the default worker count, `axum::serve`).
//!
//! Run: `rmcp_io PORT` (listens on 127.0.0.1 only).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

/// The arguments of `io_wait`, as in the test plugin and the TypeScript peer.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct IoWaitArgs {
    /// How long to wait, in milliseconds
    ms: u64,
}

/// The server: only the tool router the macros generate.
#[derive(Debug, Clone)]
struct IoServer {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl IoServer {
    fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    /// Waits `ms` milliseconds on the runtime's timer, then answers `waited N ms`.
    #[tool(description = "Waits ms milliseconds without holding a thread")]
    async fn io_wait(&self, Parameters(args): Parameters<IoWaitArgs>) -> String {
        tokio::time::sleep(Duration::from_millis(args.ms)).await;
        format!("waited {} ms", args.ms)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for IoServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None);
    let mcp = StreamableHttpService::new(
        || Ok(IoServer::new()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let app = Router::new()
        .route("/ready", get(|| async { r#"{"status":"ready"}"# }))
        .nest_service("/mcp", mcp);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}
