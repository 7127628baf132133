//! The Model Context Protocol: message framing, sessions and method handlers.
//!
//! - [`protocol`]: the versions served, capabilities and server info (start here).
//! - [`jsonrpc`]: parse incoming messages, write outgoing ones.
//! - [`session`]: per-client state, the stateful session store and the trait a shared
//!   store implements ([`session::SharedSessions`]).
//! - [`state`]: a request's protocol state: its stored session's, or its own (stateless,
//!   2026-07-28).
//! - [`events`]: the per-session SSE event log for resuming streams.
//! - [`store`]: the Redis implementation of [`session::SharedSessions`].
//! - [`sink`]: how a running tool's notifications and requests reach the client.
//! - [`service`]: the method handlers, shared by every transport.
//! - [`listen`]: `subscriptions/listen` streams (2026-07-28).
//! - [`per_request`]: protocol 2026-07-28 (per-request metadata, header rules, results).
//! - [`mrtr`]: its multi round-trip requests (`InputRequiredResult`, sealed `requestState`).
//! - [`tasks`]: tool calls run as tasks, their state and its store.
//! - [`uri_template`]: matching resource URIs to templates.

pub(crate) mod events;
pub(crate) mod jsonrpc;
pub(crate) mod listen;
pub(crate) mod mrtr;
pub(crate) mod per_request;
pub(crate) mod protocol;
pub(crate) mod service;
pub(crate) mod session;
pub(crate) mod sink;
pub(crate) mod state;
pub(crate) mod store;
pub(crate) mod tasks;
pub(crate) mod uri_template;

pub(crate) use service::{RequestCtx, Service, ServiceOptions, Stores};
pub(crate) use session::{Session, SessionStore};
