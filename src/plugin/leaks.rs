//! Retired plugin copies that stay mapped after their library was closed.
//!
//! Plugin code that runs on one of the server's I/O threads (an inline tool) can register a
//! thread-exit destructor there, for example by touching a `thread_local!` whose value has a
//! `Drop`. glibc then defers the unmap of the library until that thread exits, and the I/O
//! threads never do (`main` never tears the runtime down, on purpose: see
//! `Generation::call_inline`). So every reload of such a plugin would leak one mapped copy.
//! Nothing can take the destructor off those threads; the host notices and stops running the
//! plugin's code there:
//!
//! - The reaper closes a retired generation's library through [`Watch::close`], which then
//!   looks for the generation's private copy in `/proc/self/maps` (`library::stage` names it
//!   `$TMPDIR/fastmcp-<pid>/<stem>.<n>.so`; it was unlinked after `dlopen`, so its line ends
//!   in `(deleted)`).
//! - If it is still mapped, the plugin's slot (keyed by the file it loads) is marked: a warning
//!   is logged once, and the inline gates of the slot's serving generation are closed, as are
//!   those of every later generation when a catalog takes it ([`serving`]). Its tools then run
//!   on worker threads, which are joined before `dlclose`. The per-call path is unchanged: it
//!   already reads each tool's gate.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use super::inline::InlineGate;
use super::library::Library;

/// The leak state of one plugin slot.
struct SlotState {
    /// The library file the slot loads (`Generation::path`).
    path: PathBuf,
    /// A retired copy stayed mapped: inline calls are off for this slot from now on.
    leaks: bool,
    /// The inline gates of the generations a catalog served, so a leak found later can demote
    /// the tools still serving.
    live: Vec<Weak<InlineGate>>,
}

/// Every slot seen, in the order they were first served (a handful).
static SLOTS: Mutex<Vec<SlotState>> = Mutex::new(Vec::new());

fn slots() -> MutexGuard<'static, Vec<SlotState>> {
    SLOTS.lock().unwrap_or_else(|e| e.into_inner())
}

fn state<'a>(slots: &'a mut Vec<SlotState>, path: &Path) -> &'a mut SlotState {
    match slots.iter().position(|s| s.path == path) {
        Some(i) => &mut slots[i],
        None => {
            slots.push(SlotState {
                path: path.to_owned(),
                leaks: false,
                live: Vec::new(),
            });
            slots.last_mut().expect("just pushed")
        }
    }
}

/// Called for each generation a catalog is built with (not per call), with the file its slot
/// loads and its tools' inline gates: a slot that leaked before gets the tools sent to the
/// worker threads before any call reaches them.
pub(crate) fn serving<'a>(path: &Path, gates: impl IntoIterator<Item = &'a Arc<InlineGate>>) {
    let gates: Vec<&Arc<InlineGate>> = gates.into_iter().collect();
    let mut slots = slots();
    let state = state(&mut slots, path);
    state.live.retain(|g| g.strong_count() > 0);
    let known: HashSet<*const InlineGate> = state.live.iter().map(Weak::as_ptr).collect();
    for gate in &gates {
        if !known.contains(&Arc::as_ptr(gate)) {
            state.live.push(Arc::downgrade(gate));
        }
    }
    let leaks = state.leaks;
    drop(slots);
    if leaks {
        for gate in gates {
            gate.close();
        }
    }
}

/// Marks the slot loading `path` as leaking: warns the first time and demotes the inline tools
/// of its live generations (closes their gates).
fn leaked(path: &Path, plugin: &str, copy: &str) {
    let mut slots = slots();
    let state = state(&mut slots, path);
    let first = !state.leaks;
    state.leaks = true;
    let live: Vec<Arc<InlineGate>> = state.live.iter().filter_map(Weak::upgrade).collect();
    drop(slots);
    if first {
        tracing::warn!(
            plugin,
            path = %path.display(),
            copy = copy.trim_end_matches(DELETED),
            "a retired copy of this plugin stays mapped after it was closed: its inline tools \
             left thread-local destructors on the server's I/O threads, which never exit, so \
             each reload would leak a copy. Its inline tools now run on worker threads. Fix: \
             no thread_local! with Drop in inline tools, or mark them #[tool(blocking)]"
        );
    }
    for gate in &live {
        gate.close();
    }
}

/// What a retired generation's reaper needs to check its copy is gone once it is closed.
#[derive(Debug)]
pub(crate) struct Watch {
    plugin: String,
    /// The file the slot loads (the key of its state).
    path: PathBuf,
    /// An address inside the library's code: its `free_buf`.
    code: usize,
}

/// How `/proc/self/maps` marks a mapped file that was unlinked.
const DELETED: &str = " (deleted)";

/// How long the reaper waits for the generation's own reference to the library to go (the
/// generation drops it right after it started the reaper).
const LAST_REFERENCE: Duration = Duration::from_millis(200);

impl Watch {
    /// Taken in `Generation::drop`; cheap (no file is read here).
    pub(crate) fn new(plugin: &str, library: &Library) -> Watch {
        Watch {
            plugin: plugin.to_owned(),
            path: library.path().to_owned(),
            code: library.free_buf_fn() as usize,
        }
    }

    /// Closes `library` (`dlclose`, once no one else holds it) and checks that its private
    /// copy is no longer mapped. Blocking: for the reaper thread.
    pub(crate) fn close(self, library: Arc<Library>) {
        let copy = read_maps().and_then(|maps| copy_at(&maps, self.code).map(str::to_owned));
        if !close_last(library) {
            // Someone else closes it later; nothing to compare with.
            return;
        }
        let Some(copy) = copy else { return };
        if read_maps().is_some_and(|maps| is_mapped(&maps, &copy)) {
            leaked(&self.path, &self.plugin, &copy);
        }
    }
}

/// Drops the last reference to `library`, waiting (bounded) for the others to go; false if
/// they did not.
fn close_last(mut library: Arc<Library>) -> bool {
    let step = Duration::from_millis(1);
    for _ in 0..LAST_REFERENCE.as_millis() {
        match Arc::try_unwrap(library) {
            Ok(lib) => {
                drop(lib);
                return true;
            }
            Err(shared) => library = shared,
        }
        std::thread::sleep(step);
    }
    false
}

fn read_maps() -> Option<String> {
    std::fs::read_to_string("/proc/self/maps").ok()
}

/// The path column of a `/proc/self/maps` line, if the mapping has one.
fn mapped_path(line: &str) -> Option<&str> {
    // `start-end perms offset dev inode` are separated by single spaces, then padding.
    let mut fields = line.splitn(6, ' ');
    for _ in 0..5 {
        fields.next()?;
    }
    Some(fields.next()?.trim_start()).filter(|p| !p.is_empty())
}

/// The path of the staged plugin copy (`fastmcp-<pid>/<stem>.<n>.so`) mapped at `addr`. A
/// plugin whose `free_buf` points elsewhere (into libc, say) has none.
fn copy_at(maps: &str, addr: usize) -> Option<&str> {
    let line = maps.lines().find(|line| {
        let range = line.split(' ').next().and_then(|r| r.split_once('-'));
        let bounds = range.and_then(|(lo, hi)| {
            Some((
                usize::from_str_radix(lo, 16).ok()?,
                usize::from_str_radix(hi, 16).ok()?,
            ))
        });
        bounds.is_some_and(|(lo, hi)| (lo..hi).contains(&addr))
    })?;
    mapped_path(line).filter(|p| is_staged_copy(p))
}

/// Whether `path` (as maps shows it) names a copy `library::stage` made in this process.
fn is_staged_copy(path: &str) -> bool {
    let path = Path::new(path.trim_end_matches(DELETED));
    let dir = format!("fastmcp-{}", std::process::id());
    let in_dir = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| *d == *dir);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    in_dir && name.ends_with(".so")
}

/// Whether any mapping still shows `path`.
fn is_mapped(maps: &str, path: &str) -> bool {
    maps.lines().any(|line| mapped_path(line) == Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        let pid = std::process::id();
        format!(
            "5583c0a00000-5583c0a2c000 r--p 00000000 08:01 1311 /usr/bin/fastmcp\n\
             7f1a00000000-7f1a00021000 rw-p 00000000 00:00 0 \n\
             7f1a2b000000-7f1a2b010000 r--p 00000000 00:2a 77   /tmp/fastmcp-{pid}/libtest_plugin.7.so (deleted)\n\
             7f1a2b010000-7f1a2b080000 r-xp 00010000 00:2a 77   /tmp/fastmcp-{pid}/libtest_plugin.7.so (deleted)\n\
             7f1a2c000000-7f1a2c100000 r-xp 00000000 08:01 900  /usr/lib/x86_64-linux-gnu/libc.so.6\n\
             7ffd5e1f0000-7ffd5e211000 rw-p 00000000 00:00 0    [stack]\n"
        )
    }

    #[test]
    fn finds_the_staged_copy_that_holds_an_address() {
        let maps = sample();
        let pid = std::process::id();
        let copy = format!("/tmp/fastmcp-{pid}/libtest_plugin.7.so (deleted)");
        assert_eq!(copy_at(&maps, 0x7f1a_2b01_2345), Some(copy.as_str()));
        assert_eq!(copy_at(&maps, 0x7f1a_2b00_0000), Some(copy.as_str()));
        // Not a staged copy: the binary, libc, an anonymous mapping, nothing at all.
        assert_eq!(copy_at(&maps, 0x5583_c0a0_0010), None);
        assert_eq!(copy_at(&maps, 0x7f1a_2c00_0010), None);
        assert_eq!(copy_at(&maps, 0x7f1a_0000_0010), None);
        assert_eq!(copy_at(&maps, 0x7f1a_2b08_0000), None, "end is exclusive");
        assert_eq!(copy_at(&maps, 1), None);
    }

    #[test]
    fn a_copy_is_mapped_while_any_line_shows_its_exact_path() {
        let maps = sample();
        let pid = std::process::id();
        let copy = format!("/tmp/fastmcp-{pid}/libtest_plugin.7.so (deleted)");
        assert!(is_mapped(&maps, &copy));
        let other = format!("/tmp/fastmcp-{pid}/libtest_plugin.8.so (deleted)");
        assert!(!is_mapped(&maps, &other));
        let prefix = format!("/tmp/fastmcp-{pid}/libtest_plugin.7.so");
        assert!(!is_mapped(&maps, &prefix), "exact match only");
    }

    #[test]
    fn staged_copies_are_named_by_this_process() {
        let pid = std::process::id();
        assert!(is_staged_copy(&format!(
            "/tmp/fastmcp-{pid}/libx.0.so (deleted)"
        )));
        assert!(is_staged_copy(&format!(
            "/var/tmp/a b/fastmcp-{pid}/libx.12.so"
        )));
        assert!(!is_staged_copy(&format!(
            "/tmp/fastmcp-{}/libx.0.so",
            pid + 1
        )));
        assert!(!is_staged_copy("/usr/lib/libc.so.6"));
        assert!(!is_staged_copy(&format!("/tmp/fastmcp-{pid}")));
    }

    #[test]
    fn this_process_maps_its_own_code() {
        // The check reads the real file: a function of this binary lies inside a mapping
        // with a path, which is not a staged copy.
        let maps = read_maps().expect("/proc/self/maps");
        let addr = this_process_maps_its_own_code as fn() as usize;
        let line = maps
            .lines()
            .find(|l| {
                let (lo, hi) = l.split(' ').next().unwrap().split_once('-').unwrap();
                let lo = usize::from_str_radix(lo, 16).unwrap();
                let hi = usize::from_str_radix(hi, 16).unwrap();
                (lo..hi).contains(&addr)
            })
            .expect("a mapping holds our code");
        assert!(
            mapped_path(line).is_some_and(|p| p.starts_with('/')),
            "{line}"
        );
        assert_eq!(copy_at(&maps, addr), None);
    }
}
