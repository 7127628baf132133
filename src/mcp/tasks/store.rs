//! Where task state lives: the [`TaskStore`] trait and the in-memory [`MemoryStore`].
//!
//! A store keeps [`TaskRecord`]s by id until their TTL runs out. It knows nothing of who may
//! see a task: [`super::Tasks`] checks the owner on every read. The trait is asynchronous so
//! that a store in another process (Redis) can implement it; the memory store answers at once.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::TaskError;
use super::clock::now_ms;

/// A task's status. `Completed`, `Failed` and `Cancelled` are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// The call is running.
    Working,
    /// The call waits for answers from the client (`tasks/update`).
    InputRequired,
    /// The call returned a result (which may be a tool error, `isError: true`).
    Completed,
    /// The call ended with a protocol error, or could not finish.
    Failed,
    /// Cancelled by the client.
    Cancelled,
}

impl Status {
    /// No further change happens to a task in this status.
    pub(crate) fn is_terminal(self) -> bool {
        matches!(self, Status::Completed | Status::Failed | Status::Cancelled)
    }

    /// The wire spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Working => "working",
            Status::InputRequired => "input_required",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }
}

/// Everything kept about one task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaskRecord {
    /// The task id: 128 random bits, hex.
    pub(crate) id: String,
    /// Who created it ([`super::owner_key`]); only they see it.
    pub(crate) owner: String,
    /// The tool it runs.
    pub(crate) tool: String,
    /// Where it stands.
    pub(crate) status: Status,
    /// A human-readable note on the status.
    #[serde(default)]
    pub(crate) status_message: Option<String>,
    /// Creation time, in milliseconds since the Unix epoch.
    pub(crate) created_ms: u64,
    /// Last change, in milliseconds since the Unix epoch.
    pub(crate) updated_ms: u64,
    /// How long after creation the task is kept, in milliseconds.
    pub(crate) ttl_ms: u64,
    /// How often clients should poll, in milliseconds.
    pub(crate) poll_ms: u64,
    /// The tool's result, once completed.
    #[serde(default)]
    pub(crate) result: Option<Value>,
    /// The JSON-RPC error (`code`, `message`, `data`), once failed.
    #[serde(default)]
    pub(crate) error: Option<Value>,
    /// Requests to the client still unanswered, by key (`input_required`).
    #[serde(default)]
    pub(crate) pending: Vec<(String, Value)>,
    /// Answers to `pending` received so far, by key.
    #[serde(default)]
    pub(crate) partial: HashMap<String, Value>,
    /// Answers of the rounds already resumed, by the key of the request they answer.
    #[serde(default)]
    pub(crate) answers: Map<String, Value>,
    /// The instance running the call (for tasks whose instance died while they ran).
    #[serde(default)]
    pub(crate) runner: String,
    /// Counts the changes, for [`TaskStore::swap`].
    #[serde(default)]
    pub(crate) version: u64,
}

impl TaskRecord {
    /// The time after which the task is gone, in milliseconds since the epoch.
    pub(crate) fn expires_ms(&self) -> u64 {
        self.created_ms.saturating_add(self.ttl_ms)
    }

    /// Whether the TTL has run out at `now`.
    pub(crate) fn expired(&self, now: u64) -> bool {
        now >= self.expires_ms()
    }
}

/// Task state storage. Every method may fail (a store in another process is unreachable).
pub(crate) trait TaskStore: Send + Sync + std::fmt::Debug {
    /// Inserts or replaces a record.
    fn put(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), TaskError>>;
    /// Replaces `old` with `new` if the stored record still has `old`'s version; false if it
    /// changed meanwhile (or is gone).
    fn swap<'a>(
        &'a self,
        old: &'a TaskRecord,
        new: TaskRecord,
    ) -> BoxFuture<'a, Result<bool, TaskError>>;
    /// The record with this id, unless it expired.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskError>>;
    /// The live records of `owner`, newest first.
    fn list<'a>(&'a self, owner: &'a str) -> BoxFuture<'a, Result<Vec<TaskRecord>, TaskError>>;
    /// How many live records there are: of `owner`, and in all.
    fn count<'a>(&'a self, owner: &'a str) -> BoxFuture<'a, Result<(usize, usize), TaskError>>;
    /// Records that `instance` is alive (a shared store; nothing to do in memory).
    fn heartbeat<'a>(&'a self, _instance: &'a str) -> BoxFuture<'a, Result<(), TaskError>> {
        Box::pin(async { Ok(()) })
    }
    /// Whether `instance` was alive lately. In memory the only instance is this one.
    fn alive<'a>(&'a self, _instance: &'a str) -> BoxFuture<'a, Result<bool, TaskError>> {
        Box::pin(async { Ok(true) })
    }
    /// Whether other instances share the store (and may change a task this one runs).
    fn is_shared(&self) -> bool {
        false
    }
}

/// Task state in this process's memory: the default.
#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    records: Mutex<HashMap<String, TaskRecord>>,
}

impl MemoryStore {
    fn locked(&self) -> std::sync::MutexGuard<'_, HashMap<String, TaskRecord>> {
        let mut map = self.records.lock().unwrap_or_else(|e| e.into_inner());
        // Expiry on access keeps memory bounded without a timer: every write sweeps.
        let now = now_ms();
        map.retain(|_, r| !r.expired(now));
        map
    }
}

impl TaskStore for MemoryStore {
    fn put(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), TaskError>> {
        self.locked().insert(record.id.clone(), record);
        Box::pin(async { Ok(()) })
    }

    fn swap<'a>(
        &'a self,
        old: &'a TaskRecord,
        new: TaskRecord,
    ) -> BoxFuture<'a, Result<bool, TaskError>> {
        let swapped = {
            let mut map = self.locked();
            match map.get_mut(&old.id) {
                Some(current) if current.version == old.version => {
                    *current = new;
                    true
                }
                _ => false,
            }
        };
        Box::pin(async move { Ok(swapped) })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskError>> {
        let now = now_ms();
        let found = {
            let map = self.records.lock().unwrap_or_else(|e| e.into_inner());
            map.get(id).filter(|r| !r.expired(now)).cloned()
        };
        Box::pin(async move { Ok(found) })
    }

    fn list<'a>(&'a self, owner: &'a str) -> BoxFuture<'a, Result<Vec<TaskRecord>, TaskError>> {
        let mut mine: Vec<TaskRecord> = self
            .locked()
            .values()
            .filter(|r| r.owner == owner)
            .cloned()
            .collect();
        mine.sort_by(|a, b| (b.created_ms, &b.id).cmp(&(a.created_ms, &a.id)));
        Box::pin(async move { Ok(mine) })
    }

    fn count<'a>(&'a self, owner: &'a str) -> BoxFuture<'a, Result<(usize, usize), TaskError>> {
        let map = self.locked();
        let counts = (map.values().filter(|r| r.owner == owner).count(), map.len());
        Box::pin(async move { Ok(counts) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, owner: &str, created_ms: u64, ttl_ms: u64) -> TaskRecord {
        TaskRecord {
            id: id.into(),
            owner: owner.into(),
            tool: "t".into(),
            status: Status::Working,
            status_message: None,
            created_ms,
            updated_ms: created_ms,
            ttl_ms,
            poll_ms: 500,
            result: None,
            error: None,
            pending: Vec::new(),
            partial: HashMap::new(),
            answers: Map::new(),
            runner: String::new(),
            version: 0,
        }
    }

    #[tokio::test]
    async fn the_memory_store_lists_newest_first_and_forgets_expired_tasks() {
        let store = MemoryStore::default();
        let now = now_ms();
        store.put(record("a", "me", now, 60_000)).await.unwrap();
        store.put(record("b", "me", now + 1, 60_000)).await.unwrap();
        store.put(record("c", "you", now, 60_000)).await.unwrap();
        store
            .put(record("old", "me", now - 10_000, 1))
            .await
            .unwrap();
        let ids: Vec<String> = store
            .list("me")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["b", "a"]);
        assert_eq!(store.count("me").await.unwrap(), (2, 3));
        assert!(store.get("old").await.unwrap().is_none());
        assert_eq!(store.get("c").await.unwrap().unwrap().owner, "you");
    }

    #[tokio::test]
    async fn a_swap_with_a_stale_version_changes_nothing() {
        let store = MemoryStore::default();
        let old = record("t", "me", now_ms(), 60_000);
        store.put(old.clone()).await.unwrap();
        let mut done = old.clone();
        done.status = Status::Completed;
        done.version = 1;
        assert!(store.swap(&old, done.clone()).await.unwrap());
        let mut cancelled = old.clone();
        cancelled.status = Status::Cancelled;
        cancelled.version = 1;
        assert!(
            !store.swap(&old, cancelled).await.unwrap(),
            "the first writer wins"
        );
        assert_eq!(
            store.get("t").await.unwrap().unwrap().status,
            Status::Completed
        );
    }
}
