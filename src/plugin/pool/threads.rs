//! The pool's threads: the workers' loop, and the watchdog that gives a thread to every job
//! the awake workers leave in the queue for longer than [`Shared::overdue_after`].
//!
//! Waking a parked thread costs a context switch, and starting one much more, so a submit
//! leaves its job to the workers that are awake when there are any (`Pool::submit`). That
//! batches short jobs, but an awake worker may be running a job that blocks for seconds. The
//! watchdog covers that: it sleeps until the oldest job it has not yet covered becomes
//! overdue and then wakes or starts one worker for each overdue job that no free worker will
//! take first. It only runs while something was left to the awake workers: armed by such a
//! submit when unarmed (one wake-up), it disarms itself when the queue holds nothing it has
//! not covered, so under load it wakes at most about twice per [`Shared::overdue_after`], and
//! never when every job found a parked worker. It runs no plugin code; like the workers it
//! exits after [`IDLE_EXIT`] with nothing to do, and [`super::Pool::shutdown`] joins it.

use std::sync::{Arc, MutexGuard};
use std::time::Instant;

use super::{IDLE_EXIT, Shared, State, lock};

impl Shared {
    /// Wakes a parked worker for the queue, or starts one under the bound. False when every
    /// thread the bound allows exists and runs or is already woken.
    pub(super) fn wake_one(self: &Arc<Self>, st: &mut State) -> bool {
        if st.parked > 0 {
            st.parked -= 1;
            st.wakeups += 1;
            st.awake_free += 1;
            self.ready.notify_one();
            true
        } else if st.alive < self.max_threads {
            self.spawn_worker(st)
        } else {
            false
        }
    }

    /// Starts one more worker thread, awake and free (the caller checked the bound).
    fn spawn_worker(self: &Arc<Self>, st: &mut State) -> bool {
        let id = match st.free_ids.pop() {
            Some(id) => id,
            None => {
                st.busy_since.push(None);
                st.busy_since.len() - 1
            }
        };
        let shared = self.clone();
        let spawned = std::thread::Builder::new()
            .name(self.name.clone())
            .spawn(move || worker(shared, id));
        match spawned {
            Ok(handle) => {
                st.handles.push(handle);
                st.alive += 1;
                st.awake_free += 1;
                true
            }
            // The job stays queued for a thread that already exists, if any.
            Err(_) => {
                st.free_ids.push(id);
                false
            }
        }
    }

    /// Makes sure the watchdog will look at the queue by the time its last job is overdue:
    /// wakes it if it sleeps unarmed, starts it if it does not run.
    pub(super) fn arm_watchdog(self: &Arc<Self>, st: &mut State) {
        if st.watch_armed {
            return;
        }
        if st.watchdog {
            st.watch_armed = true;
            self.watch.notify_one();
            return;
        }
        let shared = self.clone();
        let spawned = std::thread::Builder::new()
            .name(self.name.clone())
            .spawn(move || watchdog(shared));
        // Without a watchdog (no thread to be had) the job waits for the awake workers.
        if let Ok(handle) = spawned {
            st.handles.push(handle);
            st.watchdog = true;
            st.watch_armed = true;
        }
    }

    /// Wakes or starts a worker for each job queued for [`Shared::overdue_after`] or longer
    /// that the free workers do not cover (as far as the bound allows), and says when the
    /// next queued job becomes overdue (`None`: nothing queued is still to be covered).
    fn cover_overdue(self: &Arc<Self>, st: &mut State, now: Instant) -> Option<Instant> {
        // The queue is in the order jobs came, so the overdue ones are at its front, and the
        // free workers take those first.
        let known = st.overdue.min(st.queue.len());
        let overdue = known
            + st.queue
                .iter()
                .skip(known)
                .take_while(|(_, at)| now.saturating_duration_since(*at) >= self.overdue_after)
                .count();
        st.overdue = overdue;
        for _ in st.awake_free..overdue {
            if !self.wake_one(st) {
                break;
            }
        }
        let (_, next) = st.queue.get(overdue)?;
        Some(*next + self.overdue_after)
    }

    /// Parks a worker that found no job. Returns whether it was woken to work (it is counted
    /// free again) rather than idle for [`IDLE_EXIT`] with nothing queued (it should exit).
    fn park<'a>(&self, mut st: MutexGuard<'a, State>) -> (MutexGuard<'a, State>, bool) {
        st.parked += 1;
        loop {
            let (guard, waited) = self
                .ready
                .wait_timeout(st, IDLE_EXIT)
                .unwrap_or_else(|e| e.into_inner());
            st = guard;
            if st.wakeups > 0 {
                // Whoever sent it moved one worker from parked to free already; any worker
                // that wakes may take it.
                st.wakeups -= 1;
                return (st, true);
            }
            if st.closed || waited.timed_out() {
                st.parked -= 1;
                // Closing: finish what is queued, then exit. Idle: take a job left to the
                // others if there is one (its wait is over sooner), or exit.
                let work = st.closed || !st.queue.is_empty();
                if work {
                    st.awake_free += 1;
                }
                return (st, work);
            }
        }
    }
}

/// The loop of worker number `id`: take a job, run it, repeat; park when there is none; exit
/// when closed or idle.
fn worker(shared: Arc<Shared>, id: usize) {
    let mut st = lock(&shared.state);
    loop {
        // Here this worker counts in `awake_free` (whoever started or woke it did that).
        if let Some((job, queued)) = st.queue.pop_front() {
            st.awake_free -= 1;
            st.overdue = st.overdue.saturating_sub(1);
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
            st.awake_free += 1;
            continue;
        }
        st.awake_free -= 1;
        if st.closed {
            break;
        }
        let (guard, woken) = shared.park(st);
        st = guard;
        if !woken {
            break;
        }
    }
    st.alive -= 1;
    st.free_ids.push(id);
    reap_own_handle(&mut st);
}

/// The watchdog's loop: cover overdue jobs, sleep until the next one is due or until armed,
/// exit when closed or after [`IDLE_EXIT`] unarmed.
fn watchdog(shared: Arc<Shared>) {
    let mut st = lock(&shared.state);
    while !st.closed {
        let now = Instant::now();
        let wait = match shared.cover_overdue(&mut st, now) {
            Some(due) => {
                st.watch_armed = true;
                due.saturating_duration_since(now)
            }
            None => {
                st.watch_armed = false;
                IDLE_EXIT
            }
        };
        let (guard, waited) = shared
            .watch
            .wait_timeout(st, wait)
            .unwrap_or_else(|e| e.into_inner());
        st = guard;
        if waited.timed_out() && !st.watch_armed {
            break;
        }
    }
    st.watchdog = false;
    st.watch_armed = false;
    reap_own_handle(&mut st);
}

/// Drops the calling thread's handle unjoined when it exits on its own (idle), as nobody will
/// join it; after a close, `Pool::shutdown` holds the handles and joins them.
fn reap_own_handle(st: &mut State) {
    if !st.closed {
        let me = std::thread::current().id();
        st.handles.retain(|h| h.thread().id() != me);
    }
}
