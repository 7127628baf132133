//! Started calls ([`Pending`]): what `TestHost::start_tool` returns, and the completion
//! callback the plugin reports their end through, from any thread.
//!
//! Every started call has a slot on a process-wide board keyed by its id (unique in the
//! process, so per library too), which is what the `Completion`'s callback finds. A slot stays
//! until the call has completed and its `Pending` is gone, so a second completion of the same
//! call is counted ([`Pending::completions`]); one that comes later still is counted as a
//! stray ([`stray_completions`]).

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use fastmcp_abi::{Buf, Completion, HostContext, PluginTable};

use super::callbacks::{CallData, HostState, lock};
use super::{Reply, take};
use serde_json::Value;

/// The slots of calls started and not yet forgotten, by id.
static BOARD: Mutex<BTreeMap<u64, Arc<Slot>>> = Mutex::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Completions for an id no slot holds (any more).
static STRAY: AtomicUsize = AtomicUsize::new(0);

/// How long [`Pending::wait`] waits before it gives up.
const WAIT: Duration = Duration::from_secs(30);

/// One started call's host side.
struct Slot {
    table: &'static PluginTable,
    /// Boxed: `ctx.data` points to it.
    call: Box<CallData>,
    ctx: HostContext,
    reply: Mutex<Option<Reply>>,
    done: Condvar,
    completions: AtomicU32,
    /// The name of the thread that completed the call first.
    completed_on: Mutex<Option<String>>,
    /// Whether its `Pending` still exists.
    watched: AtomicBool,
}

// SAFETY: `ctx` holds only function pointers and a pointer to `call`, which the slot owns and
// which is `Send + Sync` (an `Arc` and atomics); the callbacks are thread-safe.
unsafe impl Send for Slot {}
// SAFETY: as above.
unsafe impl Sync for Slot {}

/// A call started with `TestHost::start_tool`: either answered at once, or pending until the
/// plugin completes it.
#[derive(Debug)]
pub struct Pending {
    id: u64,
    started: i32,
    /// The answer `start_tool` gave at once (any status but `STATUS_PENDING`).
    now: Option<Reply>,
    slot: Arc<Slot>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("completions", &self.completions.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

/// How many completions named a call no `Pending` waits for any more (in this process).
pub fn stray_completions() -> usize {
    STRAY.load(Ordering::SeqCst)
}

/// Starts a call through `table.start_tool`.
pub(super) fn start(
    table: &'static PluginTable,
    host: Arc<HostState>,
    call: &fastmcp_abi::ToolCall,
) -> Pending {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let data = Box::new(CallData::new(host));
    let slot = Arc::new(Slot {
        table,
        ctx: data.context(),
        call: data,
        reply: Mutex::new(None),
        done: Condvar::new(),
        completions: AtomicU32::new(0),
        completed_on: Mutex::new(None),
        watched: AtomicBool::new(true),
    });
    // On the board first: the completion may come before `start_tool` returns.
    lock(&BOARD).insert(id, slot.clone());
    let done = Completion {
        size: size_of::<Completion>() as u32,
        call_id: id,
        data: std::ptr::null(),
        complete,
    };
    let mut out = Buf::EMPTY;
    // SAFETY: `call` and its strings outlive this call; `slot.ctx` (whose `data` points into
    // the slot) stays valid as long as the slot is on the board, which is until the call
    // completed; `out` is a writable `Buf`.
    let started = unsafe { (table.start_tool)(&slot.ctx, call, &done, &mut out) };
    let now = (started != fastmcp_abi::STATUS_PENDING).then(|| {
        lock(&BOARD).remove(&id);
        Reply {
            status: started,
            body: take(table, out),
        }
    });
    Pending {
        id,
        started,
        now,
        slot,
    }
}

impl Pending {
    /// What `start_tool` returned: `STATUS_PENDING`, or the status of the answer it gave now.
    pub fn started(&self) -> i32 {
        self.started
    }

    /// The call's id (its `Completion::call_id`).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The call's answer: the one given at once, or the completion's.
    ///
    /// # Panics
    /// If the plugin does not complete the call within 30 s.
    pub fn wait(&self) -> Reply {
        self.wait_timeout(WAIT)
            .unwrap_or_else(|| panic!("call {} was not completed within {WAIT:?}", self.id))
    }

    /// The call's answer, or `None` if it was not completed within `timeout`.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Reply> {
        if let Some(now) = &self.now {
            return Some(now.clone());
        }
        let deadline = Instant::now() + timeout;
        let mut reply = lock(&self.slot.reply);
        loop {
            if let Some(reply) = &*reply {
                return Some(reply.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            reply = self
                .slot
                .done
                .wait_timeout(reply, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// Cancels the call as the host does when the client cancels or goes away: its
    /// `is_cancelled` turns true, then the plugin's `cancel_call` is called.
    pub fn cancel(&self) {
        self.slot.call.cancelled.store(true, Ordering::SeqCst);
        // SAFETY: `cancel_call` takes any id.
        unsafe { (self.slot.table.cancel_call)(self.id) };
    }

    /// How many times the plugin completed this call so far (exactly once is right; 0 for a
    /// call answered at once).
    pub fn completions(&self) -> u32 {
        self.slot.completions.load(Ordering::SeqCst)
    }

    /// The name of the thread that completed the call, once it has.
    pub fn completed_on(&self) -> Option<String> {
        lock(&self.slot.completed_on).clone()
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut board = lock(&BOARD);
        self.slot.watched.store(false, Ordering::SeqCst);
        if self.completions() > 0 {
            board.remove(&self.id);
        }
    }
}

/// The `Completion` callback: records the reply of the call's first completion.
unsafe extern "C" fn complete(_data: *const c_void, call_id: u64, status: i32, reply: Buf) {
    let slot = lock(&BOARD).get(&call_id).cloned();
    let Some(slot) = slot else {
        // Not ours to free: we no longer know the table. A test leak, counted.
        STRAY.fetch_add(1, Ordering::SeqCst);
        return;
    };
    let body = take_quietly(slot.table, reply);
    if slot.completions.fetch_add(1, Ordering::SeqCst) == 0 {
        let thread = std::thread::current().name().map(str::to_owned);
        *lock(&slot.completed_on) = thread;
        *lock(&slot.reply) = Some(Reply { status, body });
        slot.done.notify_all();
    }
    let mut board = lock(&BOARD);
    if !slot.watched.load(Ordering::SeqCst) {
        board.remove(&call_id);
    }
}

/// Parses and frees a completion's reply; never panics (this runs inside an `extern "C"`
/// callback): a reply that is not JSON becomes a string saying so.
fn take_quietly(table: &PluginTable, reply: Buf) -> Value {
    let body = if reply.ptr.is_null() || reply.len == 0 {
        Value::Null
    } else {
        // SAFETY: the plugin wrote `len` initialised bytes at `ptr`; we free them below.
        let bytes = unsafe { std::slice::from_raw_parts(reply.ptr, reply.len) };
        serde_json::from_slice(bytes).unwrap_or_else(|error| {
            Value::String(format!("the plugin completed with invalid JSON: {error}"))
        })
    };
    // SAFETY: `reply` came from this plugin and is freed once.
    unsafe { (table.free_buf)(reply) };
    body
}
