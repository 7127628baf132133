//! The ceiling of the stateless `tools/call` benchmark: the least a Rust server on the same
//! HTTP stack can do for the same request. A minimal axum + serde_json server whose `POST /mcp`
//! parses the JSON-RPC body, computes the calculator's answer and returns the same response
//! shape as fastmcp (`{"jsonrpc":"2.0","id":..,"result":{"content":[{"type":"text",...}]}}`).
//! `GET /ready` answers 200 so cold start is measured the same way as for the other servers.
//!
//! No MCP machinery at all: no header checks, no sessions, no plugin, no logging. Same runtime
//! as fastmcp (tokio multi-thread with the default worker count, `axum::serve`).
//!
//! `ceiling PORT io` serves `tools/call io_wait {"ms": N}` instead (`bench/io.sh`): the handler
//! awaits `tokio::time::sleep` for N ms and answers `waited N ms`, the least a server on this
//! HTTP stack holds per in-flight call.
//!
//! Run: `ceiling PORT [io]` (listens on 127.0.0.1 only).

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow)]
    id: &'a RawValue,
    method: &'a str,
    params: Params<'a>,
}

#[derive(Deserialize)]
struct Params<'a> {
    name: &'a str,
    arguments: Arguments<'a>,
}

#[derive(Deserialize)]
struct Arguments<'a> {
    operation: &'a str,
    a: f64,
    b: f64,
}

#[derive(Serialize)]
struct Reply<'a> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    result: ToolResult,
}

#[derive(Serialize)]
struct ToolResult {
    content: [Text; 1],
}

#[derive(Serialize)]
struct Text {
    #[serde(rename = "type")]
    kind: &'static str,
    text: String,
}

fn error(id: Option<&RawValue>, code: i32, message: &str) -> Response {
    let id: Value = id
        .and_then(|i| serde_json::from_str(i.get()).ok())
        .unwrap_or(Value::Null);
    let body = serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The answer `{"jsonrpc":"2.0","id":..,"result":{"content":[{"type":"text","text":..}]}}`.
fn text_reply(id: &RawValue, text: String) -> Response {
    let response = Reply {
        jsonrpc: "2.0",
        id,
        result: ToolResult {
            content: [Text { kind: "text", text }],
        },
    };
    match serde_json::to_string(&response) {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => error(Some(id), -32603, &e.to_string()),
    }
}

async fn mcp(body: Bytes) -> Response {
    let req: Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(None, -32700, &format!("Parse error: {e}")),
    };
    if req.method != "tools/call" || req.params.name != "calculate" {
        return error(Some(req.id), -32601, "only tools/call of calculate");
    }
    let Arguments { operation, a, b } = req.params.arguments;
    let result = match operation {
        "add" => a + b,
        "subtract" => a - b,
        "multiply" => a * b,
        "divide" => a / b,
        _ => return error(Some(req.id), -32602, "unknown operation"),
    };
    text_reply(req.id, format!("Result: {result}"))
}

#[derive(Deserialize)]
struct WaitRequest<'a> {
    #[serde(borrow)]
    id: &'a RawValue,
    method: &'a str,
    params: WaitParams<'a>,
}

#[derive(Deserialize)]
struct WaitParams<'a> {
    name: &'a str,
    arguments: WaitArguments,
}

#[derive(Deserialize)]
struct WaitArguments {
    ms: u64,
}

/// The I/O-bound variant: `io_wait` sleeps on the runtime, holding no thread.
async fn io_wait(body: Bytes) -> Response {
    let req: WaitRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(None, -32700, &format!("Parse error: {e}")),
    };
    if req.method != "tools/call"
        || req.params.name != "io_wait"
        || req.params.arguments.ms > 60_000
    {
        return error(
            Some(req.id),
            -32601,
            "only tools/call of io_wait, ms <= 60000",
        );
    }
    let ms = req.params.arguments.ms;
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    text_reply(req.id, format!("waited {ms} ms"))
}

async fn ready() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ready"}"#,
    )
        .into_response()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let app = match std::env::args().nth(2).as_deref() {
        None => Router::new().route("/mcp", post(mcp)),
        Some("io") => Router::new().route("/mcp", post(io_wait)),
        Some(other) => {
            eprintln!("usage: ceiling PORT [io] (got {other:?})");
            std::process::exit(2);
        }
    };
    let app = app.route("/ready", get(ready));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}
