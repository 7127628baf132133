//! Helpers for `bench/run.sh` that need more precision or protocol than curl gives.
//!
//! ```text
//! benchctl port                        prints a free 127.0.0.1 port
//! benchctl wait-ready ADDR [TIMEOUT_MS] polls GET /ready until 200 (default 30000 ms); exit 1 if not
//! benchctl check ADDR [SESSION_ID]      one tools/call of calculate(add 2 3); exit 1 unless `Result: 5`
//! benchctl init ADDR                    initialize + notifications/initialized; prints the session id
//! benchctl sessions ADDR N              N initialize requests on one keep-alive connection
//! benchctl calls ADDR N [MODE]          N sequential tools/call of calculate on one keep-alive
//!                                       connection, each checked for `Result: 5` (callgrind.sh);
//!                                       MODE `2026-07-28` sends that revision's requests
//!                                       (its headers and `_meta`) instead of 2025-06-18 ones;
//!                                       MODE `progress` calls the test plugin's `progress_once`
//!                                       with a progressToken instead, each answer checked for the
//!                                       progress event and then the result (an SSE body);
//!                                       MODE `io` calls the test plugin's async `io_wait` with
//!                                       `{"ms":0}`, each answer checked for `waited 0 ms`
//! benchctl cold-start [--runs N] [--cpu C] [--timeout-ms T] -- CMD ARG...
//!     spawns CMD N times (each `{port}` in the arguments replaced by a fresh free port, the
//!     child pinned to CPU C), polls `GET /ready` on 127.0.0.1:PORT until it answers 200, kills
//!     the child; prints each time and `median_ms=...`.
//! ```
//! ADDR is `127.0.0.1:PORT`; the MCP endpoint is `/mcp`. Every loop and wait is bounded.

use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use fastmcp_bench::{Conn, Guard, free_port, ready_status};

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"calculate","arguments":{"operation":"add","a":2,"b":3}}}"#;
/// [`CALL`] as protocol 2026-07-28 sends it: the revision, capabilities and client in `_meta`.
const CALL_PER_REQUEST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"calculate","arguments":{"operation":"add","a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"fastmcp-bench","version":"0.1.0"}}}}"#;
/// The revision [`CALL_PER_REQUEST`] speaks.
const PER_REQUEST: &str = "2026-07-28";
/// The context-tool call: the test plugin's `progress_once`, asked for progress.
const CALL_PROGRESS: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"progress_once","arguments":{},"_meta":{"progressToken":1}}}"#;
/// The async-tool call: the test plugin's `io_wait` with no wait, so what is counted is the
/// cost of starting and completing an async call, not of a timer.
const CALL_IO: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"io_wait","arguments":{"ms":0}}}"#;

/// What `calls` sends.
#[derive(Clone, Copy, PartialEq)]
enum CallMode {
    Calculate,
    PerRequest,
    Progress,
    Io,
}
const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fastmcp-bench","version":"0.1.0"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
/// The most sessions `sessions` will create.
const MAX_SESSIONS: usize = 1_000_000;
/// The most requests `calls` will send.
const MAX_CALLS: usize = 10_000_000;

fn usage() -> ExitCode {
    eprintln!(
        "usage: benchctl port | wait-ready ADDR [TIMEOUT_MS] | check ADDR [SESSION] | init ADDR | sessions ADDR N | \
         calls ADDR N [2026-07-28|progress|io] | cold-start [--runs N] [--cpu C] [--timeout-ms T] -- CMD ARG..."
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("port") if args.len() == 1 => {
            println!("{}", free_port());
            Ok(())
        }
        Some("wait-ready") if (2..=3).contains(&args.len()) => {
            let ms = match args.get(2).map(|t| t.parse::<u64>()) {
                None => 30_000,
                Some(Ok(ms)) => ms,
                Some(Err(_)) => return usage(),
            };
            wait(&args[1], Duration::from_millis(ms))
        }
        Some("check") if args.len() >= 2 => check(&args[1], args.get(2).map(String::as_str)),
        Some("init") if args.len() == 2 => init(&args[1]).map(|id| println!("{id}")),
        Some("sessions") if args.len() == 3 => match args[2].parse::<usize>() {
            Ok(n) if n <= MAX_SESSIONS => sessions(&args[1], n),
            _ => return usage(),
        },
        Some("calls") if (3..=4).contains(&args.len()) => {
            let mode = match args.get(3).map(String::as_str) {
                None => CallMode::Calculate,
                Some(PER_REQUEST) => CallMode::PerRequest,
                Some("progress") => CallMode::Progress,
                Some("io") => CallMode::Io,
                Some(_) => return usage(),
            };
            match args[2].parse::<usize>() {
                Ok(n) if n <= MAX_CALLS => calls(&args[1], n, mode),
                _ => return usage(),
            }
        }
        Some("cold-start") => match cold_start(&args[1..]) {
            Some(r) => r,
            None => return usage(),
        },
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchctl: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, String>;

fn connect(addr: &str) -> Result<Conn> {
    Conn::connect(addr).map_err(|e| format!("connect {addr}: {e}"))
}

fn wait(addr: &str, timeout: Duration) -> Result<()> {
    if fastmcp_bench::wait_ready(addr, timeout) {
        Ok(())
    } else {
        Err(format!(
            "{addr}: /ready did not answer 200 within {timeout:?}"
        ))
    }
}

fn check(addr: &str, session: Option<&str>) -> Result<()> {
    let mut conn = connect(addr)?;
    let extra: Vec<(&str, &str)> = session.map(|s| ("Mcp-Session-Id", s)).into_iter().collect();
    let r = conn
        .post_with("/mcp", CALL, &extra)
        .map_err(|e| e.to_string())?;
    if r.status == 200 && r.body.contains("Result: 5") {
        println!("{}", r.body);
        Ok(())
    } else {
        Err(format!("unexpected answer: {} {}", r.status, r.body))
    }
}

/// One initialize on `conn`: the new session's id.
fn initialize(conn: &mut Conn) -> Result<String> {
    let r = conn
        .post_with("/mcp", INITIALIZE, &[])
        .map_err(|e| e.to_string())?;
    match r.header("mcp-session-id") {
        Some(id) if r.status == 200 && r.body.contains("\"result\"") => Ok(id.to_string()),
        _ => Err(format!(
            "initialize: no session: {} {:?} {}",
            r.status, r.headers, r.body
        )),
    }
}

fn init(addr: &str) -> Result<String> {
    let mut conn = connect(addr)?;
    let id = initialize(&mut conn)?;
    let r = conn
        .post_with("/mcp", INITIALIZED, &[("Mcp-Session-Id", &id)])
        .map_err(|e| e.to_string())?;
    if r.status != 202 {
        return Err(format!(
            "notifications/initialized: {} {}",
            r.status, r.body
        ));
    }
    Ok(id)
}

fn sessions(addr: &str, n: usize) -> Result<()> {
    let mut conn = connect(addr)?;
    let started = Instant::now();
    for i in 0..n {
        initialize(&mut conn).map_err(|e| format!("session {i}: {e}"))?;
    }
    println!(
        "created={n} elapsed_ms={:.1}",
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

/// Whether `body` is the answer `mode` expects: the sum, or the progress event and after it
/// the result.
fn expected(mode: CallMode, body: &str) -> bool {
    match mode {
        CallMode::Calculate | CallMode::PerRequest => body.contains("Result: 5"),
        CallMode::Progress => match body.find("notifications/progress") {
            Some(at) => body[at..].contains("\"result\""),
            None => false,
        },
        CallMode::Io => body.contains("waited 0 ms"),
    }
}

/// `n` calls of calculate (as protocol 2026-07-28 requests with `PerRequest`), of the test
/// plugin's `progress_once` with a progress token, or of its async `io_wait`.
fn calls(addr: &str, n: usize, mode: CallMode) -> Result<()> {
    let mut conn = connect(addr)?;
    let started = Instant::now();
    let headers = [("Mcp-Method", "tools/call"), ("Mcp-Name", "calculate")];
    for i in 0..n {
        let reply = match mode {
            CallMode::PerRequest => {
                conn.post_version("/mcp", CALL_PER_REQUEST, PER_REQUEST, &headers)
            }
            CallMode::Calculate => conn.post_with("/mcp", CALL, &[]),
            CallMode::Progress => conn.post_with("/mcp", CALL_PROGRESS, &[]),
            CallMode::Io => conn.post_with("/mcp", CALL_IO, &[]),
        };
        let (status, body) = reply
            .map(|r| (r.status, r.body))
            .map_err(|e| format!("call {i}: {e}"))?;
        if status != 200 || !expected(mode, &body) {
            return Err(format!("call {i}: unexpected answer: {status} {body}"));
        }
    }
    println!(
        "calls={n} elapsed_ms={:.1}",
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

/// Pins the child to `cpu` between fork and exec.
fn pin(cmd: &mut Command, cpu: usize) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before exec and only calls
    // `sched_setaffinity` (a plain system call, async-signal-safe) on a stack-local CPU set.
    unsafe {
        cmd.pre_exec(move || {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// SIGTERM, then (after at most 3 s) SIGKILL when the guard drops.
fn terminate(mut child: Guard) {
    if let Ok(pid) = i32::try_from(child.0.id()) {
        // SAFETY: `kill` on the pid of our own child, which has not been waited for yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.0.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn cold_start(args: &[String]) -> Option<Result<()>> {
    let mut runs = 5usize;
    let mut cpu: Option<usize> = None;
    let mut timeout = Duration::from_secs(30);
    let mut i = 0;
    while i < args.len() && args[i] != "--" {
        let value = args.get(i + 1)?;
        match args[i].as_str() {
            "--runs" => runs = value.parse().ok().filter(|n| (1..=100).contains(n))?,
            "--cpu" => cpu = Some(value.parse().ok()?),
            "--timeout-ms" => timeout = Duration::from_millis(value.parse().ok()?),
            _ => return None,
        }
        i += 2;
    }
    let command = args.get(i + 1..).filter(|c| !c.is_empty())?;
    Some(measure_cold_starts(command, runs, cpu, timeout))
}

fn measure_cold_starts(
    command: &[String],
    runs: usize,
    cpu: Option<usize>,
    timeout: Duration,
) -> Result<()> {
    let mut times = Vec::with_capacity(runs);
    for run in 1..=runs {
        let port = free_port().to_string();
        let addr = format!("127.0.0.1:{port}");
        let argv: Vec<String> = command.iter().map(|a| a.replace("{port}", &port)).collect();
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(c) = cpu {
            pin(&mut cmd, c);
        }
        let started = Instant::now();
        let child = Guard(cmd.spawn().map_err(|e| format!("spawn {argv:?}: {e}"))?);
        let deadline = started + timeout;
        let elapsed = loop {
            if ready_status(&addr) == Some(200) {
                break started.elapsed();
            }
            if Instant::now() > deadline {
                return Err(format!("run {run}: not ready after {timeout:?}: {argv:?}"));
            }
            std::thread::sleep(Duration::from_micros(100));
        };
        terminate(child);
        let ms = elapsed.as_secs_f64() * 1000.0;
        println!("run={run} ms={ms:.2}");
        times.push(ms);
        // Let the killed process's memory and sockets go before the next spawn.
        std::thread::sleep(Duration::from_millis(200));
    }
    times.sort_by(f64::total_cmp);
    println!("median_ms={:.2}", times[times.len() / 2]);
    Ok(())
}
