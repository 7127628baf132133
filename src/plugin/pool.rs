//! Worker threads owned by one plugin generation.
//!
//! Plugin code runs on these threads, except calls of inline tools (on tokio's threads, which
//! never exit while the process runs: `docs/architecture.md`, "Inline tools") and async calls
//! (on the plugin's own runtime, which its `unload` joins). A library may
//! leave thread-local destructors on any thread that ran its code (`std::thread::current()`
//! does), and such a destructor crashes the process if it runs after `dlclose`. So each
//! generation gets its own threads, and [`Pool::shutdown`] joins every one of them before the
//! library is closed (`docs/architecture.md`, "Worker pools and unloading").
//!
//! Threads start lazily, up to a bound (`--max-blocking-calls`), and exit after being idle for
//! a while; a thread that exits on its own runs its destructors while the library is still
//! loaded, which is fine.
//!
//! The pool also says how it is doing ([`Pool::usage`]): how many jobs run and wait, how long
//! a job waited for a thread (the queue-wait metric), and how many running jobs are stuck:
//! started longer ago than the tool timeout plus [`STUCK_GRACE`], so they ignored their
//! cancellation. When every thread is stuck, nothing queued will ever run; `/ready` reports it
//! and the pool logs it once.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A unit of work: runs plugin code on a pool thread.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// Records how long one job waited in the queue (a metrics histogram of one plugin).
pub(crate) type WaitRecorder = Box<dyn Fn(Duration) + Send + Sync>;

/// Makes the [`WaitRecorder`] of the plugin it is given the name of.
pub(crate) type QueueWaitMetric = Arc<dyn Fn(&str) -> WaitRecorder + Send + Sync>;

/// How long an idle worker waits for work before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(30);

/// The default of `--max-blocking-calls`.
pub(crate) const DEFAULT_MAX_BLOCKING_CALLS: usize = 64;

/// How much longer than the tool timeout a job runs before it counts as stuck: time for a tool
/// that does watch its cancellation flag to notice it and return.
pub(crate) const STUCK_GRACE: Duration = Duration::from_secs(1);

/// How often a submit to a pool with no free thread looks for stuck jobs (to log them).
const STUCK_CHECK_EVERY: Duration = Duration::from_secs(1);

/// How a generation's pool runs its jobs.
#[derive(Clone)]
pub(crate) struct PoolOptions {
    /// At most this many jobs run at once (`--max-blocking-calls`); more wait in the queue.
    pub(crate) max_threads: usize,
    /// A job running for longer than this is stuck (the tool timeout plus [`STUCK_GRACE`]).
    pub(crate) stuck_after: Duration,
    /// Where queue waits are recorded (`--metrics`), per plugin.
    pub(crate) queue_wait: Option<QueueWaitMetric>,
}

impl PoolOptions {
    /// `max_threads` workers; jobs are stuck once they run past `tool_timeout` + [`STUCK_GRACE`].
    pub(crate) fn new(max_threads: usize, tool_timeout: Duration) -> PoolOptions {
        PoolOptions {
            max_threads,
            stuck_after: tool_timeout.saturating_add(STUCK_GRACE),
            queue_wait: None,
        }
    }
}

impl Default for PoolOptions {
    /// [`DEFAULT_MAX_BLOCKING_CALLS`] workers and the default tool timeout (60 s).
    fn default() -> Self {
        PoolOptions::new(DEFAULT_MAX_BLOCKING_CALLS, Duration::from_secs(60))
    }
}

impl std::fmt::Debug for PoolOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolOptions")
            .field("max_threads", &self.max_threads)
            .field("stuck_after", &self.stuck_after)
            .field("queue_wait", &self.queue_wait.is_some())
            .finish()
    }
}

/// What a pool is doing right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Jobs running on a worker.
    pub(crate) running: usize,
    /// Jobs waiting for a worker.
    pub(crate) queued: usize,
    /// Running jobs that started longer ago than [`PoolOptions::stuck_after`].
    pub(crate) stuck: usize,
    /// The most jobs that run at once.
    pub(crate) limit: usize,
}

impl Usage {
    /// Every worker runs a stuck job: nothing queued will run until one of them returns.
    pub(crate) fn wedged(&self) -> bool {
        self.stuck >= self.limit
    }
}

struct State {
    /// Jobs with the instant they were queued.
    queue: VecDeque<(Job, Instant)>,
    /// Threads waiting for work; a submit only spawns when none is idle.
    idle: usize,
    /// Threads alive (running a job or idle).
    alive: usize,
    closed: bool,
    handles: Vec<JoinHandle<()>>,
    /// When each worker started its job, by worker number (`None`: between jobs or exited).
    busy_since: Vec<Option<Instant>>,
    /// Worker numbers of exited threads, reused by new ones so `busy_since` stays small.
    free_ids: Vec<usize>,
    /// Whether the "every worker is stuck" warning was logged (again after it cleared).
    warned: bool,
    /// When a submit may next look for stuck jobs.
    next_check: Option<Instant>,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    max_threads: usize,
    stuck_after: Duration,
    name: String,
    queue_wait: Option<QueueWaitMetric>,
    /// The plugin's name, once its manifest is known (logs and metrics).
    plugin: OnceLock<String>,
    recorder: OnceLock<WaitRecorder>,
}

/// A bounded, lazily grown set of worker threads. Cloning shares the pool.
#[derive(Clone)]
pub(crate) struct Pool {
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
    /// A pool whose threads are named `name`, run as `options` say.
    pub(crate) fn new(name: impl Into<String>, options: PoolOptions) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    idle: 0,
                    alive: 0,
                    closed: false,
                    handles: Vec::new(),
                    busy_since: Vec::new(),
                    free_ids: Vec::new(),
                    warned: false,
                    next_check: None,
                }),
                ready: Condvar::new(),
                max_threads: options.max_threads.max(1),
                stuck_after: options.stuck_after,
                name: name.into(),
                queue_wait: options.queue_wait,
                plugin: OnceLock::new(),
                recorder: OnceLock::new(),
            }),
        }
    }

    /// Names the plugin whose code the pool runs, for its logs and its queue-wait metric
    /// (jobs before this, such as loading the manifest, are not recorded). Only the first
    /// call counts.
    pub(crate) fn set_plugin(&self, plugin: &str) {
        if self.shared.plugin.set(plugin.to_owned()).is_ok()
            && let Some(make) = &self.shared.queue_wait
        {
            let _ = self.shared.recorder.set(make(plugin));
        }
    }

    /// Queues `job`; it runs on a pool thread as soon as one is free.
    pub(crate) fn submit(&self, job: Job) -> Result<(), PoolClosed> {
        let now = Instant::now();
        let mut st = lock(&self.shared.state);
        if st.closed {
            return Err(PoolClosed);
        }
        st.queue.push_back((job, now));
        // An idle thread counts until it has woken up and taken a job: spawn unless there are
        // enough of them for every queued job.
        if st.idle >= st.queue.len() {
            self.shared.ready.notify_one();
        } else if st.alive < self.shared.max_threads {
            self.spawn(&mut st);
        } else if st.next_check.is_none_or(|at| now >= at) {
            // Every thread is busy: if they are all stuck, say so now rather than at the next
            // look at /ready.
            st.next_check = Some(now + STUCK_CHECK_EVERY);
            self.shared.note_stuck(&mut st, now);
        }
        Ok(())
    }

    /// Starts one more worker thread (the caller checked the bound).
    fn spawn(&self, st: &mut State) {
        let id = match st.free_ids.pop() {
            Some(id) => id,
            None => {
                st.busy_since.push(None);
                st.busy_since.len() - 1
            }
        };
        st.alive += 1;
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name(self.shared.name.clone())
            .spawn(move || worker(shared, id));
        match spawned {
            Ok(handle) => st.handles.push(handle),
            // The job stays queued for a thread that already exists, if any.
            Err(_) => {
                st.alive -= 1;
                st.free_ids.push(id);
            }
        }
    }

    /// Runs `f` on a pool thread and waits for its result (for load-time work, off the
    /// async runtime).
    pub(crate) fn run_blocking<T: Send + 'static>(
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
    pub(crate) fn shutdown(&self) {
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

    /// Number of live worker threads.
    #[cfg(test)]
    fn threads(&self) -> usize {
        lock(&self.shared.state).alive
    }

    /// Jobs running, queued and stuck right now. Logs a warning the first time it finds every
    /// worker stuck (and again if that happens after it had cleared).
    pub(crate) fn usage(&self) -> Usage {
        let now = Instant::now();
        let mut st = lock(&self.shared.state);
        self.shared.note_stuck(&mut st, now)
    }
}

impl Shared {
    /// Counts what `st` holds and logs when every worker has just been found stuck.
    fn note_stuck(&self, st: &mut State, now: Instant) -> Usage {
        let mut usage = Usage {
            running: 0,
            queued: st.queue.len(),
            stuck: 0,
            limit: self.max_threads,
        };
        for started in st.busy_since.iter().flatten() {
            usage.running += 1;
            if now.saturating_duration_since(*started) > self.stuck_after {
                usage.stuck += 1;
            }
        }
        let wedged = usage.wedged();
        if wedged && !st.warned {
            let plugin = self.plugin.get().map_or(self.name.as_str(), String::as_str);
            tracing::warn!(
                plugin,
                threads = %self.name,
                stuck = usage.stuck,
                queued = usage.queued,
                stuck_after_ms = self.stuck_after.as_millis() as u64,
                "every blocking-call worker of this plugin runs a call that overran the tool \
                 timeout and ignores cancellation: its blocking calls cannot run until a reload \
                 or restart (see /ready)"
            );
        }
        st.warned = wedged;
        usage
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // A job never runs while the lock is held, so a poisoned lock still holds consistent state.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The loop of worker number `id`: take a job, run it, repeat; exit when closed or idle.
fn worker(shared: Arc<Shared>, id: usize) {
    let mut st = lock(&shared.state);
    loop {
        if let Some((job, queued)) = st.queue.pop_front() {
            let started = Instant::now();
            st.busy_since[id] = Some(started);
            drop(st);
            if let Some(record) = shared.recorder.get() {
                record(started.saturating_duration_since(queued));
            }
            // Jobs catch plugin panics themselves; this guards the pool against host bugs.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            st = lock(&shared.state);
            st.busy_since[id] = None;
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
    st.free_ids.push(id);
    // Reap our own handle if nobody is going to join us (idle exit): drop it unjoined.
    if !st.closed {
        let me = std::thread::current().id();
        st.handles.retain(|h| h.thread().id() != me);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    fn pool(max_threads: usize) -> Pool {
        Pool::new("t", PoolOptions::new(max_threads, Duration::from_secs(60)))
    }

    #[test]
    fn runs_jobs_and_joins_on_shutdown() {
        let pool = pool(4);
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
        let pool = pool(1);
        assert_eq!(pool.run_blocking(|| 41 + 1), Ok(42));
        pool.shutdown();
    }

    /// Submits a job that holds its worker until `release` is set; returns when it runs.
    fn hold(pool: &Pool, release: &Arc<AtomicBool>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let release = release.clone();
        pool.submit(Box::new(move || {
            let _ = tx.send(());
            while !release.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }))
        .unwrap();
        rx.recv_timeout(Duration::from_secs(10))
            .expect("job started");
    }

    #[test]
    fn queue_waits_are_recorded_once_the_plugin_is_named() {
        let waits = Arc::new(Mutex::new(Vec::new()));
        let sink = waits.clone();
        let mut options = PoolOptions::new(1, Duration::from_secs(60));
        options.queue_wait = Some(Arc::new(move |plugin: &str| -> WaitRecorder {
            assert_eq!(plugin, "p");
            let sink = sink.clone();
            Box::new(move |d| sink.lock().unwrap().push(d))
        }));
        let pool = Pool::new("t", options);
        pool.run_blocking(|| ()).unwrap();
        assert!(waits.lock().unwrap().is_empty(), "not named yet");
        pool.set_plugin("p");
        let release = Arc::new(AtomicBool::new(false));
        hold(&pool, &release);
        // Queued behind the held job: it waits at least until the release.
        let (tx, rx) = std::sync::mpsc::channel();
        pool.submit(Box::new(move || tx.send(()).unwrap())).unwrap();
        assert_eq!(pool.usage().queued, 1);
        std::thread::sleep(Duration::from_millis(30));
        release.store(true, Ordering::SeqCst);
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
        pool.shutdown();
        let waits = waits.lock().unwrap();
        assert_eq!(waits.len(), 2, "{waits:?}");
        assert!(waits[1] >= Duration::from_millis(30), "{waits:?}");
    }

    #[test]
    fn a_pool_whose_every_worker_overran_is_wedged() {
        let pool = Pool::new(
            "t",
            PoolOptions {
                max_threads: 2,
                stuck_after: Duration::from_millis(50),
                queue_wait: None,
            },
        );
        let release = Arc::new(AtomicBool::new(false));
        hold(&pool, &release);
        let usage = pool.usage();
        assert_eq!((usage.running, usage.stuck, usage.limit), (1, 0, 2));
        hold(&pool, &release);
        std::thread::sleep(Duration::from_millis(80));
        let usage = pool.usage();
        assert_eq!((usage.running, usage.stuck), (2, 2));
        assert!(usage.wedged());
        release.store(true, Ordering::SeqCst);
        pool.shutdown();
        let usage = pool.usage();
        assert_eq!((usage.running, usage.stuck), (0, 0));
        assert!(!usage.wedged());
    }
}
