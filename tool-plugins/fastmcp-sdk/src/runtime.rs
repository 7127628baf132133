//! The plugin's async runtime: a tokio multi-thread runtime that runs the calls of
//! `#[tool] async fn` tools, started when a plugin with async tools is loaded and shut down,
//! with every one of its threads joined, by `unload`.
//!
//! # Why calls come in through a queue and a pipe
//! The host calls `start_tool` and `cancel_call` on its I/O threads, which outlive every
//! plugin. Code that registers a thread-exit destructor there (tokio's thread-local context,
//! waking a tokio waker, `std::thread::current()`, spawning a thread) would run that destructor
//! after the library is unmapped, so glibc keeps the library mapped instead: every reload would
//! leak a copy of the plugin. So those two functions only push a message into a
//! `std::sync::Mutex<VecDeque>` and, unless a wake-up is already outstanding (`wake_pending`),
//! write one byte into a pipe: a futex and a write(2), no thread-local with a destructor. A
//! task inside the runtime waits on the pipe's read end, drains the queue and spawns each call.
//!
//! # Threads
//! `<plugin>-rt` (the plugin's name cut to 12 bytes, so the name fits the 15 bytes Linux keeps
//! and still ends in `-rt`), as many as the machine has cores up to
//! [`MAX_THREADS`], plus tokio's blocking threads (same name) for `spawn_blocking` and for a
//! tool waiting on the client (`Context::request`). The runtime is built on a host worker
//! thread (the one reading the manifest, or the first blocking call), which the host joins
//! before it unloads the library. Dropping it at `unload` drops every task (each started call
//! is completed as cancelled) and joins every worker and blocking thread; it waits for blocking
//! work already running (a `spawn_blocking` closure) to return.
//!
//! # Scheduling
//! On Linux every thread of the runtime runs under `SCHED_BATCH` ([`batch_scheduling`]): the
//! same share of CPU as any other thread (same nice value), but its wake-ups do not preempt the
//! thread that is running. Without it, on a busy core each `start_tool` that writes the wake-up
//! byte preempts the host's I/O thread in the middle of its batch of requests, the runtime
//! takes that one call, and parks again: about one context switch each way per call. With it,
//! the runtime runs when the I/O thread waits or its time slice ends, and takes every call
//! queued meanwhile in one turn (one wake-up byte, one switch). Threads that the plugin's code
//! spawns from the runtime's threads inherit the policy.
//!
//! The other side of that: while the I/O thread works through a long batch of requests (4 ms
//! was seen at 256 connections with the server on one CPU), the calls it queued early wait for
//! it, and a call's own timers only start when the runtime first polls it. So a host thread
//! that queues a message while the oldest undrained one has waited [`YIELD_AFTER`] gives up its
//! CPU once (`sched_yield`, no thread-local) and restarts that clock: the runtime, if it shares
//! the CPU, starts the waiting calls now. At most one yield per [`YIELD_AFTER`] while the
//! intake is stalled, so a runtime that is busy elsewhere costs the host little; on a machine
//! where the runtime has a CPU of its own the queue drains first and no thread ever yields.
//! With the server on one CPU, `io_wait {ms: 50}` at 256 connections went from 0.98x to 1.01x
//! rmcp (`bench/io.sh`, docs/performance.md).

use std::collections::VecDeque;
use std::fmt;
use std::io::{ErrorKind, PipeWriter, Write};
use std::num::NonZero;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use fastmcp_abi::Completion;
use rustc_hash::FxHashMap;
use tokio::net::unix::pipe::Receiver;
use tokio::runtime::{Handle, Runtime};
use tokio::task::AbortHandle;

use crate::async_call::{CallTask, Completer, ToolFuture};

/// At most this many runtime worker threads, whatever the machine: the calls mostly wait.
pub(crate) const MAX_THREADS: usize = 4;

/// How long the oldest queued message may wait for the intake before a host thread that queues
/// another yields its CPU (see "Scheduling" in the module docs).
const YIELD_AFTER: Duration = Duration::from_micros(200);

/// How long the intake task waits before looking again after its pipe failed (never expected).
const RETRY: Duration = Duration::from_millis(1);

/// One plugin's runtime, not running until [`AsyncRuntime::start`].
pub(crate) struct AsyncRuntime {
    /// The plugin's name: threads are `<name>-rt`.
    plugin: &'static str,
    shared: Arc<Shared>,
    runtime: Mutex<Option<Runtime>>,
}

/// What the host's threads and the runtime's tasks share.
pub(crate) struct Shared {
    intake: Mutex<Intake>,
    /// A wake-up byte is in the pipe or being handled: later messages need not write another.
    wake_pending: AtomicBool,
    /// The started calls that have not ended, for `cancel_call`.
    tasks: Mutex<FxHashMap<u64, AbortHandle>>,
}

struct Intake {
    queue: VecDeque<Msg>,
    /// The pipe's write end while the runtime runs.
    wake: Option<PipeWriter>,
    /// Why the runtime could not start, if it could not.
    failure: Option<String>,
    /// Since when the oldest message in `queue` has waited, or since the last yield for it.
    waiting_since: Option<Instant>,
}

enum Msg {
    Start(CallTask),
    Cancel(u64),
}

/// `<plugin>-rt`, with the plugin's name cut to 12 bytes (at a character boundary): Linux keeps
/// 15 bytes of a thread's name, and the suffix is what tells the runtime's threads apart.
fn thread_name(plugin: &str) -> String {
    let mut end = plugin.len().min(12);
    while !plugin.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}-rt", &plugin[..end])
}

/// Puts the calling thread under `SCHED_BATCH` (see "Scheduling" in the module docs). Best
/// effort: should the kernel refuse, the thread keeps the default policy and works the same.
fn batch_scheduling() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `sched_setscheduler` with pid 0 changes the calling thread's policy only;
        // `param` is a valid `sched_param` for the call's duration (priority 0, as
        // SCHED_BATCH requires).
        let _ = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
    }
}

/// Whether a host thread that has just queued a message at `now` should yield its CPU to the
/// runtime: the oldest undrained message has waited [`YIELD_AFTER`] since it was queued or
/// since the last yield, whose clock this then restarts.
fn stalled(waiting_since: &mut Option<Instant>, now: Instant) -> bool {
    match *waiting_since {
        None => {
            *waiting_since = Some(now);
            false
        }
        Some(since) if now.saturating_duration_since(since) >= YIELD_AFTER => {
            *waiting_since = Some(now);
            true
        }
        Some(_) => false,
    }
}

/// Locks, ignoring poison: every critical section leaves the data consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AsyncRuntime {
    /// The runtime of `plugin`, not started.
    pub(crate) fn new(plugin: &'static str) -> Self {
        let intake = Intake {
            queue: VecDeque::new(),
            wake: None,
            failure: None,
            waiting_since: None,
        };
        AsyncRuntime {
            plugin,
            shared: Arc::new(Shared {
                intake: Mutex::new(intake),
                wake_pending: AtomicBool::new(false),
                tasks: Mutex::new(FxHashMap::default()),
            }),
            runtime: Mutex::new(None),
        }
    }

    /// Starts the runtime unless it runs, and returns its handle. Builds threads and touches
    /// tokio's thread-locals: only on a thread the host joins before unloading the library
    /// (a worker thread), never on an I/O thread.
    pub(crate) fn start(&self) -> Result<Handle, String> {
        let mut runtime = lock(&self.runtime);
        if let Some(runtime) = &*runtime {
            return Ok(runtime.handle().clone());
        }
        match self.build() {
            Ok((started, wake)) => {
                let handle = started.handle().clone();
                let mut intake = lock(&self.shared.intake);
                intake.wake = Some(wake);
                intake.failure = None;
                *runtime = Some(started);
                Ok(handle)
            }
            Err(error) => {
                let reason = format!("the plugin's async runtime could not start: {error}");
                lock(&self.shared.intake).failure = Some(reason.clone());
                Err(reason)
            }
        }
    }

    fn build(&self) -> std::io::Result<(Runtime, PipeWriter)> {
        let threads = std::thread::available_parallelism().map_or(2, NonZero::get);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.min(MAX_THREADS))
            .thread_name(thread_name(self.plugin))
            .on_thread_start(batch_scheduling)
            .enable_io()
            .enable_time()
            .build()?;
        let (read, write) = std::io::pipe()?;
        let wake = {
            // The pipe registers with this runtime's I/O driver.
            let _entered = runtime.enter();
            Receiver::from_owned_fd(read.into())?
        };
        runtime.spawn(intake(self.shared.clone(), wake));
        Ok((runtime, write))
    }

    /// Queues a started call for the runtime; `Err` (the reason) if it does not run, and then
    /// `done` is never called. Safe on the host's I/O threads (see the module docs).
    pub(crate) fn submit(
        &self,
        tool: &'static str,
        future: ToolFuture,
        done: Completion,
    ) -> Result<(), String> {
        let id = done.call_id;
        self.send(|| {
            Msg::Start(CallTask::new(
                id,
                tool,
                future,
                self.shared.clone(),
                Completer::new(done),
            ))
        })
    }

    /// Asks the runtime to drop the call `id`, if it runs it. Safe on the host's I/O threads.
    pub(crate) fn cancel(&self, id: u64) {
        let _ = self.send(|| Msg::Cancel(id));
    }

    /// Queues the message `make` builds, if the runtime runs, and wakes the intake task.
    fn send(&self, make: impl FnOnce() -> Msg) -> Result<(), String> {
        let mut intake = lock(&self.shared.intake);
        let Some(wake) = &intake.wake else {
            return Err(intake.failure.clone().unwrap_or_else(|| {
                "the plugin's async runtime is not running (the host starts it by reading the \
                 manifest)"
                    .to_owned()
            }));
        };
        let mut wake: &PipeWriter = wake;
        if !self.shared.wake_pending.swap(true, Ordering::AcqRel) {
            // At most one byte is ever outstanding, so this never blocks. Written under the
            // lock, so never after `shutdown` closed the pipe. Should it fail, the next
            // message tries again.
            if wake.write(&[1]).is_err() {
                self.shared.wake_pending.store(false, Ordering::Release);
            }
        }
        intake.queue.push_back(make());
        let stalled = stalled(&mut intake.waiting_since, Instant::now());
        drop(intake);
        if stalled {
            // `sched_yield`: no thread-local, so safe on the host's I/O threads.
            std::thread::yield_now();
        }
        Ok(())
    }

    /// Stops the runtime: every queued or running call is dropped and completed as cancelled,
    /// every runtime thread joined. Waits for blocking work that is running to return.
    pub(crate) fn shutdown(&self) {
        let (queued, wake) = {
            let mut intake = lock(&self.shared.intake);
            intake.waiting_since = None;
            (std::mem::take(&mut intake.queue), intake.wake.take())
        };
        drop(wake);
        drop(queued);
        let runtime = lock(&self.runtime).take();
        // Tokio's `Drop` shuts the workers down, drops their tasks, then waits for every thread
        // of its pool (workers and blocking threads alike) to exit and joins it; no timeout, so
        // no thread is left detached (`shutdown_timeout` would leave them running).
        drop(runtime);
        lock(&self.shared.tasks).clear();
        // A byte may have been pending in the pipe that is gone: a runtime started again
        // must get a byte for its first message.
        self.shared.wake_pending.store(false, Ordering::Release);
    }
}

impl Drop for AsyncRuntime {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for AsyncRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncRuntime")
            .field("plugin", &self.plugin)
            .field("running", &lock(&self.runtime).is_some())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Forgets a call that ended by itself.
    pub(crate) fn forget(&self, id: u64) {
        lock(&self.tasks).remove(&id);
    }

    fn handle(&self, msg: Msg) {
        match msg {
            Msg::Start(task) => {
                // Under the lock, so a task that ends at once cannot forget itself before it is
                // recorded.
                let mut tasks = lock(&self.tasks);
                let id = task.id;
                let handle = tokio::spawn(task);
                tasks.insert(id, handle.abort_handle());
            }
            Msg::Cancel(id) => {
                let task = lock(&self.tasks).remove(&id);
                // Drops the future at its next await (at once if it is waiting); its `Completer`
                // then completes the call as cancelled, unless it completed first.
                if let Some(task) = task {
                    task.abort();
                }
            }
        }
    }
}

/// The task that takes messages from the host's threads: waits for a wake-up byte, then
/// drains the queue.
async fn intake(shared: Arc<Shared>, wake: Receiver) {
    let mut bytes = [0u8; 16];
    let mut batch = VecDeque::new();
    loop {
        match wake
            .readable()
            .await
            .and_then(|()| wake.try_read(&mut bytes))
        {
            // Every write end closed: the runtime is shutting down.
            Ok(0) => return,
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::WouldBlock => continue,
            Err(_) => tokio::time::sleep(RETRY).await,
        }
        // Before draining: a message queued after this writes a new byte.
        shared.wake_pending.store(false, Ordering::Release);
        {
            let mut intake = lock(&shared.intake);
            intake.waiting_since = None;
            std::mem::swap(&mut batch, &mut intake.queue);
        }
        for msg in batch.drain(..) {
            shared.handle(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{AsyncRuntime, stalled, thread_name};

    #[cfg(target_os = "linux")]
    #[test]
    fn runtime_threads_run_as_batch_threads() {
        let runtime = AsyncRuntime::new("batch-test");
        let handle = runtime.start().expect("the runtime starts");
        let (tx, rx) = std::sync::mpsc::channel();
        handle.spawn(async move {
            // SAFETY: `sched_getscheduler(0)` only reads the calling thread's policy.
            let _ = tx.send(unsafe { libc::sched_getscheduler(0) });
        });
        let policy = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the task ran");
        assert_eq!(policy, libc::SCHED_BATCH);
        runtime.shutdown();
    }

    #[test]
    fn a_host_thread_yields_once_per_period_while_the_intake_is_stalled() {
        let t0 = Instant::now();
        let at = |us| t0 + Duration::from_micros(us);
        let mut since = None;
        assert!(
            !stalled(&mut since, at(0)),
            "the first message never yields"
        );
        assert!(!stalled(&mut since, at(150)), "within the period");
        assert!(stalled(&mut since, at(200)), "the oldest waited the period");
        assert!(
            !stalled(&mut since, at(210)),
            "the clock restarted at the yield"
        );
        assert!(!stalled(&mut since, at(399)));
        assert!(stalled(&mut since, at(400)), "still stalled a period later");
        // The intake drained the queue.
        since = None;
        assert!(
            !stalled(&mut since, at(1_000)),
            "a new queue starts its own clock"
        );
        assert!(!stalled(&mut since, at(1_100)));
    }

    #[test]
    fn thread_names_keep_their_suffix_within_15_bytes() {
        assert_eq!(thread_name("test-plugin"), "test-plugin-rt");
        assert_eq!(thread_name("a-very-long-plugin-name"), "a-very-long--rt");
        assert_eq!(thread_name("ééééééé"), "éééééé-rt");
    }
}
