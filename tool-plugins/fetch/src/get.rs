//! One GET: checks the URL, sends the request with a client of its own and a deadline, reads
//! the answer, and words every failure for the model that reads the tool's error text.

use std::time::Duration;

use fastmcp_sdk::Context;
use reqwest::Url;
use reqwest::header::CONTENT_TYPE;

use crate::body::Limited;
use crate::{FetchArgs, Fetched};

/// Progress is reported at most once per this many bytes of body, not once per network chunk
/// (a few KiB): a client asking for progress on a 10 MiB body wants tens of notifications, not
/// thousands.
const PROGRESS_STEP: usize = 64 * 1024;

/// GETs `args.url`; `Err` is the text of the tool's error result.
pub(crate) async fn fetch(ctx: &Context<'_>, args: &FetchArgs) -> Result<Fetched, String> {
    let url = check_url(&args.url)?;
    let timeout = args.timeout();
    let failed = |error: reqwest::Error| describe(&url, timeout, &error);
    let mut response = client(timeout)?
        .get(url.clone())
        .send()
        .await
        .map_err(failed)?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let limit = args.max_bytes();
    // For progress: the size the client will receive, if the server said it.
    let total = response
        .content_length()
        .map(|n| n.min(limit as u64) as f64);
    let mut body = Limited::new(limit);
    let mut reported = 0;
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if !body.push(&chunk) {
            break; // the rest is never downloaded: dropping `response` closes the connection
        }
        if body.len() - reported >= PROGRESS_STEP {
            reported = body.len();
            ctx.progress(reported as f64, total, None);
        }
    }
    let (text, truncated) = body.into_text().map_err(|not_text| {
        let content_type = content_type.as_deref().unwrap_or("none");
        format!("GET {url}: {not_text} (content-type: {content_type})")
    })?;
    Ok(Fetched {
        status: status.as_u16(),
        reason: status.canonical_reason().map(str::to_owned),
        url: response.url().to_string(),
        content_type,
        text,
        truncated,
    })
}

/// The URL, if it parses and has a scheme this build can fetch.
fn check_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|error| format!("\"{raw}\" is not a valid URL: {error}"))?;
    match url.scheme() {
        "http" => Ok(url),
        "https" if cfg!(feature = "rustls") => Ok(url),
        "https" => Err(format!(
            "{raw}: this build of the fetch plugin has no TLS, so it fetches http:// URLs only \
             (build it with its `rustls` feature for https://)"
        )),
        other => Err(format!(
            "{raw}: only http:// and https:// URLs can be fetched, not {other}:"
        )),
    }
}

/// A client for one call. Not kept in a static: statics belong to one copy of the plugin and
/// are never dropped, so each reload would leave a client (and its connection pool) behind.
/// Without TLS, building one costs microseconds.
fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("fastmcp-fetch/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| format!("could not set up the HTTP client: {error}"))
}

/// The error text for a failed GET: what went wrong in words, then the deepest cause, which is
/// the most specific ("Connection refused (os error 111)").
fn describe(url: &Url, timeout: Duration, error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        format!("timed out after {} ms", timeout.as_millis())
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else if error.is_redirect() {
        "the redirects went wrong".to_owned()
    } else if error.is_body() || error.is_decode() {
        "the connection failed while the body was read".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    format!("GET {url}: {what}: {cause}")
}
