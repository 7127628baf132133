//! Unit tests of sessions and the session store.

use super::*;

#[test]
fn store_creates_finds_removes_and_reaps() {
    let store = SessionStore::new(crate::config::DEFAULT_MAX_SESSIONS);
    let s = store.create("2025-06-18").unwrap();
    let id = s.id.clone();
    assert_eq!(id.len(), 32);
    assert!(store.get(&id).is_some());
    assert!(store.remove(&id));
    assert!(store.get(&id).is_none());
    assert!(!store.remove(&id));
    let _s2 = store.create("2025-06-18").unwrap();
    assert_eq!(store.reap(Duration::from_secs(60)), 0);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(store.reap(Duration::from_millis(1)), 1);
    assert_eq!(store.len(), 0);
}

#[test]
fn the_store_refuses_past_its_maximum_until_a_session_ends() {
    let store = SessionStore::new(3);
    let ids: Vec<Arc<str>> = (0..3)
        .map(|_| store.create("2025-06-18").unwrap().id.clone())
        .collect();
    let full = store.create("2025-06-18").unwrap_err();
    assert_eq!(full.max, 3);
    assert_eq!(store.len(), 3);
    assert!(store.remove(&ids[0]));
    assert!(store.create("2025-06-18").is_ok());
    assert!(store.create("2025-06-18").is_err());
}

#[test]
fn log_levels_filter() {
    let s = Session::new("s".into(), "2025-06-18");
    assert!(!s.wants_log("debug"));
    assert!(s.wants_log("info"));
    s.set_log_level(level_index("error").unwrap());
    assert!(!s.wants_log("warning"));
    assert!(s.wants_log("critical"));
    assert!(!s.wants_log("bogus"));
}

#[test]
fn pending_requests_get_answers() {
    let s = Session::new("s".into(), "2025-06-18");
    let (id, rx) = s.register_pending();
    assert!(s.answer(&id, Ok(serde_json::json!({"ok": true}))));
    assert_eq!(rx.recv().unwrap().unwrap()["ok"], true);
    assert!(!s.answer(&id, Ok(Value::Null)));
}
