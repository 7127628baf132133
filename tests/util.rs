//! Shared helpers of the integration tests: build the real plugins once, spawn the real
//! `fastmcp` binary on 127.0.0.1 with an OS-assigned port, and talk to it over HTTP.

#![allow(dead_code)]

mod crates;
pub mod metrics;
mod notifications;
mod proc;
pub mod redis;
mod run;
mod sse;

pub use crates::{crates_target_dir, hello_source, plugin_crate};
pub use notifications::{log_levels, with_method};
pub use proc::{children_of, mapped_copies, rss_kib};
pub use run::{Finished, exit_within, run_bin, run_command, run_command_with_input, table_row};
pub use sse::{SseStream, lines, sse_messages};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The plugin libraries built from `tool-plugins/` (dev profile).
#[derive(Debug)]
pub struct Plugins {
    /// `libcalculator.so`.
    pub calculator: PathBuf,
    /// `libtest_plugin.so`.
    pub test_plugin: PathBuf,
    /// `libconformance.so`: what the official conformance suite expects.
    pub conformance: PathBuf,
    /// `libprotected.so`: `protected_action`, only for authenticated callers.
    pub protected: PathBuf,
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory cargo uses for this build.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// POSTs a JSON-RPC message to the MCP endpoint at `url`, in the given session if any.
pub fn post_mcp(url: &str, body: &Value, session: Option<&str>) -> reqwest::blocking::Response {
    post_mcp_with(url, body, &[], session)
}

/// [`post_mcp`] with extra headers (credentials, `Host`, ...).
pub fn post_mcp_with(
    url: &str,
    body: &Value,
    headers: &[(&str, &str)],
    session: Option<&str>,
) -> reqwest::blocking::Response {
    let mut req = client()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    req.send().expect("POST /mcp")
}

/// A POST of `body` to the MCP endpoint at `url` through `client` (reused across calls) that
/// returns a failed send as an error instead of panicking: for loops that count failures.
pub fn try_post_mcp(
    client: &reqwest::blocking::Client,
    url: &str,
    body: &Value,
) -> Result<reqwest::blocking::Response, String> {
    client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string())
        .send()
        .map_err(|e| e.to_string())
}

/// The `initialize` params of a test client that speaks protocol `version` and declares no
/// capabilities.
pub fn initialize_params(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": {"name": "tests", "version": "1"}
    })
}

/// Initializes a stateful session at the MCP endpoint `url` and returns its id.
pub fn initialize_at(url: &str) -> String {
    initialize_at_with(url, &[])
}

/// [`initialize_at`] sending `headers` (credentials, ...) with `initialize` and
/// `notifications/initialized`.
pub fn initialize_at_with(url: &str, headers: &[(&str, &str)]) -> String {
    let init = rpc(0, "initialize", initialize_params("2025-06-18"));
    let r = post_mcp_with(url, &init, headers, None);
    assert_eq!(r.status(), 200, "initialize with {headers:?}");
    let id = r
        .headers()
        .get("mcp-session-id")
        .expect("session id")
        .to_str()
        .unwrap()
        .to_string();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post_mcp_with(url, &note, headers, Some(&id)).status(), 202);
    id
}

/// Builds the example plugins once per test run and returns their paths.
pub fn plugins() -> &'static Plugins {
    static PLUGINS: OnceLock<Plugins> = OnceLock::new();
    PLUGINS.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(root())
            .args([
                "build",
                "-p",
                "calculator",
                "-p",
                "test-plugin",
                "-p",
                "conformance",
                "-p",
                "protected",
            ])
            .status()
            .expect("run cargo build for the plugins");
        assert!(status.success(), "building the test plugins failed");
        let dir = target_dir().join("debug");
        Plugins {
            calculator: dir.join("libcalculator.so"),
            test_plugin: dir.join("libtest_plugin.so"),
            conformance: dir.join("libconformance.so"),
            protected: dir.join("libprotected.so"),
        }
    })
}

/// The `fastmcp` binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_fastmcp")
}

/// A running `fastmcp dev` process.
#[derive(Debug)]
pub struct Server {
    /// The child process.
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Everything the server wrote to stderr so far (JSON log lines).
    pub log: Arc<Mutex<Vec<String>>>,
}

/// Starts `fastmcp dev ARGS` with JSON logs on port 0 and waits until it listens. Does not
/// wait for `/ready` (see [`Server::wait_ready`]).
pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(bin());
    cmd.arg("dev").args(args);
    json_logs(&mut cmd);
    if !args.iter().any(|a| a.starts_with("--port"))
        && !env.iter().any(|(k, _)| k.ends_with("PORT"))
    {
        cmd.args(["--port", "0"]);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    spawn_command(cmd)
}

/// Gives `cmd` (a `fastmcp` server) JSON logs at info, the per-call lines at debug (tests count
/// them), and no inherited `PORT` or `RUST_LOG`.
pub fn json_logs(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("PORT")
        .env_remove("RUST_LOG")
        .env("FASTMCP_LOG_FORMAT", "json")
        .env("FASTMCP_LOG", "info,fastmcp::calls=debug")
}

/// Spawns `cmd` (any command line that runs a `fastmcp` server with JSON logs) with stderr
/// captured, and waits until it logs `listening`. Does not wait for `/ready`.
pub fn spawn_command(mut cmd: Command) -> Server {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn fastmcp");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let log = capture_log(&mut child, move |line| {
        if let Ok(v) = serde_json::from_str::<Value>(line)
            && v["message"] == "listening"
        {
            let _ = tx.send(v["addr"].as_str().unwrap_or_default().to_string());
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            let _ = child.kill();
            panic!(
                "fastmcp did not start listening; log:\n{}",
                log.lock().unwrap().join("\n")
            )
        });
    // A server bound to a wildcard address (0.0.0.0, as in the Docker image) is reached on
    // loopback.
    let addr = match addr.parse::<std::net::SocketAddr>() {
        Ok(a) if a.ip().is_unspecified() && a.is_ipv4() => format!("127.0.0.1:{}", a.port()),
        Ok(a) if a.ip().is_unspecified() => format!("[::1]:{}", a.port()),
        _ => addr,
    };
    Server {
        child,
        base: format!("http://{addr}"),
        log,
    }
}

/// Spawns `cmd` (a server in any log format) with stderr captured, and waits (bounded) until
/// 127.0.0.1:`port` accepts connections: for servers whose log is not fastmcp's JSON, or that
/// were told their port. Does not wait for `/ready`.
pub fn spawn_on_port(mut cmd: Command, port: u16) -> Server {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn the server");
    let log = capture_log(&mut child, |_| {});
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let listening = eventually(Duration::from_secs(60), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the server exited ({status}) before listening; log:\n{}",
                log.lock().unwrap().join("\n")
            );
        }
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    });
    let server = Server {
        child,
        base: format!("http://{addr}"),
        log,
    };
    assert!(
        listening,
        "nothing listens on {addr}; log:\n{}",
        server.log_text()
    );
    server
}

/// Collects the lines `child` writes to its (piped) stderr into a shared log, on a thread that
/// also shows each line to `seen` first.
fn capture_log(
    child: &mut Child,
    mut seen: impl FnMut(&str) + Send + 'static,
) -> Arc<Mutex<Vec<String>>> {
    let stderr = child.stderr.take().expect("stderr");
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            seen(&line);
            lines.lock().unwrap().push(line);
        }
    });
    log
}

/// Starts a server and waits for `/ready` to answer 200.
pub fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
    let s = spawn(args, env);
    s.wait_ready();
    s
}

/// A blocking HTTP client with a generous timeout.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A JSON-RPC request body.
pub fn rpc(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

impl Server {
    /// `http://127.0.0.1:PORT/mcp`.
    pub fn mcp(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// Polls `/ready` until 200 (panics after 60 s with the log).
    pub fn wait_ready(&self) {
        let c = client();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = c.get(format!("{}/ready", self.base)).send()
                && r.status() == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("server never became ready; log:\n{}", self.log_text());
    }

    /// A POST to the MCP endpoint with the headers a good client sends.
    pub fn post(&self, body: &Value, session: Option<&str>) -> reqwest::blocking::Response {
        post_mcp(&self.mcp(), body, session)
    }

    /// POSTs a request and returns the JSON-RPC response (the last SSE message if streamed).
    pub fn call(&self, body: &Value, session: Option<&str>) -> Value {
        rpc_response(self.post(body, session))
    }

    /// Initializes a stateful session and returns its id.
    pub fn initialize(&self) -> String {
        initialize_at(&self.mcp())
    }

    /// [`Server::initialize`] sending `headers` (credentials, ...) with both messages.
    pub fn initialize_with(&self, headers: &[(&str, &str)]) -> String {
        initialize_at_with(&self.mcp(), headers)
    }

    /// All log lines so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Log lines (parsed) whose message is `message`.
    pub fn log_events(&self, message: &str) -> Vec<Value> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["message"] == message)
            .collect()
    }

    /// Waits (bounded) until a log event with `message` has been seen `count` times.
    pub fn wait_log(&self, message: &str, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log_events(message).len() >= count {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        // SAFETY: sending a signal to our own child process by pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
    }

    /// Waits (bounded) for the process to exit and asserts its exit code is `code` (the log
    /// shows in the failure).
    pub fn assert_exits(&mut self, code: i32, timeout: Duration) {
        let got = self.wait_exit(timeout);
        assert_eq!(got, Some(code), "{}", self.log_text());
    }

    /// Waits (bounded) for the process to exit and returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        exit_within(&mut self.child, timeout).and_then(|s| s.code())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies `src` to `dst` through a temporary name and an atomic rename (as `mv` would).
pub fn replace_atomically(src: &Path, dst: &Path) {
    let tmp = dst.with_extension("tmp-copy");
    std::fs::copy(src, &tmp).expect("copy plugin");
    std::fs::rename(&tmp, dst).expect("rename plugin");
}

/// The text of the first content item of a `tools/call` response ("" when absent).
pub fn text_of(response: &Value) -> String {
    response["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A `tools/call` request body.
pub fn tool_call(id: i64, name: &str, arguments: Value) -> Value {
    rpc(
        id,
        "tools/call",
        json!({"name": name, "arguments": arguments}),
    )
}

/// Starts `fastmcp dev PLUGIN EXTRA... --watch=false` and waits for `/ready`. Tests that do not
/// exercise hot reload turn the watcher off, so a concurrent build in `target/` cannot reload
/// the plugin under them.
pub fn serve(plugin: &Path, extra: &[&str]) -> Server {
    let plugin = plugin.to_str().expect("UTF-8 path");
    let mut args = vec![plugin, "--watch=false"];
    args.extend_from_slice(extra);
    start(&args, &[])
}

/// A port that was free a moment ago (bound to 127.0.0.1:0 and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A POST to `url` with exactly these headers (none added), for the request-check tests.
pub fn post_raw(url: &str, body: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut req = client().post(url).body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().expect("POST")
}

/// The headers a well-behaved client sends with a POST.
pub const GOOD_HEADERS: [(&str, &str); 2] = [
    ("content-type", "application/json"),
    ("accept", "application/json, text/event-stream"),
];

/// The directory of the npm package `name` in `tests/clients/node_modules` (scripts/test.sh
/// installs them with `npm ci`). Without it, `None` and a notice, so the test can pass without
/// node; unless FASTMCP_TEST_REQUIRE_CLIENTS=1, which makes that a failure.
pub fn node_package(name: &str) -> Option<PathBuf> {
    let clients = root().join("tests/clients");
    let dir = clients.join("node_modules").join(name);
    if dir.is_dir() {
        return Some(dir);
    }
    let required = std::env::var("FASTMCP_TEST_REQUIRE_CLIENTS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "FASTMCP_TEST_REQUIRE_CLIENTS=1 but {} is missing; run `npm ci` in {}",
        dir.display(),
        clients.display()
    );
    eprintln!(
        "notice: skipping a test that needs {name}: run `npm ci` in {}",
        clients.display()
    );
    None
}

/// The `content-type` of a response ("" when absent).
pub fn content_type(r: &reqwest::blocking::Response) -> String {
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// GETs `/ready` and returns its status and JSON body.
pub fn ready(server: &Server) -> (u16, Value) {
    let r = client()
        .get(format!("{}/ready", server.base))
        .send()
        .expect("GET /ready");
    let status = r.status().as_u16();
    (status, r.json().expect("/ready is JSON"))
}

/// Polls until `check` holds (bounded); returns whether it did.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The JSON-RPC message of a response: the body, or the last SSE message when streamed.
pub fn rpc_response(r: reqwest::blocking::Response) -> Value {
    let ctype = content_type(&r);
    let text = r.text().expect("body");
    if ctype.starts_with("text/event-stream") {
        sse_messages(&text).pop().expect("an SSE message")
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

impl Server {
    /// [`Server::post`] with extra headers (credentials, `Host`, ...).
    pub fn post_with(
        &self,
        body: &Value,
        headers: &[(&str, &str)],
        session: Option<&str>,
    ) -> reqwest::blocking::Response {
        post_mcp_with(&self.mcp(), body, headers, session)
    }

    /// [`Server::call`] with extra headers; panics unless the status is 200.
    pub fn call_with(
        &self,
        body: &Value,
        headers: &[(&str, &str)],
        session: Option<&str>,
    ) -> Value {
        let r = self.post_with(body, headers, session);
        assert_eq!(r.status(), 200, "POST {body} with {headers:?}");
        rpc_response(r)
    }

    /// The names `tools/list` shows to a request with these headers.
    pub fn tool_names_with(&self, headers: &[(&str, &str)], session: Option<&str>) -> Vec<String> {
        let r = self.call_with(&rpc(1, "tools/list", json!({})), headers, session);
        r["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("no tools in {r}"))
            .iter()
            .map(|t| t["name"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Opens the `GET` stream of the MCP endpoint (the session's own stream, not tied to a
    /// request) in `session`, with these extra headers; the response is not checked.
    pub fn get_stream(
        &self,
        session: Option<&str>,
        headers: &[(&str, &str)],
    ) -> reqwest::blocking::Response {
        let mut req = client()
            .get(self.mcp())
            .header("accept", "text/event-stream");
        if let Some(s) = session {
            req = req.header("mcp-session-id", s);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().expect("GET /mcp")
    }

    /// DELETEs `session` (ends it) with these extra headers; the response is not checked.
    pub fn delete_session(
        &self,
        session: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::blocking::Response {
        let mut req = client()
            .delete(self.mcp())
            .header("mcp-session-id", session);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().expect("DELETE /mcp")
    }

    /// GETs `path` (e.g. `/metrics`) with these headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
        let mut req = client().get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().expect("GET")
    }
}

/// Whether each logged call of `tool` ran inline (the `inline` field of its `tool call` line,
/// at debug level under `fastmcp::calls`, which [`spawn`] turns on), oldest first.
pub fn inline_ways(server: &Server, tool: &str) -> Vec<bool> {
    server
        .log_events("tool call")
        .iter()
        .filter(|e| e["tool"] == tool)
        .map(|e| e["inline"].as_bool().expect("inline is logged"))
        .collect()
}

/// `fastmcp dev --transport stdio` on the test plugin, with stdin and stdout piped and its
/// logs (at warn) discarded.
pub fn stdio_test_plugin() -> std::process::Child {
    Command::new(bin())
        .args(["dev", "--transport", "stdio", "--watch=false"])
        .arg(&plugins().test_plugin)
        .env_remove("RUST_LOG")
        .env("FASTMCP_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn fastmcp")
}
