//! How many inline calls may run at once, and the watchdog that keeps the runtime's I/O going
//! while they run.
//!
//! Tokio's I/O driver (sockets, timers, signals) is polled by a worker thread that parks with
//! nothing to do. A worker woken by I/O that then runs a long inline call does not hand the
//! driver on: the other workers sleep until something wakes them, so the server stops
//! accepting connections and reading requests although threads are free. Two things prevent
//! that:
//!
//! - At most the runtime's worker threads minus one inline calls run at once. A call that finds
//!   the slots taken goes to the worker path, so one thread is always free of plugin code.
//! - A watchdog thread looks at the count every [`TICK`]. When inline calls were running at two
//!   ticks in a row and none of them finished in between (so one has run for at least a tick),
//!   it spawns an empty task from outside the runtime, which wakes a sleeping worker; that
//!   worker then parks on the driver and serves the I/O. Under load, inline calls finish all
//!   the time and it does nothing: waking a worker for nothing costs a context switch. After
//!   [`IDLE`] without an inline call in sight it sleeps, and the next call wakes it.
//!
//! The running calls and the calls finished so far share one atomic word ([`State`]), so on
//! the hot path a call costs one atomic add to take a slot, a load to see whether the watchdog
//! sleeps, and one atomic add to give the slot back (and count the call): no lock, no
//! allocation.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};
use std::time::Duration;

use tokio::runtime::Handle;

/// How often the watchdog looks at the running inline calls.
pub(crate) const TICK: Duration = Duration::from_millis(2);
/// How long the watchdog keeps looking after it last saw an inline call.
pub(crate) const IDLE: Duration = Duration::from_secs(1);

/// The limit before [`watch_runtime`] or the first call set it.
const UNSET: usize = usize::MAX;

/// The layout of [`InlineSlots::state`]: the running calls in the low bits, the finished ones
/// (wrapping) above them.
struct State;

impl State {
    /// Mask of the running calls (far more than any runtime has threads).
    const RUNNING: usize = 0xFFFF;
    /// One finished call.
    const FINISHED: usize = 0x1_0000;

    fn running(state: usize) -> usize {
        state & Self::RUNNING
    }

    fn finished(state: usize) -> usize {
        state >> 16
    }
}

/// The inline slots of one runtime (the process has one: [`SLOTS`]).
#[derive(Debug)]
pub(crate) struct InlineSlots {
    /// At most this many at once; [`UNSET`] until the runtime is known.
    limit: AtomicUsize,
    /// Inline calls running now (briefly one more while a refused call gives its slot back),
    /// and finished so far ([`State`]).
    state: AtomicUsize,
    /// The watchdog is parked until a call wakes it.
    asleep: AtomicBool,
    /// The watchdog thread, once started.
    watchdog: OnceLock<std::thread::Thread>,
    /// Starts the watchdog once.
    start: Once,
}

/// The process's inline slots.
pub(super) static SLOTS: InlineSlots = InlineSlots::new();

/// Sets up inline calls for the runtime the server runs on: they may use all of its worker
/// threads but one (with one thread, nothing runs inline), and a watchdog keeps its I/O served
/// while they run. Without this, the first inline call does it for the runtime it runs on.
pub fn watch_runtime(runtime: &Handle) {
    SLOTS.watch(runtime);
}

impl InlineSlots {
    /// No inline call running, no runtime known yet.
    pub(crate) const fn new() -> Self {
        InlineSlots {
            limit: AtomicUsize::new(UNSET),
            state: AtomicUsize::new(0),
            asleep: AtomicBool::new(false),
            watchdog: OnceLock::new(),
            start: Once::new(),
        }
    }

    /// Takes a slot if one is free.
    pub(crate) fn try_take(&'static self) -> Option<InlinePermit> {
        let limit = match self.limit.load(Ordering::Relaxed) {
            UNSET => self.limit_from_runtime(),
            limit => limit,
        };
        // SeqCst pairs with the watchdog's store of `asleep` and load of `state`: either it
        // sees this call, or this call sees it asleep and wakes it.
        if State::running(self.state.fetch_add(1, Ordering::SeqCst)) < limit {
            if self.asleep.load(Ordering::SeqCst) {
                self.wake_watchdog();
            }
            Some(InlinePermit { slots: self })
        } else {
            self.state.fetch_sub(1, Ordering::Relaxed);
            None
        }
    }

    /// Sets the limit for `runtime` and starts the watchdog, once.
    fn watch(&'static self, runtime: &Handle) {
        let threads = runtime.metrics().num_workers();
        self.limit
            .store(threads.saturating_sub(1), Ordering::Relaxed);
        if threads < 2 {
            return;
        }
        self.start.call_once(|| {
            let handle = runtime.clone();
            let started = std::thread::Builder::new()
                .name("fastmcp-inline-watch".into())
                .spawn(move || self.run_watchdog(&handle));
            match started {
                Ok(thread) => {
                    let _ = self.watchdog.set(thread.thread().clone());
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "cannot start the inline watchdog; a blocking inline call may delay other \
                     requests"
                ),
            }
        });
    }

    /// The limit for the runtime this thread runs on; no inline calls outside a runtime.
    #[cold]
    fn limit_from_runtime(&'static self) -> usize {
        match Handle::try_current() {
            Ok(runtime) => self.watch(&runtime),
            Err(_) => {
                let _ = self
                    .limit
                    .compare_exchange(UNSET, 0, Ordering::Relaxed, Ordering::Relaxed);
            }
        }
        self.limit.load(Ordering::Relaxed)
    }

    #[cold]
    fn wake_watchdog(&self) {
        if self.asleep.swap(false, Ordering::SeqCst)
            && let Some(thread) = self.watchdog.get()
        {
            thread.unpark();
        }
    }

    /// The watchdog's loop (see the module docs). Never returns: the runtime lives as long as
    /// the process.
    fn run_watchdog(&self, runtime: &Handle) {
        let idle_ticks = (IDLE.as_millis() / TICK.as_millis()) as u32;
        let (mut stuck, mut quiet) = (0u32, 0u32);
        let mut finished = usize::MAX;
        loop {
            let state = self.state.load(Ordering::SeqCst);
            if State::running(state) > 0 {
                quiet = 0;
                // A call that finished since the last look means calls come and go: the
                // threads running them park on the driver again soon enough.
                stuck = if State::finished(state) == finished {
                    stuck + 1
                } else {
                    1
                };
                if stuck >= 2 {
                    // From outside the runtime, a spawn wakes a sleeping worker.
                    drop(runtime.spawn(async {}));
                }
            } else {
                stuck = 0;
                quiet += 1;
            }
            finished = State::finished(state);
            if quiet < idle_ticks {
                std::thread::sleep(TICK);
                continue;
            }
            self.asleep.store(true, Ordering::SeqCst);
            if State::running(self.state.load(Ordering::SeqCst)) == 0 {
                // A call that starts from now on sees `asleep` and unparks us. The timeout is
                // only a safety net.
                std::thread::park_timeout(Duration::from_secs(60));
            }
            self.asleep.store(false, Ordering::SeqCst);
            quiet = 0;
        }
    }

    /// Inline calls running now.
    #[cfg(test)]
    fn running(&self) -> usize {
        State::running(self.state.load(Ordering::Relaxed))
    }
}

/// One inline call's slot; dropping it frees the slot.
#[derive(Debug)]
#[must_use = "the call runs inline only while the permit is held"]
pub struct InlinePermit {
    slots: &'static InlineSlots,
}

impl Drop for InlinePermit {
    fn drop(&mut self) {
        // One fewer running, one more finished, in one add (running is at least 1 here).
        self.slots
            .state
            .fetch_add(State::FINISHED - 1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    /// Slots with `limit`, leaked so permits can point at them (as the process's do).
    fn slots(limit: usize) -> &'static InlineSlots {
        let slots = Box::leak(Box::new(InlineSlots::new()));
        slots.limit.store(limit, Ordering::Relaxed);
        slots
    }

    #[test]
    fn the_cap_leaves_one_io_thread_free_and_permits_give_slots_back() {
        // Two I/O threads: one inline call at a time.
        let s = slots(1);
        let first = s.try_take().expect("a free slot");
        assert!(s.try_take().is_none(), "the second thread stays free");
        assert_eq!(s.running(), 1, "a refused call gives its slot back");
        drop(first);
        assert_eq!(s.running(), 0);
        let again = s.try_take().expect("the slot is free again");
        drop(again);

        let s = slots(3);
        let held: Vec<_> = (0..3).map(|_| s.try_take().expect("slot")).collect();
        assert!(s.try_take().is_none());
        drop(held);
        assert_eq!(s.running(), 0);
    }

    #[test]
    fn one_io_thread_runs_nothing_inline() {
        let s = slots(0);
        assert!(s.try_take().is_none());
        assert_eq!(s.running(), 0);
    }

    #[test]
    fn the_cap_holds_under_contention() {
        let s = slots(2);
        let (held, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..2000 {
                        if let Some(permit) = s.try_take() {
                            // `running` may briefly count a refused caller; the permits held
                            // never exceed the limit.
                            let now = held.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            held.fetch_sub(1, Ordering::SeqCst);
                            drop(permit);
                        }
                    }
                });
            }
        });
        let peak = peak.into_inner();
        assert!((1..=2).contains(&peak), "{peak} permits held at once");
        assert_eq!(s.running(), 0);
    }

    /// Watched slots on a runtime of `workers` threads, and how often its workers woke up.
    fn watched(
        workers: usize,
    ) -> (
        tokio::runtime::Runtime,
        &'static InlineSlots,
        Arc<AtomicUsize>,
    ) {
        let unparks = Arc::new(AtomicUsize::new(0));
        let counter = unparks.clone();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .on_thread_unpark(move || {
                counter.fetch_add(1, Ordering::Relaxed);
            })
            .build()
            .unwrap();
        let s = Box::leak(Box::new(InlineSlots::new()));
        s.watch(rt.handle());
        (rt, s, unparks)
    }

    #[test]
    fn the_runtime_sets_the_limit() {
        let (_rt, s, _unparks) = watched(3);
        let held: Vec<_> = (0..2).map(|_| s.try_take().expect("slot")).collect();
        assert!(s.try_take().is_none(), "3 threads: 2 inline calls at once");
        drop(held);

        let (_rt, s, _) = watched(1);
        assert!(s.try_take().is_none(), "1 thread: nothing inline");
        assert!(s.watchdog.get().is_none(), "and nothing to watch");
    }

    #[test]
    fn short_calls_that_keep_finishing_wake_nobody() {
        let (_rt, s, unparks) = watched(2);
        std::thread::sleep(Duration::from_millis(50));
        let before = unparks.load(Ordering::Relaxed);
        // A call is always running, but a new one every 100 µs: a busy server, not a stuck one.
        let deadline = Instant::now() + TICK * 20;
        let mut calls = 0;
        let mut held = s.try_take().expect("slot");
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(100));
            drop(held);
            held = s.try_take().expect("slot");
            calls += 1;
        }
        drop(held);
        let woken = unparks.load(Ordering::Relaxed) - before;
        assert!(calls > 50, "only {calls} calls");
        assert_eq!(
            woken, 0,
            "the watchdog woke a worker for calls that were finishing"
        );
        assert_eq!(
            State::finished(s.state.load(Ordering::Relaxed)),
            calls + 1,
            "every call was counted"
        );
    }

    #[test]
    fn a_long_inline_call_wakes_a_sleeping_worker_and_the_watchdog_sleeps_when_idle() {
        let (_rt, s, unparks) = watched(2);
        // Let the workers go to sleep.
        std::thread::sleep(Duration::from_millis(50));
        let before = unparks.load(Ordering::Relaxed);
        let permit = s.try_take().expect("slot");
        std::thread::sleep(TICK * 20);
        let woken = unparks.load(Ordering::Relaxed) - before;
        drop(permit);
        assert!(woken >= 1, "no worker was woken while a call ran");

        // Idle: the watchdog goes to sleep, and the next call wakes it.
        let deadline = Instant::now() + IDLE * 5;
        while !s.asleep.load(Ordering::SeqCst) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(s.asleep.load(Ordering::SeqCst), "the watchdog never slept");
        std::thread::sleep(Duration::from_millis(50));
        let before = unparks.load(Ordering::Relaxed);
        let permit = s.try_take().expect("slot");
        assert!(
            !s.asleep.load(Ordering::SeqCst),
            "the call woke the watchdog"
        );
        std::thread::sleep(TICK * 20);
        drop(permit);
        assert!(unparks.load(Ordering::Relaxed) > before);
    }
}
