//! How late `tokio::time::sleep(50 ms)` fires on a runtime that runs only timers (as a plugin's
//! own runtime does for `io_wait`), against one whose driver a socket wakes every ~200 µs (as a
//! server's runtime is woken by its connections). 256 tasks, 40 sleeps each, one worker thread.
//! Prints the mean lateness of each, twice.
//!
//! Run: `taskset -c 0 target/release/timer_lateness` (talks to 127.0.0.1 only; ~5 s per row).

use std::sync::mpsc;
use std::time::{Duration, Instant};

const TASKS: u64 = 256;
const SLEEPS: usize = 40;
const WAIT: Duration = Duration::from_millis(50);

/// Mean milliseconds past `WAIT` that the sleeps took.
fn mean_lateness(woken_by_socket: bool) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    if woken_by_socket {
        let sock = rt
            .block_on(tokio::net::UdpSocket::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let addr = sock.local_addr().expect("an address");
        rt.spawn(async move {
            let mut buf = [0u8; 16];
            while sock.recv(&mut buf).await.is_ok() {}
        });
        std::thread::spawn(move || {
            let sender = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
            // Bounded: about as long as the sleeps run.
            for _ in 0..15_000 {
                let _ = sender.send_to(b"x", addr);
                std::thread::sleep(Duration::from_micros(200));
            }
        });
    }
    let (tx, rx) = mpsc::channel();
    for i in 0..TASKS {
        let tx = tx.clone();
        rt.spawn(async move {
            // Spread over one WAIT, as requests arrive.
            tokio::time::sleep(Duration::from_micros(i * 195)).await;
            let mut late = Vec::with_capacity(SLEEPS);
            for _ in 0..SLEEPS {
                let start = Instant::now();
                tokio::time::sleep(WAIT).await;
                late.push((start.elapsed() - WAIT).as_secs_f64() * 1e3);
            }
            let _ = tx.send(late);
        });
    }
    drop(tx);
    let all: Vec<f64> = rx.iter().flatten().collect();
    all.iter().sum::<f64>() / all.len() as f64
}

fn main() {
    for _ in 0..2 {
        let idle = mean_lateness(false);
        let woken = mean_lateness(true);
        println!("timers only: {idle:.3} ms late; woken by a socket: {woken:.3} ms late");
    }
}
