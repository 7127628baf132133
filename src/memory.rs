//! The process's malloc: one glibc arena.
//!
//! glibc gives a thread that finds the arenas it tried locked an arena of its own, up to eight
//! per core, and a freed block goes back to the arena it came from. A tool call's request is
//! allocated on an I/O thread and its reply on a plugin's runtime or worker thread, so under
//! load every arena keeps its own high-water mark of calls in flight. Measured with
//! `bench/io.sh` (`io_wait {ms: 50}`): 52 and 49 KiB of RSS per in-flight call at 256 and 1024
//! connections with glibc's default, 34 KiB at both with one arena, at the same throughput; the
//! pure path's CPU per request did not change (docs/performance.md). The per-thread caches
//! (tcache) still serve most small allocations without the arena's lock.
//!
//! An operator who sets `MALLOC_ARENA_MAX` keeps their setting.

/// Limits glibc's malloc to one arena unless `MALLOC_ARENA_MAX` is set. Call it first thing in
/// `main`, before any thread starts: arenas made before it stay. A no-op off glibc.
pub fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a tunable of the process's allocator; M_ARENA_MAX takes any
        // positive count and is read when a thread next needs an arena.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}
