//! Plugins: checking, loading, calling and replacing cdylib plugin libraries.
//!
//! - [`elf`]: a file sanity check before `dlopen` (truncated files would SIGBUS).
//! - [`library`]: `dlopen` of a private copy, the ABI handshake, raw calls.
//! - [`manifest`]: the manifest JSON, parsed into `rmcp::model` types and checked.
//! - [`pool`]: each generation's own worker threads.
//! - [`generation`]: one loaded version of a plugin and its calls.
//! - `sink`: where a running call's notifications and client requests go ([`CallSink`]).
//! - `callbacks`: the host callbacks a running call reaches its client through.
//! - `pending`: async tool calls between `start_tool` and their completion.
//! - [`request`]: what a call sends: generic JSON or a tool call for `call_tool`.
//! - [`isolate`]: plugins served from supervised child processes (`--isolate`).
//! - [`inline`]: whether a tool's calls may still run on the I/O threads.
//! - `leaks`: retired copies that stay mapped (thread-local destructors on the I/O threads).
//! - [`reply`], [`schema`]: checks of a plugin's replies against the protocol's result types
//!   and a tool's `outputSchema`.
//! - [`skills`]: the skills a plugin ships (the skills extension), checked at load.
//! - [`slot`]: one configured plugin: its library, how its generations run, its last error.
//! - [`catalog`]: an immutable snapshot of what is served, with its name indexes.
//! - [`registry`]: the slots and the catalog being served, swapped on reload.
//! - [`reload`]: replacing a served plugin with a new version of its file or crate.
//! - [`build`]: building a plugin crate with cargo.

pub(crate) mod build;
mod callbacks;
pub(crate) mod catalog;
pub(crate) mod elf;
mod error;
pub(crate) mod generation;
pub mod inline;
pub mod isolate;
mod leaks;
pub mod library;
pub(crate) mod listing;
pub(crate) mod manifest;
mod pending;
pub(crate) mod pool;
pub(crate) mod registry;
pub mod reload;
pub(crate) mod reply;
pub mod request;
pub(crate) mod schema;
mod sink;
pub(crate) mod skills;
pub(crate) mod slot;

pub use catalog::Catalog;
pub(crate) use error::PluginError;
pub use generation::{CallOutcome, Generation};
pub use registry::{Changes, Registry};
pub use sink::{CallSink, HostRequestError, NullSink};
pub use slot::Slot;
