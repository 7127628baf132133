//! `fastmcp::run(config, listener, shutdown)` driven in-process, as mini-redis's
//! `tests/server.rs` does: the test owns the listener and the shutdown future, so what it sees
//! is the library's own result, not an exit code read back from a child process.

use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use clap::Parser;
use fastmcp::cli::{Cli, Command};
use fastmcp::{Config, server::ServerError};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::util::{self, client, rpc_response, text_of, tool_call};

/// A server running `fastmcp::run` on a runtime of its own thread.
struct InProcess {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: Option<JoinHandle<Result<(), ServerError>>>,
}

impl InProcess {
    /// Resolves `fastmcp dev ARGS` with an empty environment and serves it on 127.0.0.1:0.
    fn start(args: &[&str]) -> InProcess {
        let config = config(args).expect("a valid configuration");
        let (stop, stopped) = oneshot::channel::<()>();
        let (bound, addr) = std::sync::mpsc::channel();
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime");
            let result = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                bound.send(listener.local_addr()?).expect("the test waits");
                fastmcp::run(config, listener, async {
                    let _ = stopped.await;
                })
                .await
            });
            // As `main` does: inline calls ran plugin code on these threads, so they must not
            // exit while a retired plugin could still be unloaded (docs/architecture.md).
            std::mem::forget(runtime);
            result
        });
        let addr = addr
            .recv_timeout(Duration::from_secs(30))
            .expect("the server binds its listener");
        let server = InProcess {
            addr,
            stop: Some(stop),
            done: Some(done),
        };
        // The listener is bound before `run` has loaded the plugins; until then `/mcp` is 503.
        let ready = util::eventually(Duration::from_secs(60), || {
            client()
                .get(server.url("/ready"))
                .send()
                .is_ok_and(|r| r.status() == 200)
        });
        assert!(ready, "the server never became ready");
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn post(&self, body: &Value, session: Option<&str>) -> reqwest::blocking::Response {
        util::post_mcp(&self.url("/mcp"), body, session)
    }

    /// Triggers the shutdown future and returns what `run` returned.
    fn shut_down(mut self) -> Result<(), ServerError> {
        let _ = self.stop.take().expect("not stopped yet").send(());
        let done = self.done.take().expect("not joined yet");
        util::eventually(Duration::from_secs(30), || done.is_finished());
        assert!(done.is_finished(), "run() did not return after shutdown");
        done.join().expect("the server thread")
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn config(args: &[&str]) -> Result<Config, fastmcp::config::ConfigError> {
    let cli = Cli::try_parse_from(["fastmcp", "dev"].iter().chain(args)).expect("valid flags");
    let Command::Dev(dev) = cli.command else {
        panic!("`fastmcp dev` parses as the dev command");
    };
    Config::resolve(dev, Vec::new())
}

fn calculator() -> String {
    util::plugins().calculator.display().to_string()
}

#[test]
fn stateless_call_then_shutdown_returns_ok() {
    let server = InProcess::start(&[&calculator(), "--stateless", "true", "--watch", "false"]);
    let ready: Value = client()
        .get(server.url("/ready"))
        .send()
        .expect("GET /ready")
        .json()
        .expect("JSON");
    assert_eq!(
        ready,
        json!({"mode": "stateless", "ready": 1, "status": "ready", "total": 1})
    );

    let call = tool_call(1, "calculate", json!({"operation": "add", "a": 2, "b": 3}));
    let answer = rpc_response(server.post(&call, None));
    assert_eq!(text_of(&answer), "Result: 5", "{answer}");

    server.shut_down().expect("a clean shutdown returns Ok");
}

#[test]
fn stateful_session_lives_until_deleted() {
    let server = InProcess::start(&[&calculator(), "--watch", "false"]);
    let session = util::initialize_at(&server.url("/mcp"));

    let call = tool_call(
        2,
        "calculate",
        json!({"operation": "multiply", "a": 6, "b": 7}),
    );
    let answer = rpc_response(server.post(&call, Some(&session)));
    assert_eq!(text_of(&answer), "Result: 42", "{answer}");

    let deleted = client()
        .delete(server.url("/mcp"))
        .header("Mcp-Session-Id", &session)
        .send()
        .expect("DELETE /mcp");
    assert_eq!(deleted.status(), 204);
    let gone = server.post(&call, Some(&session));
    assert_eq!(gone.status(), 404, "a deleted session is gone");

    server.shut_down().expect("a clean shutdown returns Ok");
}

#[test]
fn a_plugin_that_cannot_load_is_the_error_run_returns() {
    let missing = util::target_dir().join("no-such-plugin.so");
    let config = config(&[missing.to_str().expect("UTF-8 path"), "--watch", "false"])
        .expect("the path is checked at load, not at parse");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        fastmcp::run(config, listener, std::future::pending()).await
    });
    match result {
        Err(ServerError::Plugin(e)) => {
            let message = e.to_string();
            assert!(message.contains("no-such-plugin.so"), "{message}");
        }
        other => panic!("expected a plugin error, got {other:?}"),
    }
}
