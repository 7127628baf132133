//! One call of an async tool: what its future owns ([`AsyncCall`]), what it returns
//! ([`AsyncOutcome`]), and the task that runs it on the plugin's runtime and reports its end
//! to the host exactly once (`CallTask`, `Completer`).
//!
//! The host's `start_tool` passes borrowed strings and a `Completion` valid only while it
//! runs, so `start_tool` copies them into an `AsyncCall` and builds the future there, unpolled.
//! The future owns the copy; the `Context` it builds borrows from it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use fastmcp_abi::{Buf, Completion, HostContext, STATUS_CANCELLED, STATUS_INPUT_REQUIRED};

use crate::dispatch::Response;
use crate::runtime::Shared;
use crate::shim::{drop_payload, panic_message, quietly};
use crate::{Context, ToolResult};

/// The future of one async tool call, as its handler builds it.
pub type ToolFuture = Pin<Box<dyn Future<Output = AsyncOutcome> + Send + 'static>>;

/// What serves an async tool: builds the future of one call from what the call owns.
/// `#[tool] async fn` writes it; see [`ToolDef::new_async`](crate::ToolDef::new_async).
pub type AsyncHandler = fn(AsyncCall) -> ToolFuture;

/// The owned inputs of one async tool call: the raw JSON of its arguments and of its request
/// context, and the host's callbacks. The call's future owns it and borrows its
/// [`Context`] from it.
#[derive(Debug)]
pub struct AsyncCall {
    host: *const HostContext,
    logger: &'static str,
    arguments: Option<String>,
    context: Option<Vec<u8>>,
}

// SAFETY: `host` is the only field that is not `Send`. The ABI makes the `HostContext` of a
// started call valid, with thread-safe callbacks, from any thread until the call's completion,
// and of a `call_tool` until it returns; `AsyncCall` is dropped before either (the task drops
// the future, which owns it, before it completes the call).
unsafe impl Send for AsyncCall {}

impl AsyncCall {
    /// Copies one call's inputs; `host` may be null (no host).
    ///
    /// # Safety
    /// A non-null `host` must stay valid, with working callbacks, until the future owning this
    /// call is dropped.
    pub(crate) unsafe fn new(
        host: *const HostContext,
        logger: &'static str,
        arguments: Option<&str>,
        context: Option<&[u8]>,
    ) -> Self {
        AsyncCall {
            host,
            logger,
            arguments: arguments.map(str::to_owned),
            context: context.map(<[u8]>::to_vec),
        }
    }

    /// The call's [`Context`], borrowed from the call.
    pub fn context(&self) -> Context<'_> {
        // SAFETY: by `new`'s contract the host outlives `self`, and so the context borrowed
        // from it.
        unsafe { Context::new(self.host, self.logger, self.context.as_deref()) }.in_runtime()
    }

    /// The raw JSON of the call's arguments (absent when the client sent none).
    pub fn arguments(&self) -> Option<&str> {
        self.arguments.as_deref()
    }
}

/// What an async tool's future returns: its result, and whether a request to the client
/// needed input first (then the result does not matter, as for a plain tool).
#[derive(Debug)]
pub struct AsyncOutcome {
    result: ToolResult,
    input_required: bool,
}

impl AsyncOutcome {
    /// The outcome of a call that ran with `ctx` and returned `result`.
    pub fn new(ctx: &Context<'_>, result: ToolResult) -> Self {
        AsyncOutcome {
            result,
            input_required: ctx.input_required(),
        }
    }

    /// The status and reply, as `call_tool` would give them.
    pub(crate) fn into_response(self) -> Response {
        if self.input_required {
            return Response {
                status: STATUS_INPUT_REQUIRED,
                body: Vec::new(),
            };
        }
        Response::json(&self.result)
    }
}

/// Runs the future of an `async fn` resource, template, prompt or completion to its end on the
/// calling thread (a host worker thread), on the plugin's runtime. A panic (no runtime) is
/// caught and reported like the function's own.
#[doc(hidden)]
pub fn block_on<F: Future>(ctx: &Context<'_>, future: F) -> F::Output {
    let Some(runtime) = ctx.runtime() else {
        panic!("an async function needs the plugin's runtime, which this call does not have");
    };
    match runtime.start() {
        Ok(handle) => handle.block_on(future),
        Err(reason) => panic!("{reason}"),
    }
}

/// The reply to a tool that panicked, worded as for a plain tool.
pub(crate) fn panicked(tool: &str, payload: Box<dyn std::any::Any + Send>) -> Response {
    let message = format!("tool \"{tool}\" panicked: {}", panic_message(&*payload));
    drop_payload(payload);
    Response::panic(message)
}

/// Reports a started call's end to the host exactly once: by [`Completer::complete`], or, if
/// it is dropped first (the call was cancelled, or dropped with the runtime at unload), with
/// `STATUS_CANCELLED`.
pub(crate) struct Completer(Option<Completion>);

// SAFETY: the ABI lets the plugin call `complete` from any thread; `data` is opaque host state
// that the host keeps valid until `unload` has returned, which is after every task is dropped.
unsafe impl Send for Completer {}

impl Completer {
    pub(crate) fn new(done: Completion) -> Self {
        Completer(Some(done))
    }

    /// Hands `response` to the host.
    pub(crate) fn complete(&mut self, response: Response) {
        if let Some(done) = self.0.take() {
            let reply = crate::shim::into_buf(response.body);
            // SAFETY: `done` is the host's completion of a call it left pending, called once
            // (it is taken out above); the host takes `reply` over.
            unsafe { (done.complete)(done.data, done.call_id, response.status, reply) };
        }
    }
}

impl Drop for Completer {
    fn drop(&mut self) {
        if let Some(done) = self.0.take() {
            // SAFETY: as in `complete`; the empty buffer needs no freeing.
            unsafe { (done.complete)(done.data, done.call_id, STATUS_CANCELLED, Buf::EMPTY) };
        }
    }
}

/// One started call, as the runtime runs it: polls the tool's future inside the panic guard,
/// then drops the future (and with it the call's `Context`) and completes the call.
pub(crate) struct CallTask {
    pub(crate) id: u64,
    tool: &'static str,
    /// `None` once the call has ended.
    future: Option<ToolFuture>,
    /// For forgetting the task's abort handle when it ends by itself.
    shared: Arc<Shared>,
    /// Dropped after the future (see `Drop`): a task dropped before it ended (aborted, or
    /// dropped with the runtime) drops the future, whose destructors may still use the
    /// context, before the completion tells the host the context is no longer needed.
    done: Completer,
}

impl CallTask {
    pub(crate) fn new(
        id: u64,
        tool: &'static str,
        future: ToolFuture,
        shared: Arc<Shared>,
        done: Completer,
    ) -> Self {
        CallTask {
            id,
            tool,
            future: Some(future),
            shared,
            done,
        }
    }

    /// Drops the future (quietly: its destructors may panic) and completes the call.
    fn finish(&mut self, response: Response) {
        let future = self.future.take();
        if let Err(payload) = quietly(move || drop(future)) {
            drop_payload(payload);
        }
        self.shared.forget(self.id);
        self.done.complete(response);
    }
}

impl Future for CallTask {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(future) = this.future.as_mut() else {
            return Poll::Ready(());
        };
        let response = match quietly(|| future.as_mut().poll(cx)) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(outcome)) => outcome.into_response(),
            Err(payload) => panicked(this.tool, payload),
        };
        this.finish(response);
        Poll::Ready(())
    }
}

impl Drop for CallTask {
    /// The future goes first; `done` then completes the call as cancelled, unless it ended.
    fn drop(&mut self) {
        let future = self.future.take();
        if let Err(payload) = quietly(move || drop(future)) {
            drop_payload(payload);
        }
    }
}
