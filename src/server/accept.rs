//! The accept loop, in place of `axum::serve`: it admits connections up to
//! `--max-connections`, keeps [`PROBE_RESERVE`] more for `/health` and `/ready`, and closes
//! the rest at once, so a flood of connections can neither exhaust the file descriptors nor
//! make the probes unreachable. Each admitted connection runs on a task of its own
//! ([`super::conn`], which holds the timeouts). On shutdown the loop stops accepting, drops the
//! listener (new connections are refused by the OS), asks every connection to finish its
//! request in flight and close, and returns when they all have.
//!
//! Per connection this costs an atomic add and subtract on a shared counter and one `Arc`;
//! nothing per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

use super::conn;
use super::progress::Timeouts;
use crate::http::cutoff::Cutoff;

/// Connections admitted past `--max-connections`, each for one request to `/health` or
/// `/ready` (anything else gets 503), with timeouts of at most 2 s.
pub(crate) const PROBE_RESERVE: usize = 8;
/// How often at most a refusal or an accept error is logged.
const WARN_EVERY: Duration = Duration::from_secs(10);
/// How long to wait after an accept error that is not about one connection (such as
/// `EMFILE`): the listener stays readable, so retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What every connection of one server shares.
#[derive(Debug)]
pub(crate) struct Shared {
    conn: conn::Common,
    max: usize,
    served: AtomicUsize,
    probes: AtomicUsize,
}

impl Shared {
    /// Connections open now, probes included.
    pub(crate) fn open(&self) -> usize {
        self.served.load(Ordering::Relaxed) + self.probes.load(Ordering::Relaxed)
    }

    /// A place for a new connection: `Some(false)` to be served, `Some(true)` for probes
    /// only, `None` when even the reserve is full. Only the accept loop takes places.
    fn admit(self: &Arc<Self>) -> Option<Place> {
        let probe = if self.served.load(Ordering::Relaxed) < self.max {
            self.served.fetch_add(1, Ordering::Relaxed);
            false
        } else if self.probes.load(Ordering::Relaxed) < PROBE_RESERVE {
            self.probes.fetch_add(1, Ordering::Relaxed);
            true
        } else {
            return None;
        };
        Some(Place {
            shared: self.clone(),
            probe,
        })
    }
}

/// A connection's place, given back when its task ends (or panics).
#[derive(Debug)]
struct Place {
    shared: Arc<Shared>,
    probe: bool,
}

impl Drop for Place {
    fn drop(&mut self) {
        let counter = if self.probe {
            &self.shared.probes
        } else {
            &self.shared.served
        };
        counter.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The limits the loop enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) timeouts: Timeouts,
    /// Connections served at once, [`PROBE_RESERVE`] not included.
    pub(crate) max_connections: usize,
    /// `--max-body-bytes`.
    pub(crate) max_body: usize,
}

/// Serves `router` on `listener` until `stop` becomes true and every connection has closed.
/// Returns the shared state, so the caller can see what is still open at exit.
pub(crate) fn start(
    listener: TcpListener,
    router: crate::http::App,
    options: Options,
    stop: watch::Receiver<bool>,
    cutoff: Arc<Cutoff>,
) -> (Arc<Shared>, impl Future<Output = ()> + Send + 'static) {
    let shared = Arc::new(Shared {
        conn: conn::Common {
            router,
            timeouts: options.timeouts,
            stop,
            cutoff,
            max_body: options.max_body,
        },
        max: options.max_connections.max(1),
        served: AtomicUsize::new(0),
        probes: AtomicUsize::new(0),
    });
    (shared.clone(), accept_loop(listener, shared))
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Every connection task holds a receiver; `closed` resolves when the last is gone.
    let (done_tx, done_rx) = watch::channel(());
    let mut stop = shared.conn.stop.clone();
    let stopping = async move {
        let _ = stop.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stopping);
    let mut refusal_warned: Option<Instant> = None;
    let mut error_warned: Option<Instant> = None;
    let mut refused = 0u64;
    loop {
        let tcp = tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    accept_failed(&e, &mut error_warned).await;
                    continue;
                }
            },
            () = &mut stopping => break,
        };
        let Some(place) = shared.admit() else {
            // Closed at once: the client learns now, not after a timeout.
            drop(tcp);
            refused += 1;
            if refusal_warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
                refusal_warned = Some(Instant::now());
                tracing::warn!(
                    max_connections = shared.max,
                    refused,
                    "connection limit reached: new connections are closed at once"
                );
                refused = 0;
            }
            continue;
        };
        let done = done_rx.clone();
        tokio::spawn(async move {
            conn::serve(tcp, &place.shared.conn, place.probe).await;
            drop(place);
            drop(done);
        });
    }
    drop(listener);
    drop(done_rx);
    done_tx.closed().await;
}

/// An accept error: one connection's (it was reset before we took it) is skipped; anything else
/// (`EMFILE`, `ENFILE`, `ENOBUFS`) is logged and waited out.
async fn accept_failed(e: &std::io::Error, warned: &mut Option<Instant>) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        return;
    }
    if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
        *warned = Some(Instant::now());
        tracing::warn!(
            error = %e,
            hint = "see --max-connections and the open-files limit",
            "cannot accept connections"
        );
    }
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}
