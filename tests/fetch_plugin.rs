//! The `fetch` example plugin (issue 12, point 7): an async tool doing real HTTP with reqwest,
//! served by the real binary and pointed at a small HTTP server on 127.0.0.1 inside the test.
//! Statuses and bodies arrive, failures are `isError` results that say what happened, and
//! slow fetches wait side by side instead of one after another.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{self, Server, text_of, tool_call};

/// How long the loopback server's `/slow` route waits before it answers.
const SLOW: Duration = Duration::from_millis(300);

/// The size of the loopback server's `/large` body: a few progress steps (64 KiB each).
const LARGE: usize = 200 * 1024;

/// Builds `tool-plugins/fetch` once per test run (dev profile) and returns its library.
fn fetch_plugin() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(util::root())
            .args(["build", "-p", "fetch"])
            .status()
            .expect("run cargo build -p fetch");
        assert!(status.success(), "building the fetch plugin failed");
        util::target_dir().join("debug").join("libfetch.so")
    })
}

/// A tiny HTTP/1.1 server on 127.0.0.1: one thread per connection, fixed routes, every
/// answer closes its connection. Stops accepting when dropped.
struct Loopback {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Loopback {
    fn start() -> Loopback {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the loopback server");
        let addr = listener.local_addr().expect("its address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(stream) = stream {
                    std::thread::spawn(move || answer(stream));
                }
            }
        });
        Loopback {
            addr,
            stop,
            accept: Some(accept),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees `stop`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Reads one request's head (bounded by a read timeout) and answers it by its path.
fn answer(stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = first.split_whitespace().nth(1).unwrap_or("/");
    let (status, content_type, body): (&str, &str, Vec<u8>) = match path {
        "/hello" => (
            "200 OK",
            "text/plain; charset=utf-8",
            b"hello from 127.0.0.1".to_vec(),
        ),
        "/slow" => {
            std::thread::sleep(SLOW);
            ("200 OK", "text/plain", b"worth the wait".to_vec())
        }
        "/digits" => ("200 OK", "text/plain", b"0123456789".repeat(100)),
        "/large" => ("200 OK", "text/plain", b"0123456789".repeat(LARGE / 10)),
        "/binary" => (
            "200 OK",
            "application/octet-stream",
            vec![0x89, b'P', 0xff, 0x00],
        ),
        _ => ("404 Not Found", "text/plain", b"no such page".to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    let mut stream = &stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// Serves the fetch plugin (stateless) next to a fresh loopback server.
fn setup() -> (Server, Loopback) {
    let server = util::serve(fetch_plugin(), &["--stateless"]);
    (server, Loopback::start())
}

/// Calls `fetch` with `arguments` and returns the JSON-RPC response.
fn fetch(server: &Server, arguments: Value) -> Value {
    server.call(&tool_call(1, "fetch", arguments), None)
}

/// The structured result of a successful fetch, failing the test on an error result.
fn fetched(response: &Value) -> &Value {
    assert!(
        response["result"]["isError"] != true,
        "fetch failed: {response}"
    );
    &response["result"]["structuredContent"]
}

/// The text of an error result, failing the test if the result is not an error.
fn error_text(response: &Value) -> String {
    assert_eq!(
        response["result"]["isError"], true,
        "expected an error result: {response}"
    );
    text_of(response)
}

#[test]
fn fetch_returns_the_status_content_type_and_body() {
    let (server, web) = setup();
    let tools = server.call(&util::rpc(1, "tools/list", json!({})), None);
    assert_eq!(tools["result"]["tools"][0]["name"], "fetch", "{tools}");

    let response = fetch(&server, json!({"url": web.url("/hello")}));
    let result = fetched(&response);
    assert_eq!(result["status"], 200, "{response}");
    assert_eq!(result["reason"], "OK");
    assert_eq!(result["content_type"], "text/plain; charset=utf-8");
    assert_eq!(result["text"], "hello from 127.0.0.1");
    assert_eq!(result["truncated"], false);
    assert_eq!(result["url"], web.url("/hello"));
    // Clients that read only text get the same JSON in the text block.
    let text: Value = serde_json::from_str(&text_of(&response)).expect("JSON text block");
    assert_eq!(&text, result);
}

#[test]
fn a_404_is_a_result_with_its_status() {
    let (server, web) = setup();
    let response = fetch(&server, json!({"url": web.url("/nowhere")}));
    let result = fetched(&response);
    assert_eq!(result["status"], 404, "{response}");
    assert_eq!(result["reason"], "Not Found");
    assert_eq!(result["text"], "no such page");
}

#[test]
fn a_refused_connection_is_an_error_result_that_says_so() {
    let (server, _web) = setup();
    let url = format!("http://127.0.0.1:{}/", util::free_port());
    let text = error_text(&fetch(&server, json!({"url": url})));
    assert!(
        text.contains(&format!("GET {url}: could not connect")),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
}

#[test]
fn bad_urls_timeouts_and_binary_bodies_are_error_results() {
    let (server, web) = setup();
    let text = error_text(&fetch(&server, json!({"url": "127.0.0.1/hello"})));
    assert!(text.contains("is not a valid URL"), "{text}");

    let slow = json!({"url": web.url("/slow"), "timeout_ms": 50});
    let text = error_text(&fetch(&server, slow));
    assert!(text.contains("timed out after 50 ms"), "{text}");

    let text = error_text(&fetch(&server, json!({"url": web.url("/binary")})));
    assert!(text.contains("not UTF-8 text"), "{text}");
    assert!(text.contains("application/octet-stream"), "{text}");
}

#[test]
fn max_bytes_cuts_the_text_and_says_so() {
    let (server, web) = setup();
    let response = fetch(&server, json!({"url": web.url("/digits"), "max_bytes": 25}));
    let result = fetched(&response);
    assert_eq!(result["text"], "0123456789012345678901234", "{response}");
    assert_eq!(result["truncated"], true);

    let response = fetch(
        &server,
        json!({"url": web.url("/digits"), "max_bytes": 1000}),
    );
    let result = fetched(&response);
    assert_eq!(
        result["text"].as_str().map(str::len),
        Some(1000),
        "{response}"
    );
    assert_eq!(result["truncated"], false);
}

#[test]
fn a_large_body_reports_progress_when_asked() {
    let (server, web) = setup();
    let body = util::rpc(
        1,
        "tools/call",
        json!({
            "name": "fetch",
            "arguments": {"url": web.url("/large"), "max_bytes": LARGE},
            "_meta": {"progressToken": "large"}
        }),
    );
    let response = server.post(&body, None);
    assert_eq!(util::content_type(&response), "text/event-stream");
    let messages = util::sse_messages(&response.text().expect("body"));
    let (last, notes) = messages.split_last().expect("SSE messages");
    assert_eq!(fetched(last)["text"].as_str().map(str::len), Some(LARGE));
    let progress: Vec<f64> = notes
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .inspect(|m| assert_eq!(m["params"]["progressToken"], "large", "{m}"))
        .inspect(|m| assert_eq!(m["params"]["total"].as_f64(), Some(LARGE as f64), "{m}"))
        .filter_map(|m| m["params"]["progress"].as_f64())
        .collect();
    assert!(progress.len() >= 2, "{notes:?}");
    assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
}

#[test]
fn twenty_slow_fetches_wait_concurrently() {
    const CALLS: u32 = 20;
    let (server, web) = setup();
    // The first fetch is not timed: it pays for whatever is set up on first use.
    fetched(&fetch(&server, json!({"url": web.url("/hello")})));

    let server = Arc::new(server);
    let started = Instant::now();
    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            let (server, url) = (server.clone(), web.url("/slow"));
            std::thread::spawn(move || fetch(&server, json!({"url": url})))
        })
        .collect();
    for call in calls {
        let response = call.join().expect("fetch thread");
        let result = fetched(&response);
        assert_eq!(result["status"], 200, "{response}");
        assert_eq!(result["text"], "worth the wait");
    }
    let took = started.elapsed();
    // One after another they would take 20 x 300 ms; waiting side by side, about 300 ms.
    assert!(
        took < SLOW * 10,
        "{CALLS} fetches of a {SLOW:?} route took {took:?}"
    );
}
