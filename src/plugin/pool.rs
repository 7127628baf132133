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
//! A job is handed to a worker that is already awake (running a job or between two) if there
//! is one: short jobs then run back to back on one thread instead of waking a thread each,
//! which costs context switches (`docs/performance.md`). A job still queued
//! [`OVERDUE_AFTER`] later, because the awake workers run something long or blocking, gets a
//! thread of its own from the pool's watchdog thread ([`threads`]), so a blocking tool delays
//! another call by about that much at most, up to the bound on threads.
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

mod threads;

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

/// How long a job may wait in the queue for the workers that are already awake before the
/// watchdog wakes or starts a thread for it: the most a call waits behind one that blocks.
/// Short jobs take microseconds, so a burst of them drains well within it on one thread; it
/// is also what a long or blocking job costs the calls queued behind it, so it stays small.
pub(crate) const OVERDUE_AFTER: Duration = Duration::from_millis(1);

/// How a generation's pool runs its jobs.
#[derive(Clone)]
pub(crate) struct PoolOptions {
    /// At most this many jobs run at once (`--max-blocking-calls`); more wait in the queue.
    pub(crate) max_threads: usize,
    /// A job running for longer than this is stuck (the tool timeout plus [`STUCK_GRACE`]).
    pub(crate) stuck_after: Duration,
    /// Where queue waits are recorded (`--metrics`), per plugin.
    pub(crate) queue_wait: Option<QueueWaitMetric>,
    /// How long a job waits for the awake workers before it gets a thread ([`OVERDUE_AFTER`]).
    pub(crate) overdue_after: Duration,
}

impl PoolOptions {
    /// `max_threads` workers; jobs are stuck once they run past `tool_timeout` + [`STUCK_GRACE`].
    pub(crate) fn new(max_threads: usize, tool_timeout: Duration) -> PoolOptions {
        PoolOptions {
            max_threads,
            stuck_after: tool_timeout.saturating_add(STUCK_GRACE),
            queue_wait: None,
            overdue_after: OVERDUE_AFTER,
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
            .field("overdue_after", &self.overdue_after)
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

/// What the pool's threads share, behind [`Shared::state`]. Every worker alive is in exactly
/// one of three places: parked ([`State::parked`]), awake without a job
/// ([`State::awake_free`]) or running a job ([`State::busy_since`]).
struct State {
    /// Jobs with the instant they were queued.
    queue: VecDeque<(Job, Instant)>,
    /// Workers waiting on [`Shared::ready`] that nobody has woken.
    parked: usize,
    /// Wake-ups sent to parked workers and not yet taken: the next worker to wake takes one.
    wakeups: usize,
    /// Workers awake and without a job: started, woken (wake-up not yet taken included) or
    /// between two jobs. Each takes the next queued job without being told.
    awake_free: usize,
    /// Threads alive (running a job, awake or parked); the watchdog is not counted.
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
    /// How many jobs at the front of the queue the watchdog found overdue (so it does not
    /// look at them again).
    overdue: usize,
    /// Whether the watchdog thread runs.
    watchdog: bool,
    /// Whether the watchdog will look at the queue again by the time each queued job is
    /// overdue; when not, a submit that leaves its job to the awake workers wakes it.
    watch_armed: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Where parked workers wait for a job.
    ready: Condvar,
    /// Where the watchdog waits for its next deadline or to be armed.
    watch: Condvar,
    max_threads: usize,
    stuck_after: Duration,
    overdue_after: Duration,
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
                    parked: 0,
                    wakeups: 0,
                    awake_free: 0,
                    alive: 0,
                    closed: false,
                    handles: Vec::new(),
                    busy_since: Vec::new(),
                    free_ids: Vec::new(),
                    warned: false,
                    next_check: None,
                    overdue: 0,
                    watchdog: false,
                    watch_armed: false,
                }),
                ready: Condvar::new(),
                watch: Condvar::new(),
                max_threads: options.max_threads.max(1),
                stuck_after: options.stuck_after,
                overdue_after: options.overdue_after,
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

    /// Queues `job`. A worker that is awake runs it once free; a job that finds none wakes a
    /// parked worker or starts one, and one still queued after [`PoolOptions::overdue_after`]
    /// gets a thread from the watchdog, as far as `max_threads` allows.
    pub(crate) fn submit(&self, job: Job) -> Result<(), PoolClosed> {
        let now = Instant::now();
        let mut st = lock(&self.shared.state);
        if st.closed {
            return Err(PoolClosed);
        }
        st.queue.push_back((job, now));
        // A worker that is awake takes the job once it is free: no wake-up. Only when none is
        // does the job wake a parked worker or start one.
        if st.alive == st.parked && self.shared.wake_one(&mut st) {
            return Ok(());
        }
        if st.parked > 0 || st.alive < self.shared.max_threads {
            // The awake workers may be running jobs that block: the watchdog gives this one a
            // thread if it is still queued when overdue.
            self.shared.arm_watchdog(&mut st);
        } else if st.next_check.is_none_or(|at| now >= at) {
            // Every thread is awake and no other can be added: if every one is stuck, say so
            // now rather than at the next look at /ready.
            st.next_check = Some(now + STUCK_CHECK_EVERY);
            self.shared.note_stuck(&mut st, now);
        }
        Ok(())
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

    /// Refuses new jobs, lets queued and running ones finish, and joins every thread (the
    /// watchdog's too).
    pub(crate) fn shutdown(&self) {
        let handles = {
            let mut st = lock(&self.shared.state);
            st.closed = true;
            self.shared.ready.notify_all();
            self.shared.watch.notify_all();
            std::mem::take(&mut st.handles)
        };
        for handle in handles {
            let _ = handle.join();
        }
        // Threads that exited on their own removed their handles; none is started after the
        // take above: `closed` stops `submit` and the watchdog.
    }

    /// Number of live worker threads, and whether the watchdog runs.
    #[cfg(test)]
    fn threads(&self) -> (usize, bool) {
        let st = lock(&self.shared.state);
        (st.alive, st.watchdog)
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

#[cfg(test)]
mod tests;
