//! What a request knows of its client's protocol state (version, capabilities, log level):
//! kept in the stored [`Session`] the request belongs to, or carried by the request itself.
//!
//! A stateful request of a handshake revision (and every stdio request) reads its session,
//! whose state `initialize` and `logging/setLevel` set. A stateless request and every
//! 2026-07-28 request bring their state along (headers, `_meta`) and build a [`RequestState`]:
//! no session, no maps, no event log. What only a stored session has (server-to-client
//! requests, resumable streams, cancellation by `notifications/cancelled`, subscriptions) is
//! then simply absent.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use rmcp::model::ClientCapabilities;
use serde_json::Value;

use super::session::{DEFAULT_LOG_LEVEL, Session, level_index};

/// The log level index that lets no log message through.
pub(crate) const NO_LOGS: u8 = u8::MAX;

/// The protocol state one request carries, where no session keeps it.
#[derive(Debug, Clone)]
pub(crate) struct RequestState {
    /// The protocol version the request speaks.
    version: &'static str,
    /// What the client says it can do (2026-07-28 `_meta`); shared, as a call's sink and a
    /// task outlive the request.
    client_capabilities: Option<Arc<ClientCapabilities>>,
    /// Minimum level of `notifications/message` sent (0 = debug ... 7 = emergency,
    /// [`NO_LOGS`] = none).
    log_level: u8,
}

impl RequestState {
    /// The state of a request of a handshake revision without a session: `version` from its
    /// header, no client capabilities, the default log level.
    pub(crate) fn handshake(version: &'static str) -> RequestState {
        RequestState {
            version,
            client_capabilities: None,
            log_level: DEFAULT_LOG_LEVEL,
        }
    }

    /// The state a 2026-07-28 request declares in its `_meta`: its capabilities (`None` when
    /// they do not parse) and log level (no logs without one).
    pub(crate) fn declared(
        version: &'static str,
        client_capabilities: Option<Value>,
        log_level: Option<&str>,
    ) -> RequestState {
        RequestState {
            version,
            client_capabilities: client_capabilities
                .and_then(|c| serde_json::from_value(c).ok())
                .map(Arc::new),
            log_level: log_level.and_then(level_index).unwrap_or(NO_LOGS),
        }
    }
}

/// Where a request's protocol state lives. Cheap to clone: a call's sink and a task keep one.
#[derive(Debug, Clone)]
pub(crate) enum ProtocolState {
    /// The stored session the request belongs to (stateful mode, stdio).
    Session(Arc<Session>),
    /// The request's own state (stateless mode, protocol 2026-07-28, `fastmcp call`).
    Request(RequestState),
}

impl ProtocolState {
    /// The stored session, if the request has one.
    pub(crate) fn session(&self) -> Option<&Arc<Session>> {
        match self {
            ProtocolState::Session(s) => Some(s),
            ProtocolState::Request(_) => None,
        }
    }

    /// The `Mcp-Session-Id` of the stored session, if any.
    pub(crate) fn session_id(&self) -> Option<&str> {
        self.session().map(|s| &*s.id)
    }

    /// The protocol version in use.
    pub(crate) fn protocol_version(&self) -> Cow<'static, str> {
        match self {
            ProtocolState::Session(s) => Cow::Owned(s.protocol_version()),
            ProtocolState::Request(r) => Cow::Borrowed(r.version),
        }
    }

    /// Compares the protocol version in use with `version` (dates compare as strings).
    pub(crate) fn version_cmp(&self, version: &str) -> Ordering {
        match self {
            ProtocolState::Session(s) => s.version_cmp(version),
            ProtocolState::Request(r) => r.version.cmp(version),
        }
    }

    /// Whether the request speaks protocol 2026-07-28.
    pub(crate) fn is_per_request(&self) -> bool {
        self.version_cmp(super::protocol::REVISION).is_eq()
    }

    /// Runs `f` on what the client said it can do.
    pub(crate) fn with_client_capabilities<T>(
        &self,
        f: impl FnOnce(Option<&ClientCapabilities>) -> T,
    ) -> T {
        match self {
            ProtocolState::Session(s) => s.with_client_capabilities(f),
            ProtocolState::Request(r) => f(r.client_capabilities.as_deref()),
        }
    }

    /// The client's capabilities as JSON, for multi round-trip requests.
    pub(crate) fn client_capabilities_json(&self) -> Option<Value> {
        self.with_client_capabilities(|c| c.and_then(|c| serde_json::to_value(c).ok()))
    }

    /// Whether a log message at `level` passes the client's level.
    pub(crate) fn wants_log(&self, level: &str) -> bool {
        match self {
            ProtocolState::Session(s) => s.wants_log(level),
            ProtocolState::Request(r) => level_index(level).is_some_and(|l| l >= r.log_level),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_without_a_session_filters_logs_by_its_own_level() {
        let handshake = ProtocolState::Request(RequestState::handshake("2025-06-18"));
        assert!(!handshake.wants_log("debug"));
        assert!(handshake.wants_log("info"));
        let silent = ProtocolState::Request(RequestState::declared("2026-07-28", None, None));
        assert!(!silent.wants_log("emergency"));
        let errors = RequestState::declared("2026-07-28", None, Some("error"));
        let errors = ProtocolState::Request(errors);
        assert!(!errors.wants_log("warning"));
        assert!(errors.wants_log("critical"));
        assert!(!errors.wants_log("bogus"));
    }

    #[test]
    fn a_request_without_a_session_keeps_the_capabilities_it_declared() {
        let caps = serde_json::json!({"sampling": {}});
        let state = ProtocolState::Request(RequestState::declared("2026-07-28", Some(caps), None));
        assert!(state.is_per_request());
        assert_eq!(state.session_id(), None);
        assert_eq!(state.protocol_version(), "2026-07-28");
        assert_eq!(
            state.client_capabilities_json(),
            Some(serde_json::json!({"sampling": {}}))
        );
        let bare = ProtocolState::Request(RequestState::handshake("2025-03-26"));
        assert!(!bare.is_per_request());
        assert_eq!(bare.client_capabilities_json(), None);
    }
}
