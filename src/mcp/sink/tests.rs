//! Unit tests of `sink`.

use super::*;

fn pair(capacity: usize) -> (OutboundTx, Receiver<Outbound>, Arc<AtomicBool>) {
    let (tx, rx) = channel(capacity);
    let cancel = Arc::new(AtomicBool::new(false));
    (
        OutboundTx::new(tx, cancel.clone(), Drops::default()),
        rx,
        cancel,
    )
}

fn msg(i: usize) -> Outbound {
    Outbound::Message(i.to_string())
}

#[test]
fn a_full_channel_makes_the_sender_wait_and_nothing_is_lost() {
    let (tx, mut rx, _) = pair(2);
    let sender = std::thread::spawn(move || (0..100).all(|i| tx.send(msg(i))));
    let mut got = Vec::new();
    while let Some(m) = rx.blocking_recv() {
        got.push(m);
    }
    assert!(sender.join().unwrap());
    assert_eq!(got, (0..100).map(msg).collect::<Vec<_>>());
}

#[test]
fn a_closed_channel_or_a_cancelled_call_stops_the_wait() {
    let (tx, rx, _) = pair(1);
    assert!(tx.send(msg(0)));
    let closer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        drop(rx);
    });
    assert!(!tx.send(msg(1)), "the reader went away");
    closer.join().unwrap();

    let (tx, _rx, cancel) = pair(1);
    assert!(tx.send(msg(0)));
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        cancel.store(true, Ordering::Relaxed);
    });
    assert!(!tx.send(msg(1)), "the call was cancelled");
    canceller.join().unwrap();
}

#[tokio::test]
async fn a_runtime_thread_never_waits() {
    let (tx, mut rx, _) = pair(1);
    assert!(tx.send(msg(0)));
    // Would wait forever if it blocked: nobody reads until it returns.
    assert!(!tx.send(msg(1)));
    assert_eq!(rx.recv().await, Some(msg(0)));
    assert!(rx.try_recv().is_err());
}
