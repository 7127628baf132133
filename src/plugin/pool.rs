//! Worker threads owned by one plugin generation.
//!
//! Plugin code runs on these threads, except calls of inline tools (on tokio's threads, which
//! never exit while the process runs: `docs/architecture.md`, "Inline tools"). A library may
//! leave thread-local destructors on any thread that ran its code (`std::thread::current()`
//! does), and such a destructor crashes the process if it runs after `dlclose`. So each
//! generation gets its own threads, and [`Pool::shutdown`] joins every one of them before the
//! library is closed (`shared/reference/plugin-loading.md`, "Unloading").
//!
//! Threads start lazily, up to a bound, and exit after being idle for a while; a thread that
//! exits on its own runs its destructors while the library is still loaded, which is fine.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A unit of work: runs plugin code on a pool thread.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long an idle worker waits for work before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Threads waiting for work; a submit only spawns when none is idle.
    idle: usize,
    /// Threads alive (running a job or idle).
    alive: usize,
    closed: bool,
    handles: Vec<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    max_threads: usize,
    name: String,
}

/// A bounded, lazily grown set of worker threads. Cloning shares the pool.
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.shared.name)
            .finish()
    }
}

/// The pool was shut down; the job was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolClosed;

impl Pool {
    /// A pool whose threads are named `name` and of which at most `max_threads` run at once.
    pub fn new(name: impl Into<String>, max_threads: usize) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                ready: Condvar::new(),
                max_threads: max_threads.max(1),
                name: name.into(),
            }),
        }
    }

    /// Queues `job`; it runs on a pool thread as soon as one is free.
    pub fn submit(&self, job: Job) -> Result<(), PoolClosed> {
        let mut st = lock(&self.shared.state);
        if st.closed {
            return Err(PoolClosed);
        }
        st.queue.push_back(job);
        if st.idle == 0 && st.alive < self.shared.max_threads {
            st.alive += 1;
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name(self.shared.name.clone())
                .spawn(move || worker(shared));
            match spawned {
                Ok(handle) => st.handles.push(handle),
                // The job stays queued for a thread that already exists, if any.
                Err(_) => st.alive -= 1,
            }
        } else {
            self.shared.ready.notify_one();
        }
        Ok(())
    }

    /// Runs `f` on a pool thread and waits for its result (for load-time work, off the
    /// async runtime).
    pub fn run_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolClosed> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.submit(Box::new(move || {
            let _ = tx.send(f());
        }))?;
        rx.recv().map_err(|_| PoolClosed)
    }

    /// Refuses new jobs, lets queued and running ones finish, and joins every thread.
    pub fn shutdown(&self) {
        let handles = {
            let mut st = lock(&self.shared.state);
            st.closed = true;
            self.shared.ready.notify_all();
            std::mem::take(&mut st.handles)
        };
        for handle in handles {
            let _ = handle.join();
        }
        // Threads that exited on their own were already reaped below; any spawned after the
        // take above cannot exist because `closed` stops `submit`.
    }

    /// Number of live worker threads (for tests and metrics).
    pub fn threads(&self) -> usize {
        lock(&self.shared.state).alive
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // A job never runs while the lock is held, so a poisoned lock still holds consistent state.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn worker(shared: Arc<Shared>) {
    let mut st = lock(&shared.state);
    loop {
        if let Some(job) = st.queue.pop_front() {
            drop(st);
            // Jobs catch plugin panics themselves; this guards the pool against host bugs.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            st = lock(&shared.state);
            continue;
        }
        if st.closed {
            break;
        }
        st.idle += 1;
        let (guard, timeout) = shared
            .ready
            .wait_timeout(st, IDLE_EXIT)
            .unwrap_or_else(|e| e.into_inner());
        st = guard;
        st.idle -= 1;
        if timeout.timed_out() && st.queue.is_empty() && !st.closed {
            break;
        }
    }
    st.alive -= 1;
    // Reap our own handle if nobody is going to join us (idle exit): drop it unjoined.
    if !st.closed {
        let me = std::thread::current().id();
        st.handles.retain(|h| h.thread().id() != me);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn runs_jobs_and_joins_on_shutdown() {
        let pool = Pool::new("t", 4);
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..20 {
            let done = done.clone();
            pool.submit(Box::new(move || {
                std::thread::sleep(Duration::from_millis(2));
                done.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap();
        }
        assert!(pool.threads() <= 4);
        pool.shutdown();
        assert_eq!(done.load(Ordering::SeqCst), 20);
        assert_eq!(pool.threads(), 0);
        assert_eq!(pool.submit(Box::new(|| {})), Err(PoolClosed));
    }

    #[test]
    fn run_blocking_returns_value() {
        let pool = Pool::new("t", 1);
        assert_eq!(pool.run_blocking(|| 41 + 1), Ok(42));
        pool.shutdown();
    }
}
