//! Probes of what the plugin's process may do, for the sandbox tests of isolated plugins: read
//! a file, connect over TCP, allocate memory, burn CPU. Each reports the OS error it met, so a
//! test can tell "denied" from "broken". All are `blocking`: none may hold an I/O thread.

use std::io::Write;
use std::time::{Duration, Instant};

use fastmcp_sdk::prelude::*;

#[derive(Deserialize, JsonSchema)]
pub(crate) struct PathArgs {
    /// The file to read
    path: String,
}

/// Returns the file's contents, or an error with the OS error
#[tool(blocking)]
pub(crate) fn read_file(args: PathArgs) -> Result<String, ToolError> {
    std::fs::read_to_string(&args.path)
        .map_err(|e| ToolError::new(format!("cannot read {}: {e}", args.path)))
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct AddrArgs {
    /// host:port to connect to
    addr: String,
}

/// Opens a TCP connection to `addr`, writes a line and returns "connected", or an error with
/// the OS error
#[tool(blocking)]
pub(crate) fn connect_tcp(args: AddrArgs) -> Result<String, ToolError> {
    let fail = |e: std::io::Error| ToolError::new(format!("cannot connect to {}: {e}", args.addr));
    let addr = args
        .addr
        .parse()
        .map_err(|e| ToolError::new(format!("not a socket address: {e}")))?;
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(fail)?;
    stream.write_all(b"hello\n").map_err(fail)?;
    Ok("connected".into())
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct MibArgs {
    /// How many MiB to allocate and touch
    mib: usize,
}

/// Allocates `mib` MiB and writes to every page; an allocation the process may not make
/// aborts it, as in any Rust program
#[tool(blocking)]
pub(crate) fn alloc_mib(args: MibArgs) -> String {
    let mut block = vec![0u8; args.mib << 20];
    for page in block.chunks_mut(4096) {
        page[0] = 1;
    }
    let touched = block.iter().step_by(4096).filter(|&&b| b == 1).count();
    format!("allocated {} MiB ({touched} pages)", args.mib)
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct SpinCpuArgs {
    /// How long to busy-loop, in milliseconds
    ms: u64,
}

/// Busy-loops for `ms` milliseconds (wall time) and returns
#[tool(blocking)]
pub(crate) fn spin_cpu(args: SpinCpuArgs) -> String {
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(args.ms) {
        std::hint::spin_loop();
    }
    format!("spun {} ms", args.ms)
}
