//! Per-session log of SSE events, for resuming a response stream (`Last-Event-ID`).
//!
//! Protocol versions 2025-03-26 to 2025-11-25 let a client reconnect to a broken or
//! server-closed response stream with `GET` and `Last-Event-ID`, and receive what it missed.
//! Each POST response stream of a session gets a stream number; each message on it a sequence
//! number; the event id is `{stream}_{seq}`. The log is bounded: finished streams are dropped
//! after [`KEEP_FINISHED`], and at most [`MAX_STREAMS`] streams are kept per session.
//!
//! The [`MAX_EVENTS`] cap limits only what can be *replayed*: live delivery (the POST stream,
//! or a resumed `GET` that follows the stream) does not go through the kept events. When the cap
//! pushes out an event that no reader received live, [`Recorded::lost`] says so, so the writer
//! can count it.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{Receiver, Sender, channel};

/// How long a finished stream stays available for a late reconnect.
pub(crate) const KEEP_FINISHED: Duration = Duration::from_secs(60);
/// The most streams a session remembers; the oldest go first.
pub(crate) const MAX_STREAMS: usize = 64;
/// The most events one stream remembers for replay (a runaway tool cannot grow the log
/// without bound).
pub(crate) const MAX_EVENTS: usize = 1024;
/// Live events a resumed reader may have waiting; the stream's writer waits for room.
pub(crate) const FOLLOW_CAPACITY: usize = 256;

/// One event: sequence number and JSON-RPC message.
pub(crate) type Event = (u64, String);

#[derive(Debug)]
struct StreamLog {
    /// Kept events, and whether each reached a live reader when it was recorded.
    events: VecDeque<(Event, bool)>,
    next_seq: u64,
    finished: Option<Instant>,
    /// A resumed GET waiting for live events.
    follower: Option<Sender<Event>>,
}

/// The event log of one session.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    streams: HashMap<u64, StreamLog>,
    next_stream: u64,
}

/// What a resume finds: the missed events, and a receiver for later ones if the stream is
/// still running.
#[derive(Debug)]
pub(crate) struct Resumed {
    /// Events after the client's last one.
    pub(crate) missed: Vec<Event>,
    /// Live events, if the response has not been sent yet.
    pub(crate) live: Option<Receiver<Event>>,
}

/// What [`EventLog::record`] did with a message.
#[derive(Debug)]
pub(crate) struct Recorded {
    /// The message's sequence number (0 when the stream is no longer in the log).
    pub(crate) seq: u64,
    /// The resumed reader to hand the message to, outside the log's lock.
    pub(crate) follower: Option<Sender<Event>>,
    /// How many events the cap pushed out that no reader had received (0 or 1).
    pub(crate) lost: u64,
}

/// `{stream}_{seq}`.
pub(crate) fn event_id(stream: u64, seq: u64) -> String {
    format!("{stream}_{seq}")
}

/// Parses an event id made by [`event_id`].
pub(crate) fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (s, q) = id.trim().split_once('_')?;
    Some((s.parse().ok()?, q.parse().ok()?))
}

impl EventLog {
    /// Starts a new stream and returns its number; the priming event is sequence 0.
    pub(crate) fn open(&mut self) -> u64 {
        self.gc();
        let id = self.next_stream;
        self.next_stream += 1;
        self.streams.insert(
            id,
            StreamLog {
                events: VecDeque::new(),
                next_seq: 1,
                finished: None,
                follower: None,
            },
        );
        id
    }

    /// Appends a message to a stream. `live` says whether the stream's own client is
    /// connected to receive it; a resumed reader, if attached, is returned to be sent it.
    pub(crate) fn record(&mut self, stream: u64, message: &str, live: bool) -> Recorded {
        let Some(log) = self.streams.get_mut(&stream) else {
            return Recorded {
                seq: 0,
                follower: None,
                lost: 0,
            };
        };
        let seq = log.next_seq;
        log.next_seq += 1;
        if log.follower.as_ref().is_some_and(Sender::is_closed) {
            log.follower = None;
        }
        let live = live || log.follower.is_some();
        let mut lost = 0;
        if log.events.len() >= MAX_EVENTS
            && let Some((_, delivered)) = log.events.pop_front()
            && !delivered
        {
            lost = 1;
        }
        log.events.push_back(((seq, message.to_string()), live));
        Recorded {
            seq,
            follower: log.follower.clone(),
            lost,
        }
    }

    /// Marks a stream's response as sent; a resumed reader's channel closes once the writer
    /// has handed it the last message.
    pub(crate) fn finish(&mut self, stream: u64) {
        if let Some(log) = self.streams.get_mut(&stream) {
            log.finished = Some(Instant::now());
            log.follower = None;
        }
    }

    /// The events of `stream` after `after`, and live ones if it is still running.
    pub(crate) fn resume(&mut self, stream: u64, after: u64) -> Option<Resumed> {
        let log = self.streams.get_mut(&stream)?;
        let missed = log
            .events
            .iter()
            .filter(|((s, _), _)| *s > after)
            .map(|(e, _)| e.clone())
            .collect();
        let live = if log.finished.is_none() {
            let (tx, rx) = channel(FOLLOW_CAPACITY);
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
        assert_eq!(log.record(s, "a", true).seq, 1);
        assert_eq!(log.record(s, "b", true).seq, 2);
        let mut r = log.resume(s, 1).unwrap();
        assert_eq!(r.missed, vec![(2, "b".to_string())]);
        let c = log.record(s, "c", false);
        assert_eq!(c.seq, 3);
        // The writer hands live events to the resumed reader itself, outside the lock.
        c.follower
            .expect("a follower")
            .try_send((c.seq, "c".into()))
            .unwrap();
        assert_eq!(
            r.live.as_mut().unwrap().try_recv().unwrap(),
            (3, "c".to_string())
        );
        log.finish(s);
        assert!(log.record(s, "d", false).follower.is_none());
        let done = log.resume(s, 0).unwrap();
        assert_eq!(done.missed.len(), 4);
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
            log.record(s, &i.to_string(), true);
        }
        let missed = log.resume(s, 0).unwrap().missed;
        assert_eq!(missed.len(), MAX_EVENTS);
        assert_eq!(missed[0].1, "10", "the oldest events go first");
    }

    #[test]
    fn only_events_nobody_received_count_as_lost() {
        let mut log = EventLog::default();
        let s = log.open();
        let mut lost = 0;
        // Delivered live, then pushed out: nothing lost.
        for i in 0..MAX_EVENTS {
            lost += log.record(s, &i.to_string(), true).lost;
        }
        for i in 0..MAX_EVENTS {
            lost += log.record(s, &i.to_string(), false).lost;
        }
        assert_eq!(lost, 0);
        // Now the pushed-out events were recorded while nobody was connected.
        for i in 0..10 {
            lost += log.record(s, &i.to_string(), false).lost;
        }
        assert_eq!(lost, 10);
    }

    #[test]
    fn a_closed_follower_is_forgotten() {
        let mut log = EventLog::default();
        let s = log.open();
        let r = log.resume(s, 0).unwrap();
        assert!(log.record(s, "a", false).follower.is_some());
        drop(r);
        let rec = log.record(s, "b", false);
        assert!(rec.follower.is_none());
    }
}
