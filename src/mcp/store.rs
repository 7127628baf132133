//! The shared session store: stateful sessions kept in Redis, so a client that initialized on
//! one instance can continue on another behind a load balancer.
//!
//! Each instance keeps its live [`Session`](super::session::Session) objects in memory (streams, running calls and
//! pending client requests cannot move between processes); what makes a session usable
//! anywhere is its negotiated state, stored as JSON under `fastmcp:session:{id}` with the idle
//! timeout as its TTL. An instance that does not know a session id loads it from Redis; a
//! session deleted anywhere is gone everywhere because every use checks Redis first. When Redis
//! cannot be reached, requests on sessions fail with a clear error and nothing crashes.

use std::time::Duration;

use futures_util::future::BoxFuture;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

pub(crate) use super::session::StoreError;
use super::session::{SharedSessions, Stored};

/// A Redis-backed store of session state.
pub(crate) struct RedisStore {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    ttl: Duration,
    /// Where the store is, without credentials, for messages.
    pub(crate) display: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("at", &self.display)
            .finish()
    }
}

fn key(id: &str) -> String {
    format!("fastmcp:session:{id}")
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl RedisStore {
    /// A store at `url` (`redis://host:port/db`); connects on first use, so a Redis that is down
    /// at startup only fails the requests that need it.
    pub(crate) fn new(url: &str, ttl: Duration) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let info = client.get_connection_info();
        let display = format!("redis://{}", info.addr());
        Ok(RedisStore {
            client,
            conn: OnceCell::new(),
            ttl,
            display,
        })
    }

    /// The connection, made on first use (shared with the task store).
    pub(crate) async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        let c = self
            .conn
            .get_or_try_init(|| async {
                tokio::time::timeout(
                    Duration::from_secs(2),
                    ConnectionManager::new_with_config(self.client.clone(), config),
                )
                .await
                .map_err(|_| unavailable("timed out connecting"))?
                .map_err(unavailable)
            })
            .await?;
        Ok(c.clone())
    }
}

impl SharedSessions for RedisStore {
    fn save<'a>(
        &'a self,
        id: &'a str,
        stored: &'a Stored,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let json = serde_json::to_string(stored).map_err(unavailable)?;
            let mut c = self.conn().await?;
            let ttl = self.ttl.as_secs().max(1);
            c.set_ex::<_, _, ()>(key(id), json, ttl)
                .await
                .map_err(unavailable)
        })
    }

    fn load<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Stored>, StoreError>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let ttl = self.ttl.as_secs().max(1);
            let json: Option<String> = c
                .get_ex(key(id), redis::Expiry::EX(ttl))
                .await
                .map_err(unavailable)?;
            Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let n: u64 = c.del(key(id)).await.map_err(unavailable)?;
            Ok(n > 0)
        })
    }
}
