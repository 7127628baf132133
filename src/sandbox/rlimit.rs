//! The memory limit where no cgroup v2 is ours to use: `RLIMIT_AS`.
//!
//! It caps address space, not memory in use: thread stacks and allocator arenas count when
//! reserved, not when touched. So it is set no lower than what the process has mapped already,
//! and glibc's per-thread malloc arenas (64 MiB of address space each) are capped at two, or a
//! plugin with many threads would reach the limit without using the memory. An allocation past
//! the limit fails; in Rust that aborts the child with "memory allocation of N bytes failed",
//! which [`super::describe_exit`] reports as the memory limit.

use super::SandboxError;

/// Sets `RLIMIT_AS` (soft and hard) to `limit` bytes.
pub(super) fn limit_address_space(limit: u64) -> Result<(), SandboxError> {
    let in_use = vm_size().unwrap_or(0);
    if limit < in_use {
        return Err(SandboxError::MemoryTooLow { limit, in_use });
    }
    cap_malloc_arenas();
    let rlimit = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: `rlimit` is a valid, initialised struct that outlives the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_AS, &rlimit) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(SandboxError::Memory(format!("setrlimit(RLIMIT_AS): {e}")));
    }
    Ok(())
}

/// `VmSize` of this process in bytes, from `/proc/self/status`.
pub(super) fn vm_size() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(target_env = "gnu")]
fn cap_malloc_arenas() {
    // SAFETY: mallopt only adjusts glibc's allocator settings; M_ARENA_MAX takes a count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(target_env = "gnu"))]
fn cap_malloc_arenas() {}
