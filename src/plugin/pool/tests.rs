//! Unit tests of the pool: jobs run and are joined, queue waits and stuck jobs are seen,
//! short jobs share an awake worker, and a job queued behind a blocking one still starts.

use super::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

fn pool(max_threads: usize) -> Pool {
    Pool::new("t", PoolOptions::new(max_threads, Duration::from_secs(60)))
}

#[test]
fn runs_jobs_and_joins_on_shutdown() {
    let pool = pool(4);
    let done = Arc::new(AtomicUsize::new(0));
    for _ in 0..20 {
        let done = done.clone();
        pool.submit(Box::new(move || {
            std::thread::sleep(Duration::from_millis(2));
            done.fetch_add(1, Ordering::SeqCst);
        }))
        .unwrap();
    }
    assert!(pool.threads().0 <= 4);
    pool.shutdown();
    assert_eq!(done.load(Ordering::SeqCst), 20);
    assert_eq!(pool.threads(), (0, false));
    assert_eq!(pool.submit(Box::new(|| {})), Err(PoolClosed));
}

#[test]
fn run_blocking_returns_value() {
    let pool = pool(1);
    assert_eq!(pool.run_blocking(|| 41 + 1), Ok(42));
    pool.shutdown();
}

/// Submits a job that holds its worker until `release` is set; returns when it runs.
fn hold(pool: &Pool, release: &Arc<AtomicBool>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let release = release.clone();
    pool.submit(Box::new(move || {
        let _ = tx.send(());
        while !release.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }))
    .unwrap();
    rx.recv_timeout(Duration::from_secs(10))
        .expect("job started");
}

#[test]
fn queue_waits_are_recorded_once_the_plugin_is_named() {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let sink = waits.clone();
    let mut options = PoolOptions::new(1, Duration::from_secs(60));
    options.queue_wait = Some(Arc::new(move |plugin: &str| -> WaitRecorder {
        assert_eq!(plugin, "p");
        let sink = sink.clone();
        Box::new(move |d| sink.lock().unwrap().push(d))
    }));
    let pool = Pool::new("t", options);
    pool.run_blocking(|| ()).unwrap();
    assert!(waits.lock().unwrap().is_empty(), "not named yet");
    pool.set_plugin("p");
    let release = Arc::new(AtomicBool::new(false));
    hold(&pool, &release);
    // Queued behind the held job: it waits at least until the release.
    let (tx, rx) = std::sync::mpsc::channel();
    pool.submit(Box::new(move || tx.send(()).unwrap())).unwrap();
    assert_eq!(pool.usage().queued, 1);
    std::thread::sleep(Duration::from_millis(30));
    release.store(true, Ordering::SeqCst);
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    pool.shutdown();
    let waits = waits.lock().unwrap();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(waits[1] >= Duration::from_millis(30), "{waits:?}");
}

#[test]
fn a_pool_whose_every_worker_overran_is_wedged() {
    let pool = Pool::new(
        "t",
        PoolOptions {
            max_threads: 2,
            stuck_after: Duration::from_millis(50),
            queue_wait: None,
            overdue_after: OVERDUE_AFTER,
        },
    );
    let release = Arc::new(AtomicBool::new(false));
    hold(&pool, &release);
    let usage = pool.usage();
    assert_eq!((usage.running, usage.stuck, usage.limit), (1, 0, 2));
    hold(&pool, &release);
    std::thread::sleep(Duration::from_millis(80));
    let usage = pool.usage();
    assert_eq!((usage.running, usage.stuck), (2, 2));
    assert!(usage.wedged());
    release.store(true, Ordering::SeqCst);
    pool.shutdown();
    let usage = pool.usage();
    assert_eq!((usage.running, usage.stuck), (0, 0));
    assert!(!usage.wedged());
}

#[test]
fn jobs_queued_while_a_worker_is_awake_run_on_it_without_a_thread_each() {
    // Overdue only after a minute: this is about what a submit does, not the watchdog.
    let mut options = PoolOptions::new(8, Duration::from_secs(60));
    options.overdue_after = Duration::from_secs(60);
    let pool = Pool::new("t", options);
    let release = Arc::new(AtomicBool::new(false));
    hold(&pool, &release);
    let ran_on = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..20 {
        let (ran_on, tx) = (ran_on.clone(), tx.clone());
        pool.submit(Box::new(move || {
            ran_on.lock().unwrap().push(std::thread::current().id());
            let _ = tx.send(());
        }))
        .unwrap();
    }
    // Every job is left to the awake worker: no thread started for them, none woken.
    assert_eq!(pool.threads().0, 1);
    assert_eq!(pool.usage().queued, 20);
    release.store(true, Ordering::SeqCst);
    for n in 0..20 {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("job {n} never ran"));
    }
    let ran_on = ran_on.lock().unwrap();
    assert!(ran_on.iter().all(|id| *id == ran_on[0]), "{ran_on:?}");
    assert_eq!(pool.threads().0, 1);
    pool.shutdown();
}

#[test]
fn jobs_queued_behind_a_blocking_one_get_threads_of_their_own() {
    let pool = pool(4);
    let release = Arc::new(AtomicBool::new(false));
    hold(&pool, &release);
    let sent = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..2 {
        let tx = tx.clone();
        pool.submit(Box::new(move || tx.send(Instant::now()).unwrap()))
            .unwrap();
    }
    // The blocking job holds its worker until released; the queued jobs start after about
    // OVERDUE_AFTER (a generous margin for a loaded machine).
    for n in 0..2 {
        let started = rx
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| panic!("job {n} waited for the blocking one"));
        let waited = started - sent;
        assert!(
            waited < Duration::from_millis(500),
            "job {n} waited {waited:?}"
        );
    }
    assert!(pool.threads().0 >= 2);
    release.store(true, Ordering::SeqCst);
    pool.shutdown();
    // The watchdog is joined with the workers.
    assert_eq!(pool.threads(), (0, false));
}

#[test]
fn the_watchdog_adds_no_thread_past_the_bound() {
    let pool = pool(2);
    let release = Arc::new(AtomicBool::new(false));
    hold(&pool, &release);
    hold(&pool, &release);
    let (tx, rx) = std::sync::mpsc::channel();
    pool.submit(Box::new(move || tx.send(()).unwrap())).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(pool.threads(), (2, true));
    assert_eq!(pool.usage().queued, 1);
    release.store(true, Ordering::SeqCst);
    rx.recv_timeout(Duration::from_secs(10))
        .expect("queued job ran");
    pool.shutdown();
    assert_eq!(pool.threads(), (0, false));
}
