//! `fetch`: the example of an async tool that does real network I/O. Its one tool GETs a URL
//! with reqwest on the plugin's async runtime (which the SDK owns: started when the plugin is
//! loaded, shut down with every thread joined before it is unloaded) and returns the status,
//! the content type and the body text. A call that waits for the network holds no thread, so
//! many calls wait at once.
//!
//! # Layout
//! - this file: the tool, its arguments and its result;
//! - `get`: one request: URL checks, the client and its deadline, errors worded for the model;
//! - `body`: the start of a body, up to a limit, as UTF-8 text.

use std::time::Duration;

use fastmcp_sdk::prelude::*;

mod body;
mod get;
#[cfg(test)]
mod tests;

/// `max_bytes` when the call gives none: 100 KiB.
const DEFAULT_MAX_BYTES: usize = 100 * 1024;
/// The most `max_bytes` may ask for (10 MiB): the body is held in memory, then sent as JSON.
const MAX_BYTES_CAP: usize = 10 * 1024 * 1024;
/// `timeout_ms` when the call gives none.
const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// The longest `timeout_ms`: the server's own `--tool-timeout` is 60 s by default.
const TIMEOUT_CAP_MS: u64 = 60_000;

#[derive(Debug, Deserialize, JsonSchema)]
struct FetchArgs {
    /// The URL to GET: http:// (https:// only when the plugin is built with its `rustls` feature)
    url: String,
    /// Keep at most this many bytes of the body (default 102400, at most 10485760); the rest is
    /// not downloaded
    max_bytes: Option<usize>,
    /// Give up when the whole answer has not arrived after this many milliseconds (default
    /// 10000, at most 60000)
    timeout_ms: Option<u64>,
}

impl FetchArgs {
    fn max_bytes(&self) -> usize {
        self.max_bytes
            .unwrap_or(DEFAULT_MAX_BYTES)
            .min(MAX_BYTES_CAP)
    }

    fn timeout(&self) -> Duration {
        let ms = self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        Duration::from_millis(ms.clamp(1, TIMEOUT_CAP_MS))
    }
}

/// What a GET answered.
#[derive(Debug, Serialize, JsonSchema)]
struct Fetched {
    /// The HTTP status code; 404 or 500 is an answer too, not an error
    status: u16,
    /// The status's reason phrase, such as "Not Found"
    reason: Option<String>,
    /// The URL that answered, after redirects
    url: String,
    /// The Content-Type header, if the answer had one
    content_type: Option<String>,
    /// The body as text, cut to max_bytes
    text: String,
    /// True when the body was longer than max_bytes, so `text` is only its start
    truncated: bool,
}

/// GETs a URL and returns the HTTP status, the content type and the body as text, cut to
/// max_bytes. Every status is an answer (a 404 too); a failure to get one (a bad URL, a refused
/// connection, a timeout) or a body that is not UTF-8 text is an error.
#[tool(read_only, idempotent, open_world)]
async fn fetch(ctx: &Context, args: FetchArgs) -> Result<Json<Fetched>, String> {
    // When the call is cancelled, times out or its client goes away, the host drops this
    // future, which drops the request and closes its connection. Racing `ctx.cancelled()` is
    // how a tool stops a step early and still answers something of its own: here, a clear text.
    tokio::select! {
        fetched = get::fetch(ctx, &args) => fetched.map(Json),
        () = ctx.cancelled() => Err(format!("GET {}: cancelled", args.url)),
    }
}

fastmcp_sdk::export_plugin! {
    name: "fetch",
    version: env!("CARGO_PKG_VERSION"),
    tools: [fetch],
}
