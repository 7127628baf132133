//! What a connection is doing, for its watchdog: the three timeouts, and the timestamps the
//! connection's task writes as it goes (see [`super::conn`] for what each timeout bounds).
//!
//! A request costs a few uncontended atomic stores and two clock reads: no allocation, no
//! lock. Both HTTP/1 paths ([`super::h1`] and hyper's) report through the same [`Progress`].

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// The three timeouts of a connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) header: Duration,
    pub(crate) body: Duration,
    pub(crate) idle: Duration,
}

impl Timeouts {
    /// The timeouts of a connection admitted past the limit for `/health` and `/ready` only:
    /// at most 2 s each, so a flood cannot hold the few places kept for probes for long.
    pub(super) fn for_probes(self) -> Timeouts {
        let cap = Duration::from_secs(2);
        Timeouts {
            header: self.header.min(cap),
            body: self.body.min(cap),
            idle: self.idle.min(cap),
        }
    }

    pub(super) fn shortest(&self) -> Duration {
        self.header.min(self.body).min(self.idle)
    }
}

/// What a connection is doing, as the watchdog sees it. Times are milliseconds since `born`,
/// plus one, so 0 can mean "not yet".
#[derive(Debug)]
pub(super) struct Progress {
    born: Instant,
    /// Requests handed to the handler whose response body is not finished.
    busy: AtomicU32,
    /// The accept, the start of the request in flight, or the end of the last response.
    since: AtomicU64,
    /// The first byte of the next request's head; 0 = none yet.
    head_from: AtomicU64,
    /// The request in flight has its body read, or the handler answered.
    body_done: AtomicBool,
    /// No request yet: the header timeout runs from the accept.
    fresh: AtomicBool,
}

/// Which timeout a connection has to meet next.
#[derive(Debug, Clone, Copy)]
pub(super) enum Phase {
    Header,
    Body,
    Idle,
}

impl Progress {
    pub(super) fn new() -> Progress {
        Progress {
            born: Instant::now(),
            busy: AtomicU32::new(0),
            since: AtomicU64::new(1),
            head_from: AtomicU64::new(0),
            body_done: AtomicBool::new(true),
            fresh: AtomicBool::new(true),
        }
    }

    pub(super) fn now(&self) -> u64 {
        self.born.elapsed().as_millis() as u64 + 1
    }

    pub(super) fn instant(&self, ms: u64) -> Instant {
        self.born + Duration::from_millis(ms.saturating_sub(1))
    }

    /// Bytes arrived: the first of a request's head starts its header timeout.
    pub(super) fn bytes_in(&self) {
        if self.busy.load(Ordering::Relaxed) == 0
            && !self.fresh.load(Ordering::Relaxed)
            && self.head_from.load(Ordering::Relaxed) == 0
        {
            self.head_from.store(self.now(), Ordering::Relaxed);
        }
    }

    /// hyper parsed a head and calls the handler.
    pub(super) fn begin_request(&self) {
        self.busy.fetch_add(1, Ordering::Relaxed);
        self.fresh.store(false, Ordering::Relaxed);
        self.head_from.store(0, Ordering::Relaxed);
        self.body_done.store(false, Ordering::Relaxed);
        self.since.store(self.now(), Ordering::Relaxed);
    }

    pub(super) fn body_done(&self) {
        self.body_done.store(true, Ordering::Relaxed);
    }

    /// The response body was written (or dropped).
    pub(super) fn end_request(&self) {
        self.since.store(self.now(), Ordering::Relaxed);
        self.busy.fetch_sub(1, Ordering::Relaxed);
    }

    /// When the connection must have made progress, and what progress; `None` while it is
    /// answering.
    pub(super) fn due(&self, t: &Timeouts) -> Option<(u64, Phase)> {
        let since = self.since.load(Ordering::Relaxed);
        if self.busy.load(Ordering::Relaxed) > 0 {
            return (!self.body_done.load(Ordering::Relaxed))
                .then(|| (since + ms(t.body), Phase::Body));
        }
        let head_from = self.head_from.load(Ordering::Relaxed);
        if head_from != 0 {
            Some((head_from + ms(t.header), Phase::Header))
        } else if self.fresh.load(Ordering::Relaxed) {
            Some((since + ms(t.header), Phase::Header))
        } else {
            Some((since + ms(t.idle), Phase::Idle))
        }
    }
}

pub(super) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header: Duration::from_millis(100),
        body: Duration::from_millis(200),
        idle: Duration::from_millis(300),
    };

    fn phase(p: &Progress) -> Option<(u64, &'static str)> {
        p.due(&T).map(|(at, phase)| {
            let name = match phase {
                Phase::Header => "header",
                Phase::Body => "body",
                Phase::Idle => "idle",
            };
            (at, name)
        })
    }

    #[test]
    fn each_phase_has_its_deadline() {
        let p = Progress::new();
        // Fresh: the head is due a header timeout after the accept, bytes or not.
        assert_eq!(phase(&p), Some((101, "header")));
        p.bytes_in();
        assert_eq!(phase(&p), Some((101, "header")));
        p.begin_request();
        let start = p.since.load(Ordering::Relaxed);
        assert_eq!(phase(&p), Some((start + 200, "body")));
        p.body_done();
        assert_eq!(phase(&p), None, "answering is not idle");
        p.end_request();
        let end = p.since.load(Ordering::Relaxed);
        assert_eq!(phase(&p), Some((end + 300, "idle")));
        std::thread::sleep(Duration::from_millis(3));
        p.bytes_in();
        let first = p.head_from.load(Ordering::Relaxed);
        assert!(first > end);
        assert_eq!(phase(&p), Some((first + 100, "header")));
        p.begin_request();
        assert_eq!(p.head_from.load(Ordering::Relaxed), 0);
    }
}
