//! Task state in Redis, shared by every instance that uses the same Redis: a task created
//! through one instance can be polled, answered, cancelled and its result fetched through
//! another, and a finished task's result outlives the instance that ran it.
//!
//! Keys: `fastmcp:task:{id}` holds the record as JSON and expires with the task's TTL;
//! `fastmcp:tasks:owner:{owner}` and `fastmcp:tasks:all` are sorted sets of task ids scored by
//! expiry time, for listing and the limits (expired members are trimmed on use);
//! `fastmcp:instance:{id}` exists while that instance is alive ([`HEARTBEAT_TTL`]), so a task
//! whose instance died while it ran can be told from one that is still running.

use futures_util::future::BoxFuture;
use redis::AsyncCommands;
use std::time::Duration;

use std::sync::Arc;

use super::clock::now_ms;
use super::store::{TaskRecord, TaskStore};
use super::{TaskError, TaskLimits, Tasks};
use crate::mcp::store::RedisStore;

/// How long an instance counts as alive after its last heartbeat.
pub(crate) const HEARTBEAT_TTL: Duration = Duration::from_secs(5);
/// How often an instance renews its heartbeat.
pub(crate) const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// How long the index sets outlive their last write (longer than any task's TTL).
const INDEX_TTL_SECS: i64 = 25 * 3600;

impl Tasks {
    /// Tasks kept in the Redis at `url` (the `--session-store`), with this instance's heartbeat
    /// running. `None`, logged, when the URL does not parse or there is no runtime for the
    /// heartbeat: the caller keeps tasks in memory (the session store logs the same error).
    pub(crate) fn in_redis(url: &str, limits: TaskLimits) -> Option<Arc<Tasks>> {
        let redis = match RedisStore::new(url, limits.max_ttl) {
            Ok(redis) => redis,
            Err(e) => {
                tracing::error!(error = %e, "cannot keep tasks in Redis; they stay in memory");
                return None;
            }
        };
        let tasks = Arc::new(Tasks::new(Arc::new(RedisTasks::new(redis)), limits));
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                drop(runtime.spawn(tasks.clone().keep_alive()));
                Some(tasks)
            }
            Err(_) => {
                tracing::error!("no runtime for the task heartbeat; tasks stay in memory");
                None
            }
        }
    }
}

fn task_key(id: &str) -> String {
    format!("fastmcp:task:{id}")
}

fn owner_key(owner: &str) -> String {
    format!("fastmcp:tasks:owner:{owner}")
}

const ALL: &str = "fastmcp:tasks:all";

/// Compare-and-set of a record on its `version` (`KEYS[1]`; ARGV: old version, new JSON, TTL ms).
const SWAP: &str = r#"
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local version = cjson.decode(current)['version'] or 0
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"#;

fn instance_key(id: &str) -> String {
    format!("fastmcp:instance:{id}")
}

fn store_error(e: impl std::fmt::Display) -> TaskError {
    TaskError::Store(e.to_string())
}

/// Tasks kept in Redis.
#[derive(Debug)]
pub(crate) struct RedisTasks {
    redis: RedisStore,
}

impl RedisTasks {
    /// Tasks in the Redis `redis` connects to.
    pub(crate) fn new(redis: RedisStore) -> RedisTasks {
        RedisTasks { redis }
    }

    async fn conn(&self) -> Result<redis::aio::ConnectionManager, TaskError> {
        self.redis.conn().await.map_err(store_error)
    }

    /// The live ids of the sorted set `set`, after trimming the expired ones.
    async fn live_ids(&self, set: &str) -> Result<Vec<String>, TaskError> {
        let mut c = self.conn().await?;
        let _: usize = c
            .zrembyscore(set, "-inf", now_ms())
            .await
            .map_err(store_error)?;
        c.zrange(set, 0, -1).await.map_err(store_error)
    }
}

impl TaskStore for RedisTasks {
    fn put(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), TaskError>> {
        Box::pin(async move {
            let expires = record.expires_ms();
            let left = expires.saturating_sub(now_ms());
            if left == 0 {
                return Ok(());
            }
            let json = serde_json::to_string(&record).map_err(store_error)?;
            let mut c = self.conn().await?;
            let owner = owner_key(&record.owner);
            redis::pipe()
                .pset_ex(task_key(&record.id), json, left)
                .ignore()
                .zadd(&owner, &record.id, expires)
                .ignore()
                .expire(&owner, INDEX_TTL_SECS)
                .ignore()
                .zadd(ALL, &record.id, expires)
                .ignore()
                .expire(ALL, INDEX_TTL_SECS)
                .ignore()
                .query_async::<()>(&mut c)
                .await
                .map_err(store_error)
        })
    }

    fn swap<'a>(
        &'a self,
        old: &'a TaskRecord,
        new: TaskRecord,
    ) -> BoxFuture<'a, Result<bool, TaskError>> {
        Box::pin(async move {
            let left = new.expires_ms().saturating_sub(now_ms());
            if left == 0 {
                return Ok(false);
            }
            let json = serde_json::to_string(&new).map_err(store_error)?;
            let mut c = self.conn().await?;
            // Atomic on the server: the record is replaced only if no one changed it since.
            let swapped: i64 = redis::cmd("EVAL")
                .arg(SWAP)
                .arg(1)
                .arg(task_key(&old.id))
                .arg(old.version)
                .arg(json)
                .arg(left)
                .query_async(&mut c)
                .await
                .map_err(store_error)?;
            Ok(swapped == 1)
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskError>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let json: Option<String> = c.get(task_key(id)).await.map_err(store_error)?;
            Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
        })
    }

    fn list<'a>(&'a self, owner: &'a str) -> BoxFuture<'a, Result<Vec<TaskRecord>, TaskError>> {
        Box::pin(async move {
            let ids = self.live_ids(&owner_key(owner)).await?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let keys: Vec<String> = ids.iter().map(|id| task_key(id)).collect();
            let mut c = self.conn().await?;
            let found: Vec<Option<String>> = c.mget(keys).await.map_err(store_error)?;
            let mut records: Vec<TaskRecord> = found
                .into_iter()
                .flatten()
                .filter_map(|j| serde_json::from_str(&j).ok())
                .collect();
            records.sort_by(|a: &TaskRecord, b| (b.created_ms, &b.id).cmp(&(a.created_ms, &a.id)));
            Ok(records)
        })
    }

    fn count<'a>(&'a self, owner: &'a str) -> BoxFuture<'a, Result<(usize, usize), TaskError>> {
        Box::pin(async move {
            let mine = self.live_ids(&owner_key(owner)).await?.len();
            let all = self.live_ids(ALL).await?.len();
            Ok((mine, all))
        })
    }

    fn heartbeat<'a>(&'a self, instance: &'a str) -> BoxFuture<'a, Result<(), TaskError>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let ms = HEARTBEAT_TTL.as_millis() as u64;
            c.pset_ex::<_, _, ()>(instance_key(instance), 1, ms)
                .await
                .map_err(store_error)
        })
    }

    fn alive<'a>(&'a self, instance: &'a str) -> BoxFuture<'a, Result<bool, TaskError>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            c.exists(instance_key(instance)).await.map_err(store_error)
        })
    }

    fn is_shared(&self) -> bool {
        true
    }
}
