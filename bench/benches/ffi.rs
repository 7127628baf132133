//! The cost of one plugin call, without HTTP: the calculator's `calculate(add, 2, 3)`.
//!
//! - `ffi/library_call`: the raw boundary as the server crosses it for a `tools/call`
//!   (`plugin::library::Library::request` with a `ToolRequest`, i.e. `PluginTable::call_tool`):
//!   the tool's name, raw arguments and context in, the plugin runs the tool and serializes
//!   the result, the host copies the reply and hands the buffer back. No threads involved.
//! - `ffi/library_call_json`: the same call as the generic JSON request through
//!   `PluginTable::call`, which the plugin parses first (what a plugin built before ABI 1.1
//!   gets).
//! - `ffi/library_call_unknown_method`: the same crossing with the smallest request the plugin
//!   answers (an unknown method): close to the bare FFI + allocation cost.
//! - `ffi/library_call_and_parse`: `library_call` plus the host's check of the reply JSON
//!   (`Box<RawValue>`), i.e. everything `run_call` does on the worker thread.
//! - `ffi/generation_call_blocking`: `Generation::call_blocking`: the above on the generation's
//!   worker thread, with the hand-off there and back (what `fastmcp call` does).
//! - `ffi/generation_call_async`: `Generation::call` awaited on a current-thread tokio runtime:
//!   the server's path (pool submit, worker wake-up, oneshot back to the runtime).
//!
//! Run: `cargo bench -p fastmcp-bench --bench ffi` (builds the calculator if it is missing;
//! `FASTMCP_BENCH_PLUGIN=path/to/lib.so` to measure another library).

use std::ffi::c_void;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use criterion::{Criterion, criterion_group, criterion_main};
use fastmcp::plugin::library::{Library, host_context};
use fastmcp::plugin::request::{PluginRequest, ToolRequest};
use fastmcp::plugin::{CallOutcome, CallSink, Generation, NullSink};
use fastmcp_abi::{Buf, HostContext, STATUS_OK, STATUS_UNSUPPORTED};
use serde_json::value::RawValue;

/// The client's params of the benchmark's request.
const PARAMS: &str = r#"{"name":"calculate","arguments":{"operation":"add","a":2,"b":3}}"#;
/// The request context the server writes for it.
const CONTEXT: &str = r#"{"protocolVersion":"2025-06-18","requestId":1}"#;
/// The same call as the generic JSON request (`ToolRequest::envelope`).
const REQUEST: &[u8] = br#"{"method":"tools/call","params":{"name":"calculate","arguments":{"operation":"add","a":2,"b":3}},"context":{"protocolVersion":"2025-06-18","requestId":1}}"#;
const UNKNOWN: &[u8] = br#"{"method":"x"}"#;

fn plugin_path() -> PathBuf {
    if let Some(p) = std::env::var_os("FASTMCP_BENCH_PLUGIN") {
        return PathBuf::from(p);
    }
    let root = fastmcp_bench::root();
    let lib = root.join("target/release/libcalculator.so");
    if !lib.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        fastmcp_bench::run(Command::new(cargo).current_dir(&root).args([
            "build",
            "--release",
            "-p",
            "calculator",
        ]));
    }
    lib
}

unsafe extern "C" fn notify(_: *const c_void, _: *const u8, _: usize) -> i32 {
    STATUS_UNSUPPORTED
}

unsafe extern "C" fn is_cancelled(_: *const c_void) -> u8 {
    0
}

unsafe extern "C" fn request(_: *const c_void, _: *const u8, _: usize, out: *mut Buf) -> i32 {
    if !out.is_null() {
        // SAFETY: the plugin passes a writable Buf; an empty one needs no freeing.
        unsafe { out.write(Buf::EMPTY) };
    }
    STATUS_UNSUPPORTED
}

unsafe extern "C" fn free_buf(_: Buf) {}

/// The request as the server builds it for a `tools/call` (`NamedParams::tool_request`).
fn tool_request() -> PluginRequest {
    let params: &RawValue = serde_json::from_str(PARAMS).expect("valid params");
    #[derive(serde::Deserialize)]
    struct Args<'a> {
        #[serde(borrow)]
        arguments: &'a RawValue,
    }
    let args: Args<'_> = serde_json::from_str(PARAMS).expect("valid params");
    let request = ToolRequest::new(params, "calculate", Some(args.arguments.get()), |out| {
        out.extend_from_slice(CONTEXT.as_bytes())
    });
    PluginRequest::Tool(request)
}

fn ctx() -> HostContext {
    host_context(
        std::ptr::null(),
        notify,
        is_cancelled,
        request,
        free_buf,
        set_listed,
    )
}

unsafe extern "C" fn set_listed(_: *const c_void, _: u32, _: *const u8, _: usize, _: u8) -> i32 {
    fastmcp_abi::STATUS_UNSUPPORTED
}

fn raw_library(c: &mut Criterion) {
    let path = plugin_path();
    let staged = fastmcp::plugin::library::stage(&path).unwrap_or_else(|e| panic!("{e}"));
    let lib = Library::open(staged).unwrap_or_else(|e| panic!("{e}"));
    let ctx = ctx();
    assert!(lib.has_call_tool(), "the plugin predates ABI 1.1");
    let tool = tool_request();
    for first in [lib.request(&ctx, &tool), lib.call(&ctx, REQUEST)] {
        let text = String::from_utf8_lossy(&first.body).into_owned();
        assert!(
            first.status == STATUS_OK && text.contains("Result: 5"),
            "unexpected reply: {} {text}",
            first.status
        );
    }

    c.bench_function("ffi/library_call", |b| {
        b.iter(|| black_box(lib.request(&ctx, black_box(&tool))))
    });
    c.bench_function("ffi/library_call_json", |b| {
        b.iter(|| black_box(lib.call(&ctx, black_box(REQUEST))))
    });
    c.bench_function("ffi/library_call_unknown_method", |b| {
        b.iter(|| black_box(lib.call(&ctx, black_box(UNKNOWN))))
    });
    c.bench_function("ffi/library_call_and_parse", |b| {
        b.iter(|| {
            let reply = lib.request(&ctx, black_box(&tool));
            black_box(serde_json::from_slice::<Box<RawValue>>(&reply.body).ok())
        })
    });
    // Never `dlclose` a library whose code ran on this thread (thread-local destructors).
    std::mem::forget(lib);
}

fn check(outcome: &CallOutcome) {
    match outcome {
        CallOutcome::Ok(raw) if raw.contains("Result: 5") => {}
        other => panic!("unexpected outcome: {other:?}"),
    }
}

fn generation(c: &mut Criterion) {
    let path = plugin_path();
    let generation = Generation::load(&path, 1).unwrap_or_else(|e| panic!("{e}"));
    let sink: Arc<dyn CallSink> = Arc::new(NullSink);
    let cancel = Arc::new(AtomicBool::new(false));
    let once = generation
        .call_blocking(tool_request(), sink.clone(), cancel.clone())
        .expect("pool open");
    check(&once);

    c.bench_function("ffi/generation_call_blocking", |b| {
        b.iter(|| {
            black_box(
                generation
                    .call_blocking(tool_request(), sink.clone(), cancel.clone())
                    .ok(),
            )
        })
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    c.bench_function("ffi/generation_call_async", |b| {
        b.iter(|| {
            runtime.block_on(async {
                black_box(
                    generation
                        .call(tool_request(), sink.clone(), cancel.clone())
                        .await
                        .ok(),
                )
            })
        })
    });
}

criterion_group!(benches, raw_library, generation);
criterion_main!(benches);
