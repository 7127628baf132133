//! Stateful sessions that survive an instance switch: two real fastmcp instances share
//! sessions through a real Redis (`--session-store redis://...`); a session deleted on one is
//! gone on the other; with Redis down, requests get a clear error and nothing crashes; the
//! in-memory default needs no Redis at all.

use serde_json::json;

use crate::util::redis::redis;
use crate::util::{self, Server, plugins, rpc};

fn instance(store: &str) -> Server {
    util::start(
        &[
            plugins().calculator.to_str().unwrap(),
            "--session-store",
            store,
        ],
        &[],
    )
}

fn add(server: &Server, session: &str) -> reqwest::blocking::Response {
    server.post(
        &rpc(
            2,
            "tools/call",
            json!({"name": "calculate", "arguments": {"operation": "add", "a": 2, "b": 3}}),
        ),
        Some(session),
    )
}

#[test]
fn a_session_started_on_one_instance_continues_on_another() {
    let Some(redis) = redis() else { return };
    let url = format!("redis://127.0.0.1:{}/0", redis.port);
    let a = instance(&url);
    let b = instance(&url);

    let session = a.initialize();
    // Instance B never saw this session, yet serves it without a new initialize.
    let r = add(&b, &session);
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["result"]["content"][0]["text"], "Result: 5", "{v}");
    // And A still does.
    assert_eq!(add(&a, &session).status(), 200);

    // Deleted through B: gone on A too.
    let del = b.delete_session(&session, &[]);
    assert_eq!(del.status(), 204);
    assert_eq!(add(&a, &session).status(), 404);
    assert_eq!(add(&b, &session).status(), 404);

    // Redis goes away: clear errors, no crash; it comes back: sessions work again.
    let live = a.initialize();
    drop(redis);
    let r = add(&b, &live);
    assert_eq!(r.status(), 503);
    let v: serde_json::Value = r.json().unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("session store"),
        "{v}"
    );
    let init = a.post(
        &rpc(0, "initialize", util::initialize_params("2025-06-18")),
        None,
    );
    assert_eq!(init.status(), 503);
    for s in [&a, &b] {
        let health = util::client()
            .get(format!("{}/health", s.base))
            .send()
            .unwrap();
        assert_eq!(health.status(), 200, "the instance died with Redis");
    }
}

#[test]
fn the_in_memory_default_needs_no_redis() {
    let s = util::start(&[plugins().calculator.to_str().unwrap()], &[]);
    let session = s.initialize();
    assert_eq!(add(&s, &session).status(), 200);
}
