//! Isolated plugins (`--isolate`) against the real binary: the whole surface served from child
//! processes (sync, blocking and async tools, resources, templates, prompts, completions,
//! progress, logs, elicitation, caller identity, cancellation), hot reload under load with no
//! failed call and no leaked child, `fastmcp call --isolate`, and nothing isolated by default.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, Server, children_of, plugins, rpc, sse_messages, text_of, tool_call};

fn both_isolated(extra: &[&str]) -> Server {
    let p = plugins();
    let mut args = vec![p.conformance.to_str().unwrap(), "--isolate"];
    args.extend_from_slice(extra);
    // `--isolate` is bare before a flag, so it means true.
    util::serve(&p.test_plugin, &args)
}

#[test]
fn the_whole_surface_works_isolated() {
    let server = both_isolated(&[]);
    assert_eq!(
        children_of(server.child.id()).len(),
        2,
        "one child per plugin"
    );
    let loaded = server.log_events("plugin loaded");
    assert!(loaded.iter().all(|l| l["isolated"] == true), "{loaded:?}");
    let session = server.initialize();
    let s = Some(session.as_str());
    let call = |id, name, args| server.call(&tool_call(id, name, args), s);
    assert_eq!(text_of(&call(1, "echo", json!({"text": "a"}))), "a");
    assert_eq!(
        text_of(&call(2, "blocking_echo", json!({"text": "b"}))),
        "b"
    );
    assert_eq!(
        text_of(&call(3, "io_wait", json!({"ms": 5}))),
        "waited 5 ms"
    );
    let who = text_of(&call(4, "whoami", json!({})));
    assert!(who.contains(&format!("session={session}")), "{who}");
    let panic = call(5, "panic", json!({}));
    assert_eq!(panic["result"]["isError"], true, "{panic}");

    let r = server.call(
        &rpc(6, "resources/read", json!({"uri": "test://static-text"})),
        s,
    );
    assert!(r["result"]["contents"][0]["text"].is_string(), "{r}");
    let uri = json!({"uri": "test://template/123/data"});
    let r = server.call(&rpc(7, "resources/read", uri), s);
    let text = r["result"]["contents"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("123"), "{r}");
    let args =
        json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "x1", "arg2": "y2"}});
    let r = server.call(&rpc(8, "prompts/get", args), s);
    let messages = r["result"]["messages"].to_string();
    assert!(messages.contains("x1") && messages.contains("y2"), "{r}");
    let complete = json!({"ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
                          "argument": {"name": "arg1", "value": "par"}});
    let r = server.call(&rpc(9, "completion/complete", complete), s);
    assert_eq!(
        r["result"]["completion"]["values"],
        json!(["paris", "park", "party"]),
        "{r}"
    );

    // Progress and log notifications come back on the call's stream.
    let mut body = tool_call(10, "sleep", json!({"ms": 20, "steps": 2}));
    body["params"]["_meta"] = json!({"progressToken": "p"});
    let streamed = sse_messages(&server.post(&body, s).text().unwrap());
    let of = |method: &str| streamed.iter().filter(|m| m["method"] == method).count();
    assert_eq!(of("notifications/progress"), 2, "{streamed:?}");
    assert_eq!(of("notifications/message"), 2, "{streamed:?}");
    assert_eq!(
        text_of(streamed.last().unwrap()),
        "slept 20 ms",
        "{streamed:?}"
    );

    // Requests to the client from worker-thread tools and an async one: asked and answered.
    let elicited = json!({"action": "accept", "content": {"name": "Ada"}});
    let sampled = json!({"role": "assistant", "content": {"type": "text", "text": "Ada"},
                         "model": "m", "stopReason": "endTurn"});
    let rooted = json!({"roots": [{"uri": "file:///Ada", "name": "Ada"}]});
    let asks = [
        (
            11,
            "elicit",
            json!({"message": "Your name?"}),
            "elicitation/create",
            &elicited,
        ),
        (
            12,
            "async_elicit",
            json!({"message": "Your name?"}),
            "elicitation/create",
            &elicited,
        ),
        (
            13,
            "sample",
            json!({"prompt": "Your name?"}),
            "sampling/createMessage",
            &sampled,
        ),
        (14, "roots", json!({}), "roots/list", &rooted),
    ];
    for (id, tool, args, method, result) in asks {
        let stream = util::SseStream::new(server.post(&tool_call(id, tool, args), s));
        let ask = stream.next(Duration::from_secs(20)).expect("the request");
        assert_eq!(ask["method"], method, "{tool}: {ask}");
        let answer = json!({"jsonrpc": "2.0", "id": ask["id"], "result": result});
        assert_eq!(server.post(&answer, s).status(), 202);
        let rest = stream.rest(Duration::from_secs(20));
        let done = rest.last().expect("the result");
        assert_eq!(done["id"], id, "{rest:?}");
        assert!(text_of(done).contains("Ada"), "{tool}: {done}");
    }
}

#[test]
fn a_timed_out_call_is_cancelled_in_the_child_and_frees_its_worker() {
    // One worker in the child: had the timed-out `sleep` not been cancelled there, the next
    // blocking call would wait behind it and time out too.
    let server = both_isolated(&[
        "--stateless=true",
        "--tool-timeout=1s",
        "--max-blocking-calls=1",
    ]);
    let reply = server.call(
        &tool_call(1, "sleep", json!({"ms": 60_000, "steps": 600})),
        None,
    );
    assert!(text_of(&reply).contains("timed out after 1s"), "{reply}");
    let reply = server.call(
        &tool_call(2, "blocking_echo", json!({"text": "free"})),
        None,
    );
    assert_eq!(text_of(&reply), "free", "{reply}");
    let reply = server.call(&tool_call(3, "io_wait", json!({"ms": 60_000})), None);
    assert!(text_of(&reply).contains("timed out after 1s"), "{reply}");
    let reply = server.call(&tool_call(4, "io_wait", json!({"ms": 1})), None);
    assert_eq!(text_of(&reply), "waited 1 ms", "{reply}");
}

#[test]
fn two_hundred_reloads_under_load_fail_no_call_and_leak_no_child() {
    let p = plugins();
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("libserved.so");
    let original = std::fs::read(&p.test_plugin).unwrap();
    std::fs::write(&served, &original).unwrap();
    let args = [served.to_str().unwrap(), "--stateless=true", "--isolate"];
    let server = util::start(&args, &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let loaders: Vec<_> = (0..4)
        .map(|t| {
            let (url, stop, done) = (server.mcp(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                let client = util::client();
                let mut failed = Vec::new();
                for i in 0..100_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let body = tool_call(i, "sleep", json!({"ms": 15, "steps": 1}));
                    let reply: Result<Value, String> = util::try_post_mcp(&client, &url, &body)
                        .and_then(|r| r.text().map_err(|e| e.to_string()))
                        .map(|t| sse_messages(&t).pop().unwrap_or(Value::Null));
                    match reply {
                        Ok(v) if text_of(&v) == "slept 15 ms" => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        other => failed.push(format!("loader {t}: {other:?}")),
                    }
                }
                failed
            })
        })
        .collect();
    for n in 1..=200u32 {
        // Different bytes each time (a trailer past the ELF's contents), so each is a reload.
        let mut bytes = original.clone();
        bytes.extend_from_slice(&n.to_le_bytes());
        let tmp = dir.path().join("next.tmp");
        std::fs::write(&tmp, &bytes).unwrap();
        std::fs::rename(&tmp, &served).unwrap();
        let seen = server.wait_log("plugin reloaded", n as usize, Duration::from_secs(30));
        assert!(seen, "reload {n} not seen:\n{}", server.log_text());
    }
    stop.store(true, Ordering::Relaxed);
    let failed: Vec<String> = loaders
        .into_iter()
        .flat_map(|l| l.join().unwrap())
        .collect();
    assert!(
        failed.is_empty(),
        "{} failed calls: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(
        done.load(Ordering::Relaxed) > 200,
        "too few calls ran across the reloads"
    );
    let pid = server.child.id();
    let one_left = util::eventually(Duration::from_secs(30), || children_of(pid).len() == 1);
    assert!(one_left, "children left: {:?}", children_of(pid));
    assert!(server.log_events("isolated plugin crashed").is_empty());
}

#[test]
fn fastmcp_call_and_inspect_take_isolate() {
    let p = plugins();
    let plugin = p.test_plugin.to_str().unwrap();
    let long = Duration::from_secs(60);
    let crashed = util::run_bin(&["call", "--isolate", plugin, "crash_segv"], &[], long);
    assert_eq!(crashed.code, Some(1), "{crashed:?}");
    assert!(
        crashed
            .stdout
            .contains("plugin \"test-plugin\" crashed: SIGSEGV"),
        "{crashed:?}"
    );
    let args = ["call", plugin, "echo", "--args", r#"{"text":"hi"}"#];
    let ok = util::run_bin(&args, &[("FASTMCP_ISOLATE", "true")], long);
    assert_eq!(ok.code, Some(0), "{ok:?}");
    assert!(ok.stdout.contains("\"hi\""), "{ok:?}");
    let inspect = util::run_bin(&["inspect", "--isolate", "--json", plugin], &[], long);
    let manifest: Value = serde_json::from_str(&inspect.stdout).expect("JSON");
    assert_eq!(manifest["name"], "test-plugin", "{inspect:?}");
    let bad = util::run_bin(&["call", plugin, "echo"], &[("FASTMCP_ISOLATE", ",")], long);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("FASTMCP_ISOLATE"), "{bad:?}");
}

#[test]
fn without_isolate_plugins_stay_in_process_and_bad_names_are_refused() {
    let server = util::serve(&plugins().calculator, &[]);
    let loaded = server.log_events("plugin loaded");
    assert_eq!(loaded[0]["isolated"], false, "{loaded:?}");
    assert!(children_of(server.child.id()).is_empty());
    let calc = plugins().calculator.to_str().unwrap();
    let args = ["dev", calc, "--isolate=nosuch", "--port=0"];
    let refused = util::run_bin(&args, &[], Duration::from_secs(30));
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused.stderr.contains("\"nosuch\" is none of the plugins"),
        "{refused:?}"
    );
}

#[test]
fn a_host_that_dies_takes_its_children_with_it() {
    let mut server = util::serve(&plugins().calculator, &["--isolate"]);
    let kids = children_of(server.child.id());
    assert_eq!(kids.len(), 1, "{kids:?}");
    server.child.kill().unwrap();
    let _ = server.child.wait();
    // Gone, or a zombie nobody has reaped yet: either way it no longer runs.
    let gone = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(true)
    };
    assert!(
        util::eventually(Duration::from_secs(10), || gone(kids[0])),
        "child {} outlived its host",
        kids[0]
    );
}

#[test]
fn tasks_and_list_changed_work_isolated() {
    use crate::tasks::{HANDSHAKE, handshake, init_session_with, task_call, task_id};
    let p = plugins();
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("libserved.so");
    std::fs::copy(&p.calculator, &served).unwrap();
    let args = [
        p.test_plugin.to_str().unwrap(),
        served.to_str().unwrap(),
        "--isolate",
    ];
    let server = util::start(&args, &[]);
    let (session, _) = init_session_with(&server, json!({}));
    let s = Some(session.as_str());

    // A task of an async tool in the child: created, then its result.
    let params = task_call("long_job", json!({"ms": 30}), json!({"ttl": 60_000}));
    let created = handshake(&server, 1, "tools/call", params, s, &[]);
    let id = task_id(&created);
    let result = handshake(&server, 2, "tasks/result", json!({"taskId": id}), s, &[]);
    assert_eq!(text_of(&result), "finished after 30 ms", "{result}");

    // A reload of the other isolated plugin tells the session's stream its tools changed.
    let version = [("mcp-protocol-version", HANDSHAKE)];
    let stream = util::SseStream::new(server.get_stream(Some(&session), &version));
    std::thread::sleep(Duration::from_millis(100));
    util::replace_atomically(&p.conformance, &served);
    let mut heard = false;
    for _ in 0..50 {
        match stream.next(Duration::from_secs(10)) {
            Some(m) if m["method"] == "notifications/tools/list_changed" => {
                heard = true;
                break;
            }
            Some(_) => {}
            None => break,
        }
    }
    assert!(heard, "no list_changed; log:\n{}", server.log_text());
    // The reload is logged after the swap sent its notifications: the line may come later.
    assert!(server.wait_log("plugin reloaded", 1, Duration::from_secs(10)));
    let reloaded = server.log_events("plugin reloaded");
    assert_eq!(reloaded.len(), 1, "{reloaded:?}");
    assert!(util::eventually(Duration::from_secs(20), || {
        children_of(server.child.id()).len() == 2
    }));
}
