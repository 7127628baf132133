//! Where a generation's plugin code runs ([`Backend`]): loaded into this process, or in a
//! supervised child process (`--isolate`, behind the [`Remote`] trait that
//! `crate::plugin::isolate` implements), and what only the latter needs.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::{CallOutcome, Generation, LibraryPtr};
use crate::plugin::library::Library;
use crate::plugin::listing::Listing;
use crate::plugin::manifest::Manifest;
use crate::plugin::pending::PendingCalls;
use crate::plugin::pool::{Pool, PoolOptions};
use crate::plugin::request::PluginRequest;
use crate::plugin::sink::CallSink;

/// A plugin served from another process (`crate::plugin::isolate::Supervisor`). A trait here,
/// so that this module does not depend on the one that implements it.
pub(crate) trait Remote: Send + Sync {
    /// Runs one request there; resolves with its outcome (a crash is an outcome too).
    fn call(
        &self,
        request: PluginRequest,
        sink: Arc<dyn CallSink>,
        cancel: Arc<AtomicBool>,
    ) -> Pin<Box<dyn Future<Output = CallOutcome> + Send + '_>>;
    /// Why the plugin is not served any more, if it gave up (a crash loop).
    fn failure(&self) -> Option<String>;
    /// The generation is retired and its calls are done: stop serving it.
    fn close(&self);
}

/// Where a generation's plugin code runs.
pub(super) enum Backend {
    /// Loaded into this process.
    Library {
        /// Kept in an `Arc` so jobs can point at it; only [`Drop`] releases it.
        library: Arc<Library>,
        /// Async calls the plugin has not completed; kept until after `unload` (see `Drop`).
        pending: Arc<PendingCalls>,
    },
    /// In a supervised child process (`--isolate`).
    Child(Arc<dyn Remote>),
}

impl Generation {
    /// A generation whose plugin runs in the child process `supervisor` keeps up, with the
    /// manifest that child sent.
    pub(crate) fn isolated(
        id: u64,
        manifest: Manifest,
        content_hash: u64,
        path: &Path,
        supervisor: Arc<dyn Remote>,
        listing: Arc<Listing>,
    ) -> Arc<Generation> {
        Arc::new(Generation {
            id,
            listing,
            manifest,
            content_hash,
            path: path.to_owned(),
            backend: Backend::Child(supervisor),
            pool: Pool::new("isolated", PoolOptions::default()),
            reaped: std::sync::Mutex::new(None),
        })
    }

    /// Whether the plugin runs in a child process (`--isolate`).
    pub(crate) fn is_isolated(&self) -> bool {
        matches!(self.backend, Backend::Child(_))
    }

    /// Why an isolated plugin is not served any more (its child crashed in a loop).
    pub(crate) fn failure(&self) -> Option<String> {
        match &self.backend {
            Backend::Child(s) => s.failure(),
            Backend::Library { .. } => None,
        }
    }

    /// The manifest JSON as the plugin writes it (what an isolated plugin's child sends its
    /// host). Runs the plugin's `manifest` again, on a worker. Blocking.
    pub(crate) fn manifest_json(&self) -> Vec<u8> {
        match &self.backend {
            Backend::Library { library, .. } => {
                let lib = LibraryPtr(Arc::as_ptr(library));
                let reply = self.pool.run_blocking(move || {
                    let lib = lib;
                    // SAFETY: as in `call`: a job on this generation's own workers.
                    unsafe { &*lib.0 }.manifest()
                });
                reply.map(|r| r.body).unwrap_or_default()
            }
            Backend::Child(_) => Vec::new(),
        }
    }

    /// Drops this reference and waits, at most `timeout`, until the plugin is unloaded (if
    /// it was the last one). For a child process that exits right after.
    pub(crate) fn unload_and_wait(self: Arc<Self>, timeout: std::time::Duration) {
        let (tx, rx) = std::sync::mpsc::channel();
        *self.reaped.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        drop(self);
        let _ = rx.recv_timeout(timeout);
    }
}
