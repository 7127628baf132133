//! Sessions: per-client protocol state, in-flight calls and the server-to-client stream.
//!
//! A stateful server keeps sessions in a [`SessionStore`] keyed by `Mcp-Session-Id` and reaps
//! them when idle; with `--session-store` it also keeps their state in a [`SharedSessions`]
//! store (Redis), so other instances can serve them. A request without a session (stateless
//! mode, protocol 2026-07-28) carries its own protocol state instead ([`super::state`]).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{ClientCapabilities, Implementation, RequestId};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

mod shared;
pub(crate) use shared::{SharedSessions, StoreError, Stored};

/// Protocol state negotiated by `initialize`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Negotiated {
    /// The protocol version in use.
    pub(crate) protocol_version: String,
    /// What the client said it can do (sampling, elicitation, roots).
    pub(crate) client_capabilities: Option<ClientCapabilities>,
    /// The client's name and version.
    pub(crate) client_info: Option<Implementation>,
}

/// A client's answer to a request the server sent, delivered to the waiting worker thread.
pub(crate) type Answer = Result<Value, Value>;

/// One client's session.
#[derive(Debug)]
pub(crate) struct Session {
    /// The `Mcp-Session-Id` (`stdio` for the one session of the stdio transport).
    pub(crate) id: Arc<str>,
    negotiated: Mutex<Negotiated>,
    /// Minimum level of `notifications/message` sent (0 = debug ... 7 = emergency).
    log_level: AtomicU8,
    last_seen: Mutex<Instant>,
    next_request_id: AtomicI64,
    /// Requests the server sent and is waiting on.
    pending: Mutex<HashMap<RequestId, std::sync::mpsc::SyncSender<Answer>>>,
    /// Cancellation flags of the client's requests being served.
    in_flight: Mutex<HashMap<RequestId, Arc<AtomicBool>>>,
    /// The GET stream for messages not tied to a request.
    standalone: Mutex<Option<UnboundedSender<String>>>,
    /// Resource URIs the client subscribed to.
    subscriptions: Mutex<HashSet<String>>,
    /// Events of this session's SSE response streams, for `Last-Event-ID` resumption.
    pub(crate) events: Mutex<super::events::EventLog>,
    /// The authenticated caller that opened the session; only they may use it.
    owner: Mutex<Option<String>>,
}

/// Until a client sets a level, log messages of info and above go out.
pub(crate) const DEFAULT_LOG_LEVEL: u8 = 1;

/// The severity index of an MCP log level name (0 = debug ... 7 = emergency).
pub(crate) fn level_index(name: &str) -> Option<u8> {
    let i = match name {
        "debug" => 0,
        "info" => 1,
        "notice" => 2,
        "warning" => 3,
        "error" => 4,
        "critical" => 5,
        "alert" => 6,
        "emergency" => 7,
        _ => return None,
    };
    Some(i)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    /// A new session.
    pub(crate) fn new(id: Arc<str>, protocol_version: &str) -> Session {
        Session {
            id,
            negotiated: Mutex::new(Negotiated {
                protocol_version: protocol_version.to_string(),
                ..Negotiated::default()
            }),
            log_level: AtomicU8::new(DEFAULT_LOG_LEVEL),
            last_seen: Mutex::new(Instant::now()),
            next_request_id: AtomicI64::new(1),
            pending: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            standalone: Mutex::new(None),
            subscriptions: Mutex::new(HashSet::new()),
            events: Mutex::new(super::events::EventLog::default()),
            owner: Mutex::new(None),
        }
    }

    /// The negotiated protocol state.
    pub(crate) fn negotiated(&self) -> Negotiated {
        lock(&self.negotiated).clone()
    }

    /// The protocol version in use.
    pub(crate) fn protocol_version(&self) -> String {
        lock(&self.negotiated).protocol_version.clone()
    }

    /// Compares the protocol version in use with `version` (dates compare as strings),
    /// without copying it: this runs on every request.
    pub(crate) fn version_cmp(&self, version: &str) -> std::cmp::Ordering {
        lock(&self.negotiated)
            .protocol_version
            .as_str()
            .cmp(version)
    }

    /// Runs `f` on what the client said it can do.
    pub(crate) fn with_client_capabilities<T>(
        &self,
        f: impl FnOnce(Option<&ClientCapabilities>) -> T,
    ) -> T {
        f(lock(&self.negotiated).client_capabilities.as_ref())
    }

    /// Records what `initialize` negotiated.
    pub(crate) fn set_negotiated(&self, n: Negotiated) {
        *lock(&self.negotiated) = n;
    }

    /// Binds the session to the caller that opened it.
    pub(crate) fn set_owner(&self, caller: Option<&str>) {
        *lock(&self.owner) = caller.map(str::to_string);
    }

    /// Whether `caller` may use this session: the one that opened it (anyone, without auth).
    pub(crate) fn owned_by(&self, caller: Option<&str>) -> bool {
        lock(&self.owner).as_deref() == caller
    }

    /// The caller that opened the session.
    pub(crate) fn owner(&self) -> Option<String> {
        lock(&self.owner).clone()
    }

    /// Sets the minimum log level sent to this client.
    pub(crate) fn set_log_level(&self, index: u8) {
        self.log_level.store(index, Ordering::Relaxed);
    }

    /// The minimum log level index (`u8::MAX` = none).
    pub(crate) fn log_level(&self) -> u8 {
        self.log_level.load(Ordering::Relaxed)
    }

    /// Whether a log message at `level` passes this session's level.
    pub(crate) fn wants_log(&self, level: &str) -> bool {
        level_index(level).is_some_and(|l| l >= self.log_level.load(Ordering::Relaxed))
    }

    /// Marks the session as used now.
    pub(crate) fn touch(&self) {
        *lock(&self.last_seen) = Instant::now();
    }

    /// How long since the session was last used.
    pub(crate) fn idle_for(&self) -> Duration {
        lock(&self.last_seen).elapsed()
    }

    /// Registers a client request being served; returns its cancellation flag.
    pub(crate) fn begin_request(&self, id: &RequestId, cancel: Arc<AtomicBool>) {
        lock(&self.in_flight).insert(id.clone(), cancel);
    }

    /// Forgets a served request.
    pub(crate) fn end_request(&self, id: &RequestId) {
        lock(&self.in_flight).remove(id);
    }

    /// Cancels a request being served (from `notifications/cancelled`); false if unknown.
    pub(crate) fn cancel_request(&self, id: &RequestId) -> bool {
        match lock(&self.in_flight).get(id) {
            Some(flag) => {
                flag.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Allocates an id for a server-to-client request and registers where its answer goes.
    pub(crate) fn register_pending(&self) -> (RequestId, std::sync::mpsc::Receiver<Answer>) {
        let id = RequestId::Number(self.next_request_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        lock(&self.pending).insert(id.clone(), tx);
        (id, rx)
    }

    /// Drops a pending server-to-client request (answered elsewhere, cancelled or timed out).
    pub(crate) fn forget_pending(&self, id: &RequestId) {
        lock(&self.pending).remove(id);
    }

    /// Delivers the client's answer; false if nobody waits for that id.
    pub(crate) fn answer(&self, id: &RequestId, answer: Answer) -> bool {
        match lock(&self.pending).remove(id) {
            Some(tx) => tx.send(answer).is_ok(),
            None => false,
        }
    }

    /// Installs the GET stream, replacing (and so closing) an earlier one.
    pub(crate) fn set_standalone(&self, tx: UnboundedSender<String>) {
        *lock(&self.standalone) = Some(tx);
    }

    /// Sends a message on the GET stream; false if there is none or it is closed.
    pub(crate) fn send_standalone(&self, message: String) -> bool {
        let mut guard = lock(&self.standalone);
        match guard.as_ref() {
            Some(tx) if tx.send(message).is_ok() => true,
            Some(_) => {
                *guard = None;
                false
            }
            None => false,
        }
    }

    /// Adds a resource subscription.
    pub(crate) fn subscribe(&self, uri: &str) {
        lock(&self.subscriptions).insert(uri.to_string());
    }

    /// Removes a resource subscription.
    pub(crate) fn unsubscribe(&self, uri: &str) {
        lock(&self.subscriptions).remove(uri);
    }

    /// Whether the client subscribed to `uri`.
    pub(crate) fn is_subscribed(&self, uri: &str) -> bool {
        lock(&self.subscriptions).contains(uri)
    }

    /// Ends the session: wakes waiting workers with an error and cancels running calls.
    pub(crate) fn close(&self) {
        for (_, flag) in lock(&self.in_flight).drain() {
            flag.store(true, Ordering::Relaxed);
        }
        self.shut_down();
    }

    /// Server shutdown: ends the GET stream and fails requests waiting on the client (its
    /// answer would need a new connection, which is no longer accepted), but lets running calls
    /// finish within the shutdown grace.
    pub(crate) fn shut_down(&self) {
        for (_, tx) in lock(&self.pending).drain() {
            let _ = tx.send(Err(
                serde_json::json!({"code": -32000, "message": "session closed"}),
            ));
        }
        *lock(&self.standalone) = None;
    }
}

/// The sessions of a stateful server: live ones in memory, and with a shared store their state
/// in Redis too (see [`super::store`]).
#[derive(Debug)]
pub(crate) struct SessionStore {
    sessions: Mutex<HashMap<Arc<str>, Arc<Session>>>,
    shared: Option<Box<dyn SharedSessions>>,
    /// Most sessions held in memory at once (`--max-sessions`): [`SessionStore::create`] refuses
    /// past it, so a client that opens sessions without ending them cannot grow memory.
    max: usize,
    /// Set when a refusal was logged; cleared when a session ends: one warning per time the
    /// store fills up, not one per refused `initialize`.
    full_logged: AtomicBool,
}

/// `initialize` found the session store full.
#[derive(Debug, thiserror::Error)]
#[error("the server is full: it holds {max} sessions (--max-sessions)")]
pub(crate) struct SessionsFull {
    /// The cap that was reached.
    pub(crate) max: usize,
}

impl SessionStore {
    /// A store holding at most `max` sessions at once (at least 1), in memory only.
    pub(crate) fn new(max: usize) -> SessionStore {
        SessionStore {
            sessions: Mutex::new(HashMap::new()),
            shared: None,
            max: max.max(1),
            full_logged: AtomicBool::new(false),
        }
    }

    /// A store holding at most `max` sessions that also keeps session state in `shared`.
    pub(crate) fn with_shared(shared: impl SharedSessions + 'static, max: usize) -> SessionStore {
        SessionStore {
            shared: Some(Box::new(shared)),
            ..SessionStore::new(max)
        }
    }

    /// Whether session state is shared with other instances.
    pub(crate) fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Saves a session's state to the shared store (after `initialize` or a level change).
    pub(crate) async fn persist(&self, session: &Session) -> Result<(), StoreError> {
        match &self.shared {
            Some(store) => store.save(&session.id, &Stored::of(session)).await,
            None => Ok(()),
        }
    }

    /// The session with this id: from memory, or from the shared store when this instance has
    /// not seen it. With a shared store, a session deleted or expired there is gone here too.
    pub(crate) async fn lookup(&self, id: &str) -> Result<Option<Arc<Session>>, StoreError> {
        let Some(store) = &self.shared else {
            return Ok(self.get(id));
        };
        match store.load(id).await? {
            None => {
                if let Some(s) = lock(&self.sessions).remove(id) {
                    s.close();
                }
                Ok(None)
            }
            Some(stored) => {
                if let Some(s) = self.get(id) {
                    return Ok(Some(s));
                }
                let restored = Arc::new(stored.restore(id));
                let mut map = lock(&self.sessions);
                let s = map.entry(restored.id.clone()).or_insert(restored).clone();
                Ok(Some(s))
            }
        }
    }

    /// Deletes a session here and in the shared store; false if it existed nowhere.
    pub(crate) async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let here = self.remove(id);
        match &self.shared {
            Some(store) => Ok(store.delete(id).await? || here),
            None => Ok(here),
        }
    }

    /// Creates and stores a session with a fresh random id, unless the store already holds
    /// its maximum. Sessions restored from the shared store count towards the maximum but are
    /// never refused: they exist already, elsewhere.
    pub(crate) fn create(&self, protocol_version: &str) -> Result<Arc<Session>, SessionsFull> {
        if lock(&self.sessions).len() >= self.max {
            return Err(self.full());
        }
        let id: Arc<str> = new_session_id().into();
        let session = Arc::new(Session::new(id.clone(), protocol_version));
        let mut map = lock(&self.sessions);
        // Checked again: another initialize may have taken the last place meanwhile.
        if map.len() >= self.max {
            drop(map);
            return Err(self.full());
        }
        map.insert(id, session.clone());
        Ok(session)
    }

    fn full(&self) -> SessionsFull {
        if !self.full_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                max_sessions = self.max,
                "session limit reached: initialize gets 503 until sessions end"
            );
        }
        SessionsFull { max: self.max }
    }

    /// The session with this id, marked as used.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        let s = lock(&self.sessions).get(id).cloned()?;
        s.touch();
        Some(s)
    }

    /// Removes and closes a session; false if it did not exist.
    pub(crate) fn remove(&self, id: &str) -> bool {
        let removed = lock(&self.sessions).remove(id);
        match removed {
            Some(s) => {
                self.full_logged.store(false, Ordering::Relaxed);
                s.close();
                true
            }
            None => false,
        }
    }

    /// Number of live sessions.
    pub(crate) fn len(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// All live sessions (for broadcasts).
    pub(crate) fn all(&self) -> Vec<Arc<Session>> {
        lock(&self.sessions).values().cloned().collect()
    }

    /// Removes sessions idle for longer than `idle`; returns how many.
    pub(crate) fn reap(&self, idle: Duration) -> usize {
        let expired: Vec<Arc<Session>> = {
            let mut map = lock(&self.sessions);
            let ids: Vec<Arc<str>> = map
                .iter()
                .filter(|(_, s)| s.idle_for() > idle && lock(&s.in_flight).is_empty())
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| map.remove(id)).collect()
        };
        for s in &expired {
            s.close();
        }
        if !expired.is_empty() {
            self.full_logged.store(false, Ordering::Relaxed);
        }
        expired.len()
    }
}

/// 128 random bits as 32 hex characters (visible ASCII, as the spec requires).
pub(crate) fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: fall back to a time-and-counter id (unique, not secret).
        static SEQ: AtomicI64 = AtomicI64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed) as u128;
        bytes = (nanos ^ (n << 64)).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
