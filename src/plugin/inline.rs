//! Whether a tool's calls may still run inline on the I/O threads.
//!
//! A plugin marks short pure tools `"inline": true`; the host runs their calls on the thread
//! that read the request, saving two thread hops. A call that blocks holds up every request
//! queued on that thread, so the host watches how long inline calls take and sends a tool that
//! is slow to the worker threads for good. One slow call is not proof: on a busy machine the
//! scheduler can take a thread away for a few milliseconds in the middle of a 2 µs call. So:
//!
//! - a call longer than [`BLOCKED`] demotes the tool at once: no preemption lasts that long;
//! - a call longer than [`SLOW`] is a strike, and [`STRIKES`] strikes demote it; each fast call
//!   forgives 1/[`FORGIVE`] of a strike, so a tool slow on fewer than 1 call in [`FORGIVE`]
//!   (the scheduler's doing) is never demoted, and one slow more often than that soon is.
//!
//! The gate only sees a call once it has returned, so the first calls of a tool that blocks
//! still hold their threads. What keeps the server's own I/O going is `slots`: a process-wide
//! cap that leaves one I/O thread free of inline calls, and a watchdog that makes sure that
//! thread serves the runtime's I/O. A call takes the gate and a slot together
//! ([`InlineGate::try_enter`]); one that finds either closed takes the worker path, with the
//! same outcome for the client.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

mod slots;

pub use slots::{InlinePermit, watch_runtime};

/// An inline call slower than this is a strike.
pub(crate) const SLOW: Duration = Duration::from_millis(5);
/// An inline call slower than this demotes its tool at once.
pub(crate) const BLOCKED: Duration = Duration::from_millis(50);
/// Strikes that demote a tool.
pub(crate) const STRIKES: u32 = 3;
/// Fast calls that wipe out one strike.
pub(crate) const FORGIVE: u32 = 1000;

/// The inline state of one tool, shared by every clone of its catalog entry.
#[derive(Debug)]
pub(crate) struct InlineGate {
    open: AtomicBool,
    /// Strikes, in units of 1/[`FORGIVE`] of a strike.
    debt: AtomicU32,
}

/// Why a tool was sent to the worker threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Demoted {
    /// One call took longer than [`BLOCKED`].
    Blocked,
    /// [`STRIKES`] calls took longer than [`SLOW`].
    OftenSlow,
}

impl Demoted {
    /// For the log line.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Demoted::Blocked => "one call blocked",
            Demoted::OftenSlow => "calls are often slow",
        }
    }
}

impl InlineGate {
    /// A gate for a tool the plugin marked inline (`open`) or not.
    pub(crate) fn new(open: bool) -> Self {
        InlineGate {
            open: AtomicBool::new(open),
            debt: AtomicU32::new(0),
        }
    }

    /// Whether the next call may run inline.
    pub(crate) fn is_open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }

    /// A permit to run one call inline now: the gate is open and an inline slot of the process
    /// is free ([`watch_runtime`]). `None` sends the call to the worker threads. Hold the
    /// permit until the call has returned.
    pub(crate) fn try_enter(&self) -> Option<InlinePermit> {
        if !self.is_open() {
            return None;
        }
        slots::SLOTS.try_take()
    }

    /// Closes the gate; true the first time.
    pub(crate) fn close(&self) -> bool {
        self.open.swap(false, Ordering::Relaxed)
    }

    /// Records how long an inline call took; `Some` the one time this demotes the tool.
    pub(crate) fn record(&self, took: Duration) -> Option<Demoted> {
        if took > BLOCKED {
            return self.close().then_some(Demoted::Blocked);
        }
        if took > SLOW {
            let debt = self.debt.fetch_add(FORGIVE, Ordering::Relaxed) + FORGIVE;
            if debt >= STRIKES * FORGIVE {
                return self.close().then_some(Demoted::OftenSlow);
            }
            return None;
        }
        // Fast: the usual case reads one shared counter that is zero and writes nothing.
        if self.debt.load(Ordering::Relaxed) > 0 {
            let _ = self
                .debt
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| d.checked_sub(1));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Duration = Duration::from_micros(3);
    const HICCUP: Duration = Duration::from_millis(8);

    #[test]
    fn a_blocking_call_demotes_at_once_and_reports_once() {
        let gate = InlineGate::new(true);
        assert_eq!(gate.record(FAST), None);
        assert_eq!(
            gate.record(Duration::from_millis(60)),
            Some(Demoted::Blocked)
        );
        assert!(!gate.is_open());
        assert_eq!(
            gate.record(Duration::from_millis(60)),
            None,
            "reported once"
        );
    }

    #[test]
    fn one_hiccup_does_not_demote_but_repeated_slowness_does() {
        let gate = InlineGate::new(true);
        assert_eq!(gate.record(HICCUP), None);
        assert_eq!(gate.record(HICCUP), None);
        assert!(gate.is_open(), "two slow calls may be the scheduler");
        assert_eq!(gate.record(HICCUP), Some(Demoted::OftenSlow));
        assert!(!gate.is_open());
    }

    #[test]
    fn rare_hiccups_are_forgiven() {
        let gate = InlineGate::new(true);
        for _ in 0..10 {
            assert_eq!(gate.record(HICCUP), None);
            for _ in 0..FORGIVE {
                gate.record(FAST);
            }
        }
        assert!(gate.is_open(), "one slow call in a thousand is the machine");
    }

    #[test]
    fn slow_one_call_in_a_hundred_is_demoted() {
        let gate = InlineGate::new(true);
        let mut demoted = None;
        for round in 0..10 {
            if let Some(why) = gate.record(HICCUP) {
                demoted = Some((round, why));
                break;
            }
            for _ in 0..100 {
                gate.record(FAST);
            }
        }
        // Each hundred fast calls forgive a tenth of a strike: the fourth slow call demotes.
        assert_eq!(demoted, Some((3, Demoted::OftenSlow)));
    }

    #[test]
    fn a_closed_gate_gives_no_permit() {
        let gate = InlineGate::new(true);
        gate.close();
        assert!(gate.try_enter().is_none());
        assert!(InlineGate::new(false).try_enter().is_none());
    }

    #[test]
    fn a_closed_gate_stays_closed() {
        let gate = InlineGate::new(false);
        assert!(!gate.is_open());
        assert_eq!(gate.record(Duration::from_millis(60)), None);
        assert!(!gate.close());
    }
}
