//! `start_tool` and `cancel_call` leave no thread-exit destructor on the calling thread (the
//! host's I/O threads outlive every plugin, and such a destructor would keep the library mapped
//! after it is unloaded; issue 12).
//!
//! This test binary defines `__cxa_thread_atexit_impl`, the glibc function through which
//! `thread_local!` values with a destructor (std's, tokio's) register it: the definition counts
//! the registrations of each thread and forwards to glibc's. A binary of its own, so the
//! interposer touches no other test.
#![cfg(all(feature = "async", target_os = "linux", target_env = "gnu"))]

use std::cell::Cell;
use std::ffi::{c_char, c_void};
use std::sync::OnceLock;

use fastmcp_sdk::abi::{STATUS_CANCELLED, STATUS_PENDING};
use fastmcp_sdk::prelude::*;
use fastmcp_sdk::testing::TestHost;

thread_local! {
    /// Thread-exit destructors this thread registered. `const` and without `Drop`, so it
    /// registers none itself.
    static REGISTERED: Cell<usize> = const { Cell::new(0) };
}

type AtExit = unsafe extern "C" fn(unsafe extern "C" fn(*mut u8), *mut u8, *mut u8) -> i32;

unsafe extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// Counts, then registers the destructor with glibc.
///
/// # Safety
/// As glibc's `__cxa_thread_atexit_impl`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __cxa_thread_atexit_impl(
    dtor: unsafe extern "C" fn(*mut u8),
    obj: *mut u8,
    dso: *mut u8,
) -> i32 {
    REGISTERED.with(|count| count.set(count.get() + 1));
    static REAL: OnceLock<usize> = OnceLock::new();
    let real = *REAL.get_or_init(|| {
        // `RTLD_NEXT`: the next definition after this executable's, glibc's.
        let next = -1isize as *mut c_void;
        // SAFETY: a NUL-terminated symbol name.
        unsafe { dlsym(next, c"__cxa_thread_atexit_impl".as_ptr()) as usize }
    });
    assert_ne!(real, 0, "glibc has no __cxa_thread_atexit_impl");
    // SAFETY: `real` is glibc's function of this very type.
    let real: AtExit = unsafe { std::mem::transmute::<usize, AtExit>(real) };
    // SAFETY: the caller's arguments, passed on.
    unsafe { real(dtor, obj, dso) }
}

fn registered() -> usize {
    REGISTERED.with(Cell::get)
}

/// Waits a little
#[tool]
async fn nap() -> &'static str {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    "napped"
}

/// Never ends by itself
#[tool]
async fn forever() -> String {
    std::future::pending::<()>().await;
    unreachable!()
}

fastmcp_sdk::export_plugin! { name: "tls-test", version: "1.0.0", tools: [nap, forever] }

#[test]
fn start_tool_and_cancel_call_register_no_thread_exit_destructor() {
    let host = TestHost::new(fastmcp_plugin_entry);
    host.manifest();
    // The counter works: running an async tool on the calling thread (`call_tool`) enters the
    // runtime there, which registers tokio's destructors on that thread.
    let blocking = std::thread::scope(|s| {
        s.spawn(|| {
            let before = registered();
            assert_eq!(host.call_tool("nap", json!({})).text(), "napped");
            registered() - before
        })
        .join()
        .unwrap()
    });
    assert!(
        blocking > 0,
        "call_tool should have registered tokio's destructors"
    );
    // `start_tool` and `cancel_call`, as an I/O thread calls them: none, including the first
    // time (the panic hook, the queue) and after the calls ended.
    for round in 0..3 {
        let (added, calls) = std::thread::scope(|s| {
            s.spawn(|| {
                let before = registered();
                let done = host.start_tool("nap", json!({}));
                let cancelled = host.start_tool("forever", json!({}));
                cancelled.cancel();
                host.cancel_call(u64::MAX);
                (registered() - before, (done, cancelled))
            })
            .join()
            .unwrap()
        });
        assert_eq!(
            added, 0,
            "round {round}: start_tool left a thread-exit destructor"
        );
        let (done, cancelled) = calls;
        assert_eq!(done.started(), STATUS_PENDING);
        assert_eq!(done.wait().text(), "napped");
        assert_eq!(cancelled.wait().status, STATUS_CANCELLED);
    }
}
