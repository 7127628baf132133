//! Per-session log of SSE events, for resuming a response stream (`Last-Event-ID`).
//!
//! Protocol versions 2025-03-26 to 2025-11-25 let a client reconnect to a broken or
//! server-closed response stream with `GET` and `Last-Event-ID`, and receive what it missed.
//! Each POST response stream of a session gets a stream number; each message on it a sequence
//! number; the event id is `{stream}_{seq}`. The log is bounded: finished streams are dropped
//! after [`KEEP_FINISHED`], and at most [`MAX_STREAMS`] streams are kept per session.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// How long a finished stream stays available for a late reconnect.
pub const KEEP_FINISHED: Duration = Duration::from_secs(60);
/// The most streams a session remembers; the oldest go first.
pub const MAX_STREAMS: usize = 64;
/// The most events one stream remembers (a runaway tool cannot grow the log without bound).
pub const MAX_EVENTS: usize = 1024;

/// One event: sequence number and JSON-RPC message.
pub type Event = (u64, String);

#[derive(Debug)]
struct StreamLog {
    events: Vec<Event>,
    next_seq: u64,
    finished: Option<Instant>,
    /// A resumed GET waiting for live events.
    follower: Option<UnboundedSender<Event>>,
}

/// The event log of one session.
#[derive(Debug, Default)]
pub struct EventLog {
    streams: HashMap<u64, StreamLog>,
    next_stream: u64,
}

/// What a resume finds: the missed events, and a receiver for later ones if the stream is
/// still running.
#[derive(Debug)]
pub struct Resumed {
    /// Events after the client's last one.
    pub missed: Vec<Event>,
    /// Live events, if the response has not been sent yet.
    pub live: Option<UnboundedReceiver<Event>>,
}

/// `{stream}_{seq}`.
pub fn event_id(stream: u64, seq: u64) -> String {
    format!("{stream}_{seq}")
}

/// Parses an event id made by [`event_id`].
pub fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (s, q) = id.trim().split_once('_')?;
    Some((s.parse().ok()?, q.parse().ok()?))
}

impl EventLog {
    /// Starts a new stream and returns its number; the priming event is sequence 0.
    pub fn open(&mut self) -> u64 {
        self.gc();
        let id = self.next_stream;
        self.next_stream += 1;
        self.streams.insert(
            id,
            StreamLog {
                events: Vec::new(),
                next_seq: 1,
                finished: None,
                follower: None,
            },
        );
        id
    }

    /// Appends a message to a stream and returns its sequence number (forwarding it to a
    /// resumed reader, if one is attached).
    pub fn record(&mut self, stream: u64, message: &str) -> u64 {
        let Some(log) = self.streams.get_mut(&stream) else {
            return 0;
        };
        let seq = log.next_seq;
        log.next_seq += 1;
        if let Some(f) = &log.follower
            && f.send((seq, message.to_string())).is_err()
        {
            log.follower = None;
        }
        if log.events.len() >= MAX_EVENTS {
            log.events.remove(0);
        }
        log.events.push((seq, message.to_string()));
        seq
    }

    /// Marks a stream's response as sent; a resumed reader's channel closes.
    pub fn finish(&mut self, stream: u64) {
        if let Some(log) = self.streams.get_mut(&stream) {
            log.finished = Some(Instant::now());
            log.follower = None;
        }
    }

    /// The events of `stream` after `after`, and live ones if it is still running.
    pub fn resume(&mut self, stream: u64, after: u64) -> Option<Resumed> {
        let log = self.streams.get_mut(&stream)?;
        let missed = log
            .events
            .iter()
            .filter(|(s, _)| *s > after)
            .cloned()
            .collect();
        let live = if log.finished.is_none() {
            let (tx, rx) = unbounded_channel();
            log.follower = Some(tx);
            Some(rx)
        } else {
            None
        };
        Some(Resumed { missed, live })
    }

    fn gc(&mut self) {
        self.streams
            .retain(|_, l| l.finished.is_none_or(|t| t.elapsed() < KEEP_FINISHED));
        while self.streams.len() >= MAX_STREAMS {
            let Some(&oldest) = self.streams.keys().min() else {
                break;
            };
            self.streams.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumes_after_the_last_event_and_follows_live_ones() {
        let mut log = EventLog::default();
        let s = log.open();
        assert_eq!(log.record(s, "a"), 1);
        assert_eq!(log.record(s, "b"), 2);
        let mut r = log.resume(s, 1).unwrap();
        assert_eq!(r.missed, vec![(2, "b".to_string())]);
        log.record(s, "c");
        assert_eq!(
            r.live.as_mut().unwrap().try_recv().unwrap(),
            (3, "c".to_string())
        );
        log.finish(s);
        assert!(r.live.unwrap().try_recv().is_err());
        let done = log.resume(s, 0).unwrap();
        assert_eq!(done.missed.len(), 3);
        assert!(done.live.is_none());
        assert!(log.resume(99, 0).is_none());
    }

    #[test]
    fn event_ids_round_trip() {
        assert_eq!(parse_event_id(&event_id(3, 14)), Some((3, 14)));
        assert_eq!(parse_event_id("nope"), None);
    }

    #[test]
    fn the_log_is_bounded() {
        let mut log = EventLog::default();
        for _ in 0..(MAX_STREAMS * 2) {
            log.open();
        }
        assert!(log.streams.len() <= MAX_STREAMS);
        let s = log.open();
        for i in 0..(MAX_EVENTS + 10) {
            log.record(s, &i.to_string());
        }
        assert_eq!(log.resume(s, 0).unwrap().missed.len(), MAX_EVENTS);
    }
}
