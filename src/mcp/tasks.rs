//! Tasks: tool calls that answer at once with a task id, run on in the background and are
//! polled, fetched, answered and cancelled by id (MCP 2025-11-25 experimental tasks, and the
//! `io.modelcontextprotocol/tasks` extension of 2026-07-28).
//!
//! [`Tasks`] owns the task state (a [`TaskStore`]: memory by default) and the cancellation
//! flags and wake-ups of the calls this instance runs. The calls themselves run through the
//! service (`service::task_call`); the wire shapes of both protocol eras are in [`wire`].
//!
//! A task belongs to whoever created it ([`owner_key`]): everyone else gets "unknown task",
//! exactly as for an id that never existed. Memory stays bounded: at most
//! [`TaskLimits::per_owner`] live tasks per owner and [`TaskLimits::total`] in all, each kept
//! for its TTL (capped at [`TaskLimits::max_ttl`]) and then forgotten.

pub(crate) mod clock;
pub(crate) mod redis;
pub(crate) mod store;
pub(crate) mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{ErrorCode, ErrorData};
use serde_json::{Map, Value};
use tokio::sync::{Notify, watch};

use crate::config::TaskLimits;
use clock::now_ms;
pub(crate) use store::{MemoryStore, Status, TaskRecord, TaskStore};

/// The id of the 2026-07-28 tasks extension, under `capabilities.extensions`.
pub(crate) const EXTENSION_ID: &str = "io.modelcontextprotocol/tasks";
/// The task methods of the 2026-07-28 extension.
pub(crate) const EXTENSION_METHODS: [&str; 3] = ["tasks/get", "tasks/update", "tasks/cancel"];
/// The task methods of protocol 2025-11-25.
pub(crate) const HANDSHAKE_METHODS: [&str; 4] =
    ["tasks/get", "tasks/result", "tasks/list", "tasks/cancel"];
/// The first handshake version with tasks.
pub(crate) const FIRST_VERSION: &str = "2025-11-25";

/// Why a task operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TaskError {
    /// No such task for this caller (or it expired, or it is someone else's).
    #[error("Unknown task: {0}")]
    Unknown(String),
    /// The caller, or the server, holds as many tasks as it may.
    #[error("Too many tasks: {0}")]
    TooMany(&'static str),
    /// Bad params (a malformed `ttl`, a missing `taskId`).
    #[error("Invalid params: {0}")]
    BadParams(String),
    /// The operation does not apply to a task in this status.
    #[error("Task {id} is already {status}")]
    Terminal {
        /// The task.
        id: String,
        /// Its terminal status.
        status: &'static str,
    },
    /// The task store failed (unreachable, bad data).
    #[error("Task store unavailable: {0}")]
    Store(String),
}

impl From<TaskError> for ErrorData {
    fn from(e: TaskError) -> ErrorData {
        let code = match &e {
            TaskError::Unknown(_) | TaskError::BadParams(_) | TaskError::Terminal { .. } => {
                ErrorCode::INVALID_PARAMS
            }
            TaskError::TooMany(_) | TaskError::Store(_) => ErrorCode(-32000),
        };
        ErrorData::new(code, e.to_string(), None)
    }
}

/// How often [`Tasks::change`] retries a write that lost a race.
const CHANGE_ATTEMPTS: usize = 16;

/// The key a task's owner is stored under: the authenticated caller, else the 2025 session
/// that created it, else everyone without credentials (there is nobody to tell apart).
pub(crate) fn owner_key(caller: Option<&str>, session: Option<&str>) -> String {
    match (caller, session) {
        (Some(c), _) => format!("caller:{c}"),
        (None, Some(s)) => format!("session:{s}"),
        (None, None) => "anonymous".into(),
    }
}

/// What this instance knows of a task it runs.
#[derive(Debug, Clone)]
pub(crate) struct Live {
    /// The call's cancellation flag.
    pub(crate) cancel: Arc<AtomicBool>,
    /// Wakes the runner waiting for input or noticing cancellation.
    pub(crate) wake: Arc<Notify>,
    /// A 2025-11-25 task's requests to the client, waiting for a `tasks/result` to carry them.
    pub(crate) relay: Arc<Relay>,
}

/// Messages for the client of a 2025-11-25 task that only a `tasks/result` response stream
/// can carry (the spec's path for `input_required`): kept until one takes them.
#[derive(Debug, Default)]
pub(crate) struct Relay {
    queue: Mutex<std::collections::VecDeque<String>>,
    ready: Notify,
}

impl Relay {
    /// Queues `message` for the next `tasks/result` of the task.
    pub(crate) fn push(&self, message: String) {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(message);
        self.ready.notify_one();
    }

    /// Everything queued, oldest first.
    fn take(&self) -> Vec<String> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.drain(..).collect()
    }
}

/// The task state and the calls running here.
#[derive(Debug)]
pub(crate) struct Tasks {
    store: Arc<dyn TaskStore>,
    live: Mutex<HashMap<String, Live>>,
    changed: watch::Sender<u64>,
    limits: TaskLimits,
    /// This instance's id, recorded on the tasks it runs.
    instance: String,
}

impl Default for Tasks {
    fn default() -> Self {
        Tasks::new(Arc::new(MemoryStore::default()), TaskLimits::default())
    }
}

impl Tasks {
    /// Tasks kept in `store`.
    pub(crate) fn new(store: Arc<dyn TaskStore>, limits: TaskLimits) -> Tasks {
        Tasks {
            store,
            live: Mutex::new(HashMap::new()),
            changed: watch::channel(0).0,
            limits,
            instance: super::session::new_session_id(),
        }
    }

    /// The TTL granted for a request of `ttl` (milliseconds; `None` for the default).
    pub(crate) fn ttl_for(&self, requested: Option<u64>) -> u64 {
        let max = self.limits.max_ttl.as_millis() as u64;
        requested
            .unwrap_or(self.limits.default_ttl.as_millis() as u64)
            .clamp(1, max)
    }

    /// Creates a `working` task of `owner` running `tool`, stored before this returns, so a
    /// `tasks/get` right after the answer finds it.
    pub(crate) async fn create(
        &self,
        owner: &str,
        tool: &str,
        ttl_ms: u64,
    ) -> Result<(TaskRecord, Live), TaskError> {
        let (mine, all) = self.store.count(owner).await?;
        if mine >= self.limits.per_owner {
            return Err(TaskError::TooMany(
                "this caller holds the most tasks it may",
            ));
        }
        if all >= self.limits.total {
            return Err(TaskError::TooMany("the server holds the most tasks it may"));
        }
        let now = now_ms();
        let record = TaskRecord {
            id: super::session::new_session_id(),
            owner: owner.to_string(),
            tool: tool.to_string(),
            status: Status::Working,
            status_message: None,
            created_ms: now,
            updated_ms: now,
            ttl_ms,
            poll_ms: self.limits.poll_interval.as_millis() as u64,
            result: None,
            error: None,
            pending: Vec::new(),
            partial: HashMap::new(),
            answers: Map::new(),
            runner: self.instance.clone(),
            version: 0,
        };
        self.store.put(record.clone()).await?;
        let live = Live {
            cancel: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(Notify::new()),
            relay: Arc::default(),
        };
        self.live_map().insert(record.id.clone(), live.clone());
        Ok((record, live))
    }

    fn live_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The task `id` if `owner` created it; [`TaskError::Unknown`] otherwise, the same for a
    /// task that never existed, expired, or belongs to someone else.
    pub(crate) async fn find(&self, id: &str, owner: &str) -> Result<TaskRecord, TaskError> {
        match self.store.get(id).await? {
            Some(r) if r.owner == owner => self.orphaned(r).await,
            _ => Err(TaskError::Unknown(id.to_string())),
        }
    }

    /// A running task whose instance died (a shared store; no heartbeat) will never end:
    /// it becomes `failed`, saying so.
    async fn orphaned(&self, record: TaskRecord) -> Result<TaskRecord, TaskError> {
        if record.status.is_terminal()
            || record.runner == self.instance
            || self.store.alive(&record.runner).await?
        {
            return Ok(record);
        }
        let changed = self
            .change(&record.id, |r| {
                r.status = Status::Failed;
                r.status_message = Some("The instance running this task stopped".into());
                r.error = Some(serde_json::json!({
                    "code": -32603,
                    "message": "The server instance running this task stopped before it finished"
                }));
                r.pending.clear();
            })
            .await?;
        Ok(changed.unwrap_or(record))
    }

    /// Whether other instances share the task state.
    pub(crate) fn is_shared(&self) -> bool {
        self.store.is_shared()
    }

    /// Keeps this instance's heartbeat alive in a shared store, so that tasks it runs are not
    /// taken for orphans. Runs until the process ends; a store that is down is logged once per
    /// outage.
    pub(crate) async fn keep_alive(self: Arc<Self>) {
        let mut down = false;
        loop {
            match self.store.heartbeat(&self.instance).await {
                Ok(()) => down = false,
                Err(e) if !down => {
                    down = true;
                    tracing::warn!(error = %e, "cannot renew this instance's task heartbeat");
                }
                Err(_) => {}
            }
            tokio::time::sleep(redis::HEARTBEAT_EVERY).await;
        }
    }

    /// The task `id`, whoever owns it (for its runner); `None` if gone or unreadable.
    pub(crate) async fn find_any(&self, id: &str) -> Option<TaskRecord> {
        self.store.get(id).await.ok().flatten()
    }

    /// `owner`'s live tasks, newest first.
    pub(crate) async fn list(&self, owner: &str) -> Result<Vec<TaskRecord>, TaskError> {
        self.store.list(owner).await
    }

    /// Applies `change` to a task that is not terminal yet, stores it and wakes waiters.
    /// `None`: the task is gone or already terminal (a cancel won the race).
    ///
    /// The write is a compare-and-set on the record's version: a cancel and the call's end
    /// racing (on this instance or through a shared store) cannot undo each other; the loser
    /// re-reads and finds the task terminal.
    pub(crate) async fn change(
        &self,
        id: &str,
        change: impl Fn(&mut TaskRecord),
    ) -> Result<Option<TaskRecord>, TaskError> {
        for _ in 0..CHANGE_ATTEMPTS {
            let Some(old) = self.store.get(id).await? else {
                return Ok(None);
            };
            if old.status.is_terminal() {
                return Ok(None);
            }
            let mut record = old.clone();
            change(&mut record);
            record.version = old.version.wrapping_add(1);
            record.updated_ms = now_ms().max(record.updated_ms);
            if self.store.swap(&old, record.clone()).await? {
                self.changed.send_modify(|n| *n = n.wrapping_add(1));
                return Ok(Some(record));
            }
        }
        Err(TaskError::Store(format!(
            "task {id} kept changing under this update"
        )))
    }

    /// Forgets the live state of a task whose call ended here.
    pub(crate) fn ended(&self, id: &str) {
        self.live_map().remove(id);
    }

    /// Cancels `owner`'s task `id`: its status becomes `cancelled` at once and its call is
    /// told to stop. A terminal task is left alone: [`TaskError::Terminal`].
    pub(crate) async fn cancel(&self, id: &str, owner: &str) -> Result<TaskRecord, TaskError> {
        let record = self.find(id, owner).await?;
        if record.status.is_terminal() {
            return Err(TaskError::Terminal {
                id: id.to_string(),
                status: record.status.as_str(),
            });
        }
        let changed = self
            .change(id, |r| {
                r.status = Status::Cancelled;
                r.status_message = Some("The task was cancelled by request.".into());
                r.pending.clear();
                r.partial.clear();
            })
            .await?;
        if let Some(live) = self.live_map().get(id) {
            live.cancel.store(true, Ordering::Relaxed);
            live.wake.notify_one();
        }
        match changed {
            Some(r) => Ok(r),
            // It ended meanwhile: report how.
            None => self.find(id, owner).await,
        }
    }

    /// Records answers to an `input_required` task's requests (`tasks/update`). Keys it did
    /// not ask are ignored. Once every pending request has an answer, the task is `working`
    /// again and its call resumes.
    pub(crate) async fn answer(
        &self,
        id: &str,
        owner: &str,
        responses: Map<String, Value>,
    ) -> Result<(), TaskError> {
        let record = self.find(id, owner).await?;
        if record.status != Status::InputRequired {
            return Ok(());
        }
        let resumed = self
            .change(id, |r| {
                for (key, value) in &responses {
                    if r.pending.iter().any(|(k, _)| k == key) {
                        r.partial.insert(key.clone(), value.clone());
                    }
                }
                if r.pending.iter().all(|(k, _)| r.partial.contains_key(k)) {
                    let pending = std::mem::take(&mut r.pending);
                    for (key, _) in pending {
                        let answer = r.partial.remove(&key).unwrap_or(Value::Null);
                        r.answers.insert(key, answer);
                    }
                    r.partial.clear();
                    r.status = Status::Working;
                    r.status_message = None;
                }
            })
            .await?;
        if resumed.is_some_and(|r| r.status == Status::Working)
            && let Some(live) = self.live_map().get(id)
        {
            live.wake.notify_one();
        }
        Ok(())
    }

    /// Waits until `owner`'s task `id` is terminal, then returns it. Bounded by the task's
    /// TTL: an expired task is unknown. Meanwhile the task's requests to the client (a
    /// 2025-11-25 task in `input_required`, run here) go to `deliver`, which says whether it
    /// took each; one it did not take waits for the next `tasks/result`.
    pub(crate) async fn wait_terminal(
        &self,
        id: &str,
        owner: &str,
        deliver: &(dyn Fn(String) -> bool + Sync),
    ) -> Result<TaskRecord, TaskError> {
        let mut changes = self.changed.subscribe();
        let relay = self.live_map().get(id).map(|l| l.relay.clone());
        loop {
            let record = self.find(id, owner).await?;
            if record.status.is_terminal() {
                return Ok(record);
            }
            if let Some(relay) = &relay {
                let mut messages = relay.take().into_iter();
                while let Some(m) = messages.next() {
                    if !deliver(m.clone()) {
                        // The stream is gone: the rest waits for the next `tasks/result`.
                        for m in std::iter::once(m).chain(messages) {
                            relay.push(m);
                        }
                        break;
                    }
                }
            }
            // A change here wakes us, and so does a request to relay; the timeout also notices
            // expiry and changes made by another instance through a shared store.
            let relayed = async {
                match &relay {
                    Some(r) => r.ready.notified().await,
                    None => std::future::pending().await,
                }
            };
            let _ = tokio::time::timeout(Duration::from_millis(250), async {
                tokio::select! {
                    _ = changes.changed() => {}
                    () = relayed => {}
                }
            })
            .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tasks_are_capped_per_owner_and_in_all_and_private_to_their_owner() {
        let limits = TaskLimits {
            per_owner: 2,
            total: 3,
            ..TaskLimits::default()
        };
        let tasks = Tasks::new(Arc::new(MemoryStore::default()), limits);
        let ttl = tasks.ttl_for(None);
        let (first, _) = tasks.create("a", "t", ttl).await.unwrap();
        tasks.create("a", "t", ttl).await.unwrap();
        let refused = tasks.create("a", "t", ttl).await.unwrap_err();
        assert!(refused.to_string().contains("this caller"), "{refused}");
        tasks.create("b", "t", ttl).await.unwrap();
        let refused = tasks.create("c", "t", ttl).await.unwrap_err();
        assert!(refused.to_string().contains("the server"), "{refused}");

        let theirs = tasks.find(&first.id, "b").await.unwrap_err();
        let nobody = tasks.find("no-such-task", "b").await.unwrap_err();
        assert_eq!(theirs.to_string(), format!("Unknown task: {}", first.id));
        assert_eq!(nobody.to_string(), "Unknown task: no-such-task");
        assert_eq!(
            tasks.cancel(&first.id, "a").await.unwrap().status,
            Status::Cancelled
        );
        assert!(matches!(
            tasks.cancel(&first.id, "a").await,
            Err(TaskError::Terminal { .. })
        ));
    }

    #[test]
    fn ttls_default_and_are_capped() {
        let tasks = Tasks::default();
        assert_eq!(tasks.ttl_for(None), 3_600_000);
        assert_eq!(tasks.ttl_for(Some(5)), 5);
        assert_eq!(tasks.ttl_for(Some(u64::MAX)), 24 * 3_600_000);
    }
}
