//! Async tools (`#[tool] async fn`): started without waiting (`start_tool`, ABI 1.2), or run
//! to their end on the calling thread for a host that calls them through `call_tool`.

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::task::Poll;

use fastmcp_abi::{Completion, HostContext, STATUS_CANCELLED};

use super::{Registry, Response, Run};
use crate::async_call::{AsyncCall, AsyncHandler, panicked};
use crate::{Context, ToolResult};

impl Registry {
    /// Starts the async runtime if the plugin has async tools. Called when the host reads the
    /// manifest, on one of its worker threads (see `runtime`).
    pub(crate) fn start_runtime(&self) {
        if self.plugin.tools.iter().any(|tool| tool.is_async()) {
            // A failure is kept and becomes the answer to each async call.
            let _ = self.runtime.start();
        }
    }

    /// Asks the runtime to drop the started call `id` (`PluginTable::cancel_call`).
    pub(crate) fn cancel(&self, id: u64) {
        self.runtime.cancel(id);
    }

    /// Starts a `tools/call` (`PluginTable::start_tool`). `None`: the call of an async tool
    /// is queued for the runtime and `done` will be called. `Some`: the answer now, and `done`
    /// is never called (an unknown tool, a plain tool run here as `call_tool` runs it, or a
    /// runtime that does not run).
    ///
    /// Called on a host I/O thread: for an async tool, it copies the call and queues it, and
    /// touches no thread-local with a destructor (see `runtime`).
    ///
    /// # Safety
    /// A non-null `host` must be valid, with working callbacks, until this returns and, when
    /// this returns `None`, until `done` is called.
    pub(crate) unsafe fn start_tool(
        &self,
        host: *const HostContext,
        name: &str,
        arguments: Option<&str>,
        context: Option<&[u8]>,
        done: Completion,
    ) -> Option<Response> {
        let Some(tool) = self.tool(name) else {
            // SAFETY: the caller guarantees `host`.
            return Some(unsafe { self.run_tool(host, context, name, arguments) });
        };
        let Run::Async(handler) = tool.run else {
            // SAFETY: as above.
            return Some(unsafe { self.run_tool(host, context, name, arguments) });
        };
        // SAFETY: `host` stays valid until `done` is called, which the task does after
        // dropping the future that owns the call; if it is never queued, the future is
        // dropped here.
        let call = unsafe { AsyncCall::new(host, self.plugin.name, arguments, context) };
        // Builds the future without polling it: no tool code runs here.
        let future = handler(call);
        match self.runtime.submit(tool.name, future, done) {
            Ok(()) => None,
            Err(reason) => Some(Response::json(&ToolResult::error(reason))),
        }
    }

    /// Runs an async tool's call to its end on the calling thread (a host worker thread),
    /// through the runtime's `block_on`, and answers as a plain tool would. If the host
    /// cancels the call meanwhile, the future is dropped and the answer is `STATUS_CANCELLED`,
    /// as for a started call.
    ///
    /// # Safety
    /// As [`Registry::handle`].
    pub(super) unsafe fn block_on(
        &self,
        tool: &'static str,
        handler: AsyncHandler,
        host: *const HostContext,
        context: Option<&[u8]>,
        arguments: Option<&str>,
    ) -> Response {
        let runtime = match self.runtime.start() {
            Ok(runtime) => runtime,
            Err(reason) => return Response::json(&ToolResult::error(reason)),
        };
        // SAFETY: `host` is valid until this returns; the future owning the call, and the
        // watching context, are dropped before.
        let (call, watch) = unsafe {
            let call = AsyncCall::new(host, self.plugin.name, arguments, context);
            (call, Context::new(host, self.plugin.name, None))
        };
        let future = handler(call);
        let run = || runtime.block_on(unless_cancelled(future, &watch));
        match catch_unwind(AssertUnwindSafe(run)) {
            Ok(Some(outcome)) => outcome.into_response(),
            Ok(None) => Response {
                status: STATUS_CANCELLED,
                body: Vec::new(),
            },
            Err(payload) => panicked(tool, payload),
        }
    }
}

/// Runs `future` until it ends (`Some`) or `ctx` says the call was cancelled (`None`, the
/// future dropped).
async fn unless_cancelled<F: Future>(future: F, ctx: &Context<'_>) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cancelled = pin!(ctx.cancelled());
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        cancelled.as_mut().poll(cx).map(|()| None)
    })
    .await
}
