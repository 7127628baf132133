//! Tools that bring the whole process down, one per way a plugin can die: a segfault, an
//! abort, a stack overflow, a failed allocation and an exit. Only safe to call on a plugin
//! served isolated (`fastmcp dev --isolate`): in-process they end the server, which is what
//! the isolation tests show does not happen to the other plugins.

use fastmcp_sdk::prelude::*;

/// Writes through a null pointer: the process dies of SIGSEGV
#[tool(blocking)]
pub fn crash_segv() -> String {
    let p = std::hint::black_box(std::ptr::null_mut::<u64>());
    // SAFETY: none: this tool exists to crash its process with SIGSEGV.
    unsafe { p.write_volatile(1) };
    "unreachable".into()
}

/// Calls `abort()`: the process dies of SIGABRT
#[tool(blocking)]
pub fn crash_abort() -> String {
    std::process::abort()
}

/// Recurses without bound until the thread's stack overflows (Rust's guard page turns that
/// into SIGSEGV, reported as a stack overflow and ended with SIGABRT)
#[tool(blocking)]
pub fn crash_stack() -> String {
    #[allow(
        unconditional_recursion,
        reason = "the point: recurse until the stack is gone"
    )]
    fn deeper(n: u64, trail: &mut [u8; 1024]) -> u64 {
        let mut mine = [0u8; 1024];
        mine[(n % 1024) as usize] = trail[(n % 1024) as usize].wrapping_add(1);
        let below = deeper(std::hint::black_box(n + 1), &mut mine);
        below + u64::from(mine[0])
    }
    let mut start = [0u8; 1024];
    format!("{}", deeper(0, &mut start))
}

/// Asks for more memory than any machine has (1 PiB); when the allocation fails, reports it
/// the way the standard library does for an out-of-memory (`handle_alloc_error`: abort)
#[tool(blocking)]
pub fn crash_oom() -> String {
    let layout = std::alloc::Layout::from_size_align(1 << 50, 8).expect("a valid layout");
    // SAFETY: the layout has a non-zero size; the pointer is only checked for null.
    let p = unsafe { std::alloc::alloc(layout) };
    if p.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    // Only with overcommit: touch it all until the kernel's OOM killer steps in.
    for i in (0..layout.size()).step_by(4096) {
        // SAFETY: `p` points to `layout.size()` bytes just allocated.
        unsafe { p.add(i).write_volatile(1) };
    }
    "unreachable".into()
}

/// Exits the process with status 3
#[tool(blocking)]
pub fn crash_exit() -> String {
    std::process::exit(3)
}
