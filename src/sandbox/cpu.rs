//! [`CpuWatch`]: the CPU time limit of one call in an isolated plugin's child.
//!
//! Semantics: a call is charged the CPU time used on its behalf between its start and its end;
//! the first call whose charge passes the limit ends the child ([`CpuWatch::kill_on_overrun`]:
//! `SIGXCPU`), so every call in flight in that child fails (the host reports the one that
//! overran with [`super::describe_exit`]). Two kinds of calls are charged differently:
//! - a call that runs on one thread from start to end (a blocking or inline tool), started with
//!   [`CpuWatch::start_call`], is charged exactly that thread's CPU clock;
//! - a call that has no thread of its own (an async tool, polled on the plugin's runtime among
//!   others), started with [`CpuWatch::start_shared_call`], is charged an equal share of the
//!   process CPU time that the thread-bound calls did not use, for as long as it is in flight.
//!
//! A watchdog thread samples the clocks every `limit / 20` (5 to 100 ms), so a call is stopped
//! within about one tick past its limit. Time spent waiting (sleep, I/O) is never charged.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::SandboxError;

/// A call that used more CPU time than the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overrun {
    /// The id the call was started with.
    pub(crate) call: u64,
    /// The CPU time charged to it.
    pub(crate) used: Duration,
    /// The limit.
    pub(crate) limit: Duration,
}

/// Watches the CPU time of the calls in flight (see the module docs). Dropping it stops the
/// watchdog thread.
pub struct CpuWatch {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CpuWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuWatch")
            .field("limit", &self.shared.limit)
            .finish()
    }
}

struct Shared {
    limit: Duration,
    calls: Mutex<Calls>,
    stopped: AtomicBool,
}

#[derive(Default)]
struct Calls {
    /// Thread-bound calls: the thread's CPU clock, its reading at the start and last tick.
    bound: HashMap<u64, Bound>,
    /// Shared calls: the CPU time charged so far.
    unbound: HashMap<u64, Duration>,
    /// Process CPU time at the last tick.
    process_cpu: Duration,
}

struct Bound {
    clock: libc::clockid_t,
    start: Duration,
    last: Duration,
}

/// Ends a call on drop. A thread-bound call's guard stays on its thread (it is `!Send`): the
/// thread's clock is only valid while the thread lives, and the guard outlives no thread.
#[derive(Debug)]
pub struct CallGuard {
    shared: Arc<Shared>,
    id: u64,
    _not_send: PhantomData<*const ()>,
}

/// Ends a shared call on drop; may move between threads, like the future it belongs to.
#[derive(Debug)]
pub struct SharedCallGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("limit", &self.limit)
            .finish()
    }
}

impl CpuWatch {
    /// Starts the watchdog: `on_overrun` runs on its thread, once per call that passes `limit`.
    /// Fails only when the thread cannot be started.
    pub(crate) fn start(
        limit: Duration,
        on_overrun: impl Fn(Overrun) + Send + 'static,
    ) -> Result<CpuWatch, SandboxError> {
        let shared = Arc::new(Shared {
            limit,
            calls: Mutex::new(Calls {
                process_cpu: process_cpu(),
                ..Calls::default()
            }),
            stopped: AtomicBool::new(false),
        });
        let tick = (limit / 20).clamp(Duration::from_millis(5), Duration::from_millis(100));
        let watched = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("fastmcp-cpu-watch".into())
            .spawn(move || {
                while !watched.stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    for overrun in watched.tick() {
                        on_overrun(overrun);
                    }
                }
            })
            .map_err(SandboxError::Watchdog)?;
        Ok(CpuWatch { shared })
    }

    /// [`CpuWatch::start`] with the child's action: log the overrun to stderr and end the
    /// process with `SIGXCPU` (see [`describe_exit`](super::describe_exit)).
    pub(crate) fn kill_on_overrun(limit: Duration) -> Result<CpuWatch, SandboxError> {
        CpuWatch::start(limit, |overrun| super::exit::die_of_cpu_limit(&overrun))
    }

    /// Starts charging call `id` with the calling thread's CPU time, until the guard drops.
    pub(crate) fn start_call(&self, id: u64) -> CallGuard {
        match thread_clock() {
            Some(clock) => {
                let now = read_clock(clock).unwrap_or_default();
                let bound = Bound {
                    clock,
                    start: now,
                    last: now,
                };
                self.shared.lock().bound.insert(id, bound);
            }
            // No per-thread clock here: charge it like a shared call.
            None => {
                self.shared.lock().unbound.insert(id, Duration::ZERO);
            }
        }
        CallGuard {
            shared: Arc::clone(&self.shared),
            id,
            _not_send: PhantomData,
        }
    }

    /// Starts charging call `id` a share of the process CPU time, until the guard drops.
    pub(crate) fn start_shared_call(&self, id: u64) -> SharedCallGuard {
        self.shared.lock().unbound.insert(id, Duration::ZERO);
        SharedCallGuard {
            shared: Arc::clone(&self.shared),
            id,
        }
    }
}

impl Drop for CpuWatch {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::Relaxed);
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let mut calls = self.shared.lock();
        calls.bound.remove(&self.id);
        calls.unbound.remove(&self.id);
    }
}

impl Drop for SharedCallGuard {
    fn drop(&mut self) {
        self.shared.lock().unbound.remove(&self.id);
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Charges the time since the last tick; returns the calls past the limit (and forgets
    /// them, so each is reported once).
    fn tick(&self) -> Vec<Overrun> {
        let mut calls = self.lock();
        let now = process_cpu();
        let process_delta = now.saturating_sub(calls.process_cpu);
        calls.process_cpu = now;
        let mut over = Vec::new();
        let mut bound_delta = Duration::ZERO;
        // The guard's thread is alive while its entry is here: removing it takes this lock.
        for (&call, b) in calls.bound.iter_mut() {
            let Some(t) = read_clock(b.clock) else {
                continue;
            };
            bound_delta += t.saturating_sub(b.last);
            b.last = t;
            let used = t.saturating_sub(b.start);
            if used > self.limit {
                over.push(Overrun {
                    call,
                    used,
                    limit: self.limit,
                });
            }
        }
        if !calls.unbound.is_empty() {
            let n = u32::try_from(calls.unbound.len()).unwrap_or(u32::MAX);
            let share = process_delta.saturating_sub(bound_delta) / n;
            for (&call, used) in calls.unbound.iter_mut() {
                *used += share;
                if *used > self.limit {
                    over.push(Overrun {
                        call,
                        used: *used,
                        limit: self.limit,
                    });
                }
            }
        }
        for o in &over {
            calls.bound.remove(&o.call);
            calls.unbound.remove(&o.call);
        }
        over
    }
}

fn process_cpu() -> Duration {
    read_clock(libc::CLOCK_PROCESS_CPUTIME_ID).unwrap_or_default()
}

fn read_clock(clock: libc::clockid_t) -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the kernel to fill; an invalid clock id (a thread
    // that has exited) makes the call fail with EINVAL, nothing else.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return None;
    }
    Some(Duration::new(
        u64::try_from(ts.tv_sec).ok()?,
        u32::try_from(ts.tv_nsec).ok()?,
    ))
}

/// The calling thread's CPU clock.
#[cfg(target_os = "linux")]
fn thread_clock() -> Option<libc::clockid_t> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `pthread_self()` is the calling, live thread; `clock` is a valid out-pointer.
    let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
    (rc == 0).then_some(clock)
}

#[cfg(not(target_os = "linux"))]
fn thread_clock() -> Option<libc::clockid_t> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Instant;

    fn spin(cpu: Duration) {
        let start = Instant::now();
        let clock = thread_clock().unwrap();
        let begin = read_clock(clock).unwrap();
        // Bounded in wall time too, on a machine too busy to give us the CPU.
        while read_clock(clock).unwrap() - begin < cpu && start.elapsed() < Duration::from_secs(20)
        {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn a_spinning_call_is_reported_and_a_sleeping_one_is_not() {
        let (tx, rx) = mpsc::channel();
        let watch = CpuWatch::start(Duration::from_millis(200), move |o| {
            let _ = tx.send(o);
        })
        .unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                let _call = watch.start_call(1);
                std::thread::sleep(Duration::from_millis(600));
            });
            s.spawn(|| {
                let _call = watch.start_call(2);
                spin(Duration::from_millis(600));
            });
        });
        let overrun = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("an overrun");
        assert_eq!(overrun.call, 2, "{overrun:?}");
        assert!(overrun.used > overrun.limit, "{overrun:?}");
        assert_eq!(overrun.limit, Duration::from_millis(200));
        // Each call is reported once, and the sleeper never.
        drop(watch);
        assert!(rx.try_iter().all(|o| o.call != 1));
    }

    #[test]
    fn a_call_that_ends_under_the_limit_is_not_reported() {
        let (tx, rx) = mpsc::channel();
        let watch = CpuWatch::start(Duration::from_secs(5), move |o| {
            let _ = tx.send(o);
        })
        .unwrap();
        {
            let _call = watch.start_call(7);
            spin(Duration::from_millis(100));
        }
        // The call has ended: however long the watchdog runs now, it has nothing to charge.
        spin(Duration::from_millis(300));
        drop(watch);
        assert_eq!(rx.try_recv().ok(), None);
    }

    #[test]
    fn a_shared_call_is_charged_the_process_time() {
        let (tx, rx) = mpsc::channel();
        let watch = CpuWatch::start(Duration::from_millis(200), move |o| {
            let _ = tx.send(o);
        })
        .unwrap();
        let call = watch.start_shared_call(9);
        // Spun on a thread the call does not own, as an async tool's poll would be.
        std::thread::spawn(|| spin(Duration::from_millis(800)))
            .join()
            .unwrap();
        let overrun = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("an overrun");
        assert_eq!(overrun.call, 9);
        drop(call);
    }
}
