//! Keeps one isolated generation's child running: starts it, restarts it with backoff after
//! a crash, gives up on a crash loop (reported by `/ready` until a reload), and stops it
//! once the generation is retired and its calls are done.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::CrashLoop;
use super::child::ChildSpec;
use super::conn::{Conn, OnEnd, SharedListing};
use super::lock;

use crate::plugin::generation::Remote;
use crate::plugin::library::Staged;
use crate::plugin::listing::Listing;
use crate::plugin::request::PluginRequest;
use crate::plugin::{CallOutcome, CallSink};

/// The first restart waits this long; each crash in a row (with no call answered between)
/// doubles it, up to [`MAX_BACKOFF`].
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait before a restart.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The supervisor of one isolated generation.
pub(crate) struct Supervisor {
    /// The plugin's label, until its manifest names it.
    label: String,
    /// The plugin's name from its manifest.
    name: OnceLock<String>,
    /// How each child starts.
    spec: ChildSpec,
    /// The generation's private copy of the library: every restart loads these same bytes.
    _staged: Staged,
    crash_loop: CrashLoop,
    /// The server's runtime, which the children's readers enter (see `Conn::spawn`).
    runtime: Option<tokio::runtime::Handle>,
    state: Mutex<State>,
    /// Woken when a child comes up, or the supervisor gives up or closes.
    changed: tokio::sync::Notify,
    /// The generation's listing, which every child's `wire::LISTED` updates.
    listing: SharedListing,
}

#[derive(Default)]
struct State {
    /// The child serving now; `None` while one restarts.
    conn: Option<Arc<Conn>>,
    /// Why the plugin is not served any more (a crash loop).
    failed: Option<String>,
    /// When its children crashed, within the crash-loop window.
    crashes: VecDeque<Instant>,
    /// Crashes in a row with no call answered between: the backoff's exponent.
    in_a_row: u32,
    /// The generation is retired: no more restarts.
    closing: bool,
}

impl Supervisor {
    /// Starts the first child of a generation from `staged` and returns its supervisor with
    /// the manifest JSON the child sent. Blocking.
    pub(crate) fn start(
        staged: Staged,
        spec: ChildSpec,
        plugin: &str,
        crash_loop: CrashLoop,
    ) -> Result<(Arc<Supervisor>, Vec<u8>), String> {
        let supervisor = Arc::new(Supervisor {
            label: plugin.to_owned(),
            name: OnceLock::new(),
            spec,
            _staged: staged,
            crash_loop,
            runtime: tokio::runtime::Handle::try_current().ok(),
            state: Mutex::new(State::default()),
            changed: tokio::sync::Notify::new(),
            listing: SharedListing::default(),
        });
        let (conn, manifest) = supervisor.spawn_child()?;
        if let Some(name) = conn.plugin_name() {
            let _ = supervisor.name.set(name);
        }
        lock(&supervisor.state).conn = Some(conn);
        Ok((supervisor, manifest))
    }

    /// The plugin's name, for errors and logs.
    fn plugin(&self) -> &str {
        self.name.get().map_or(&self.label, String::as_str)
    }

    fn spawn_child(self: &Arc<Self>) -> Result<(Arc<Conn>, Vec<u8>), String> {
        let weak = Arc::downgrade(self);
        let on_end: OnEnd = Box::new(move |conn, cause| {
            if let Some(s) = weak.upgrade() {
                s.child_ended(conn, cause);
            }
        });
        let listing = self.listing.clone();
        Conn::spawn(
            &self.spec,
            self.plugin(),
            self.runtime.clone(),
            on_end,
            listing,
        )
    }

    /// Gives the children the generation's listing (once the generation exists).
    pub(crate) fn set_listing(&self, listing: Arc<Listing>) {
        let _ = self.listing.set(listing);
    }

    /// Runs one request in the child, waiting for a restart if one is under way.
    pub(crate) async fn call(
        &self,
        request: PluginRequest,
        sink: Arc<dyn CallSink>,
        cancel: Arc<AtomicBool>,
    ) -> CallOutcome {
        let conn = loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let st = lock(&self.state);
                if let Some(reason) = &st.failed {
                    return super::death::crashed(self.plugin(), reason);
                }
                if st.closing {
                    return CallOutcome::Invalid("the plugin was unloaded".into());
                }
                if let Some(conn) = &st.conn {
                    break conn.clone();
                }
            }
            notified.await;
        };
        conn.call(request, sink, cancel).await
    }

    /// Why the plugin is not served any more, if it crashed in a loop.
    pub(crate) fn failure(&self) -> Option<String> {
        lock(&self.state).failed.clone()
    }

    /// The generation is retired and its calls are done: stop its child.
    pub(crate) fn close(&self) {
        let conn = {
            let mut st = lock(&self.state);
            st.closing = true;
            st.conn.take()
        };
        self.changed.notify_waiters();
        if let Some(conn) = conn {
            conn.shutdown();
        }
    }

    /// A child's socket ended: unless it was asked to, it crashed. Logs it, and restarts the
    /// child after the backoff or gives up on a crash loop.
    fn child_ended(self: Arc<Self>, conn: &Arc<Conn>, cause: String) {
        if conn.stopping.load(Ordering::SeqCst) {
            return;
        }
        let now = Instant::now();
        let mut st = lock(&self.state);
        if st.closing || !st.conn.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            return;
        }
        st.conn = None;
        tracing::error!(
            plugin = %self.plugin(),
            generation = self.spec.generation,
            pid = conn.pid,
            cause = %cause,
            stderr = %conn.stderr_tail(),
            "isolated plugin crashed"
        );
        if conn.answered.load(Ordering::Relaxed) {
            st.in_a_row = 0;
        }
        self.count_crash(&mut st, now, &cause);
    }

    /// Records a crash (or a failed restart) and decides what comes next.
    fn count_crash(self: &Arc<Self>, st: &mut State, now: Instant, cause: &str) {
        st.crashes.push_back(now);
        let window = self.crash_loop.window;
        while st
            .crashes
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > window)
        {
            st.crashes.pop_front();
        }
        if st.crashes.len() >= self.crash_loop.crashes as usize {
            let reason = format!(
                "{cause}; it crashed {} times within {}s, so it is not restarted until a new \
                 build loads",
                st.crashes.len(),
                window.as_secs()
            );
            tracing::error!(plugin = %self.plugin(), generation = self.spec.generation, "isolated plugin is in a crash loop: not restarting it");
            st.failed = Some(reason);
            self.changed.notify_waiters();
            return;
        }
        let delay = FIRST_BACKOFF
            .saturating_mul(1 << st.in_a_row.min(16))
            .min(MAX_BACKOFF);
        st.in_a_row += 1;
        let weak = Arc::downgrade(self);
        let restart = move || {
            std::thread::sleep(delay);
            if let Some(s) = weak.upgrade() {
                s.restart();
            }
        };
        if std::thread::Builder::new()
            .name("fastmcp-isolated-restart".into())
            .spawn(restart)
            .is_err()
        {
            st.failed = Some(format!("{cause}; no thread to restart it on"));
            self.changed.notify_waiters();
        }
    }

    fn restart(self: Arc<Self>) {
        if lock(&self.state).closing {
            return;
        }
        let started = self.spawn_child();
        let mut st = lock(&self.state);
        match started {
            Ok((conn, _)) if st.closing => {
                drop(st);
                conn.shutdown();
            }
            Ok((conn, _)) => {
                tracing::info!(plugin = %self.plugin(), generation = self.spec.generation, pid = conn.pid, "isolated plugin restarted");
                st.conn = Some(conn);
                drop(st);
                self.changed.notify_waiters();
            }
            Err(why) => {
                tracing::error!(plugin = %self.plugin(), error = %why, "isolated plugin did not restart");
                self.count_crash(&mut st, Instant::now(), &why);
            }
        }
    }
}

impl Remote for Supervisor {
    fn call(
        &self,
        request: PluginRequest,
        sink: Arc<dyn CallSink>,
        cancel: Arc<AtomicBool>,
    ) -> Pin<Box<dyn Future<Output = CallOutcome> + Send + '_>> {
        Box::pin(Supervisor::call(self, request, sink, cancel))
    }

    fn failure(&self) -> Option<String> {
        Supervisor::failure(self)
    }

    fn close(&self) {
        Supervisor::close(self);
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.close();
    }
}
