//! Session state shared with other instances: what is stored ([`Stored`]: the negotiated
//! state, log level and owner, never the streams or pending requests), and the
//! [`SharedSessions`] trait a shared store implements (the Redis one is
//! [`crate::mcp::store::RedisStore`]). The session store depends on this trait, not on Redis.

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Negotiated, Session};

/// Where session state is kept for every instance to see. Every method may fail: the store is
/// in another process.
pub(crate) trait SharedSessions: Send + Sync + std::fmt::Debug {
    /// Stores (or refreshes) a session's state.
    fn save<'a>(&'a self, id: &'a str, stored: &'a Stored)
    -> BoxFuture<'a, Result<(), StoreError>>;
    /// Loads a session's state and refreshes its TTL; `None` if it does not exist (expired or
    /// deleted on any instance).
    fn load<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Stored>, StoreError>>;
    /// Deletes a session everywhere; true if it existed.
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
}

/// Why the shared store could not answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// Redis is unreachable or answered with an error.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
}

/// A session's state as stored in Redis.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Stored {
    protocol_version: String,
    #[serde(default)]
    client_capabilities: Option<Value>,
    #[serde(default)]
    client_info: Option<Value>,
    log_level: u8,
    #[serde(default)]
    owner: Option<String>,
}

impl Stored {
    /// The storable state of `session`.
    pub(crate) fn of(session: &Session) -> Stored {
        let n = session.negotiated();
        Stored {
            protocol_version: n.protocol_version,
            client_capabilities: n
                .client_capabilities
                .and_then(|c| serde_json::to_value(c).ok()),
            client_info: n.client_info.and_then(|c| serde_json::to_value(c).ok()),
            log_level: session.log_level(),
            owner: session.owner(),
        }
    }

    /// Rebuilds a session with id `id` from stored state.
    pub(crate) fn restore(self, id: &str) -> Session {
        let s = Session::new(id.into(), &self.protocol_version);
        s.set_negotiated(Negotiated {
            protocol_version: self.protocol_version,
            client_capabilities: self
                .client_capabilities
                .and_then(|c| serde_json::from_value(c).ok()),
            client_info: self
                .client_info
                .and_then(|c| serde_json::from_value(c).ok()),
        });
        s.set_log_level(self.log_level);
        s.set_owner(self.owner.as_deref());
        s
    }
}
