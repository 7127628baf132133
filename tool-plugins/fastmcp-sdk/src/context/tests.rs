//! The context against a fake host: which hosts count, and the request context.

use super::*;
use fastmcp_abi::Buf;
use std::ffi::c_void;

unsafe extern "C" fn notify_ok(_: *const c_void, _: *const u8, _: usize) -> i32 {
    STATUS_OK
}
unsafe extern "C" fn always_cancelled(_: *const c_void) -> u8 {
    1
}
unsafe extern "C" fn no_request(_: *const c_void, _: *const u8, _: usize, _: *mut Buf) -> i32 {
    STATUS_UNSUPPORTED
}
unsafe extern "C" fn free_nothing(_: Buf) {}
unsafe extern "C" fn listed_ok(_: *const c_void, _: u32, _: *const u8, _: usize, _: u8) -> i32 {
    STATUS_OK
}

fn host(size: usize) -> HostContext {
    HostContext {
        abi_version: fastmcp_abi::ABI_VERSION,
        size: size as u32,
        data: std::ptr::null(),
        notify: notify_ok,
        is_cancelled: always_cancelled,
        request: no_request,
        free_buf: free_nothing,
        set_listed: listed_ok,
    }
}

#[test]
fn a_complete_host_is_used() {
    let host = host(size_of::<HostContext>());
    // SAFETY: `host` lives until the end of the test.
    let ctx = unsafe { Context::new(&host, "p", None) };
    assert!(ctx.is_cancelled());
    assert!(ctx.notify("notifications/progress", json!({"progress": 1})));
    let error = ctx.list_roots().unwrap_err();
    assert_eq!(
        error,
        HostError::Unsupported("the host cannot send roots/list here".into())
    );
}

#[test]
fn an_older_host_without_set_listed_keeps_working() {
    // A host older than ABI 1.3: its context ends at `free_buf`.
    let old = host(HostContext::V1_SIZE);
    // SAFETY: `old` lives until the end of the test.
    let ctx = unsafe { Context::new(&old, "p", None) };
    assert!(ctx.notify("notifications/progress", json!({"progress": 1})));
    assert_eq!(
        ctx.set_tool_enabled("t", false),
        Err(HostError::Unsupported(
            "the host cannot change its tool list".into()
        ))
    );
    let new = host(size_of::<HostContext>());
    // SAFETY: `new` lives until the end of the test.
    let ctx = unsafe { Context::new(&new, "p", None) };
    assert_eq!(ctx.set_prompt_enabled("p", true), Ok(()));
    assert!(matches!(
        Context::detached().set_tool_enabled("t", true),
        Err(HostError::Unsupported(_))
    ));
}

#[test]
fn a_short_or_null_host_counts_as_none() {
    let short = host(HostContext::V1_SIZE - 8);
    // SAFETY: `short` lives until the end of the test.
    let ctx = unsafe { Context::new(&short, "p", None) };
    assert!(!ctx.is_cancelled());
    assert!(!ctx.notify("notifications/progress", json!({})));
    // SAFETY: null is always allowed.
    let ctx = unsafe { Context::new(std::ptr::null(), "p", None) };
    assert!(matches!(
        ctx.sample(json!({})),
        Err(HostError::Unsupported(_))
    ));
    assert!(!Context::detached().is_cancelled());
}

#[test]
fn reads_the_request_context_without_copying() {
    let json = r#"{"protocolVersion":"2025-06-18","sessionId":"s\u0031",
        "caller":{"id":"u","scopes":["read"]},"requestId":7}"#;
    let request: RequestContext<'_> = serde_json::from_str(json).unwrap();
    assert!(matches!(
        request.protocol_version,
        Some(Cow::Borrowed("2025-06-18"))
    ));
    assert_eq!(request.session_id.as_deref(), Some("s1"));
    // SAFETY: null is always allowed.
    let ctx = unsafe { Context::new(std::ptr::null(), "p", Some(json.as_bytes())) };
    assert_eq!(ctx.caller().unwrap().scopes, ["read"]);
    assert_eq!(ctx.session_id(), Some("s1"));
    assert_eq!(ctx.protocol_version(), "2025-06-18");
}

#[test]
fn log_levels_are_lowercase() {
    assert_eq!(
        serde_json::to_value(LogLevel::Emergency).unwrap(),
        "emergency"
    );
    assert!(LogLevel::Debug < LogLevel::Warning);
}

#[test]
fn a_context_may_cross_threads_and_awaits() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Context<'_>>();
    let host = host(size_of::<HostContext>());
    // SAFETY: `host` lives until the end of the test.
    let ctx = unsafe { Context::new(&host, "p", None) };
    let from_another_thread = std::thread::scope(|s| s.spawn(|| ctx.is_cancelled()).join());
    assert!(from_another_thread.unwrap());
}
