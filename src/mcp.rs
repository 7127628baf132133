//! The Model Context Protocol: message framing, sessions and method handlers.
//!
//! - [`jsonrpc`]: parse incoming messages, write outgoing ones.
//! - [`session`]: per-client state and the stateful session store.
//! - [`events`]: the per-session SSE event log for resuming streams.
//! - [`store`]: the Redis-backed shared session store.
//! - [`sink`]: how a running tool's notifications and requests reach the client.
//! - [`service`]: the method handlers, shared by every transport.
//! - [`listen`]: `subscriptions/listen` streams (2026-07-28).
//! - [`per_request`]: protocol 2026-07-28 (per-request metadata, header rules, results).
//! - [`mrtr`]: its multi round-trip requests (`InputRequiredResult`, sealed `requestState`).
//! - [`tasks`]: tool calls run as tasks, their state and its store.
//! - [`uri_template`]: matching resource URIs to templates.

pub mod events;
pub mod jsonrpc;
pub mod listen;
pub mod mrtr;
pub mod per_request;
pub mod service;
pub mod session;
pub mod sink;
pub mod store;
pub mod tasks;
pub mod uri_template;

pub use service::{Caller, RequestCtx, Service, ServiceOptions};
pub use session::{Session, SessionStore};
