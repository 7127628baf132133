//! fastmcp: a dev server for MCP tools written as Rust `cdylib` plugins.
//!
//! A plugin is an ordinary crate built against `fastmcp-sdk`; `fastmcp dev` loads it and serves
//! its tools over Streamable HTTP (stateless or stateful) or stdio, with health checks.
//!
//! # Layout
//! - [`cli`]: the command line as typed (clap derive structs only).
//! - [`config`]: the validated [`config::Config`]: flags > environment > defaults.
//! - [`memory`]: one glibc malloc arena for the process, set first thing in `main`.
//! - [`logging`]: installs the tracing subscriber (the only place that does).
//! - [`auth`]: API keys and HS256 JWTs -> the `Caller` (who is calling); 401 responses.
//! - [`metrics`]: Prometheus/OpenMetrics counters, `GET /metrics`.
//! - [`plugin`]: the plugin ABI checks, loader, per-generation workers and registry.
//! - [`sandbox`]: what an isolated plugin's process may touch (Landlock, seccomp) and its
//!   memory and per-call CPU limits.
//! - [`mcp`]: JSON-RPC framing, sessions and the MCP method handlers; `mcp::protocol` holds the
//!   protocol versions, capabilities and server info.
//! - [`http`]: the axum router: `/health`, `/ready` and the Streamable HTTP endpoint, behind one
//!   edge layer (`http::edge`: authentication, Host/Origin, request metrics).
//! - [`stdio`]: the stdio transport.
//! - [`server`]: `run(config, listener, shutdown)`, startup and graceful shutdown.
//! - [`watch`]: file events -> debounced plugin reloads (hot reload).
//! - [`commands`]: the one-shot commands: `inspect`, `call`, `read`, `prompt`, `complete`, `probe`.
//! - [`scaffold`]: `new`, a plugin crate from templates compiled into the binary.
//! - `fuzz` (tests only): property-based fuzzing of the JSON-RPC parser and the reply checks.

// The library is the binary's internals, read with `cargo doc --document-private-items`, where
// module docs may link to crate-private items.
#![allow(rustdoc::private_intra_doc_links)]

pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod http;
pub mod logging;
pub mod mcp;
pub mod memory;
pub mod metrics;
pub mod plugin;
pub mod sandbox;
pub mod scaffold;
pub mod server;
pub mod stdio;
pub mod watch;

#[cfg(test)]
mod fuzz;

pub use config::Config;
pub use server::run;
