//! The end of shutdown's grace: when `--shutdown-timeout` runs out, every call still being
//! answered gets a JSON-RPC error, `server shutting down` (-32000), instead of a connection
//! that just closes. A call still waiting for its first message is answered 503 with that error
//! as its JSON body; a call whose answer is already an SSE stream gets it as the stream's last
//! event. Either way the call's cancellation flag is set, and the call is counted, so the
//! process can exit with a code that says calls were cut off (`server::EXIT_CUT_OFF`).
//!
//! Waiting costs a request nothing until the cut: [`Cutoff::fired`] registers no waker. It is
//! polled by futures that run inside a connection's task, which waits on [`Cutoff::wait`]
//! itself (one registration per connection) and so polls them again when the cut comes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rmcp::model::{ErrorCode, ErrorData, RequestId};
use tokio::sync::Notify;

use super::error::HttpError;
use super::sse::Work;
use crate::mcp::jsonrpc;

/// The message of the error a cut-off call gets.
pub(crate) const SHUTTING_DOWN: &str = "server shutting down";

/// The shutdown cut-off of one server.
#[derive(Debug, Default)]
pub(crate) struct Cutoff {
    fired: AtomicBool,
    notify: Notify,
    /// How many calls were answered with the error.
    cut: AtomicUsize,
}

impl Cutoff {
    /// Cuts off every call still running: they answer with [`SHUTTING_DOWN`].
    pub(crate) fn fire(&self) {
        self.fired.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    /// Whether the cut-off came.
    pub(crate) fn has_fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// How many calls were cut off.
    pub(crate) fn cut_calls(&self) -> usize {
        self.cut.load(Ordering::Relaxed)
    }

    /// Resolves at the cut-off, from any task.
    pub(crate) async fn wait(&self) {
        // Created first: `notify_waiters` wakes every `Notified` that exists when it runs.
        let notified = self.notify.notified();
        if self.has_fired() {
            return;
        }
        notified.await;
    }

    /// Resolves at the cut-off without registering a waker: only for futures polled by a
    /// connection's task (a handler's), which [`Cutoff::wait`]s and polls them again.
    pub(crate) fn fired(&self) -> Fired<'_> {
        Fired(self)
    }

    /// The answer of a call cut off before it sent anything: 503 with the JSON-RPC error.
    pub(crate) fn json_answer(&self, id: RequestId) -> Response {
        self.cut.fetch_add(1, Ordering::Relaxed);
        HttpError::rpc(StatusCode::SERVICE_UNAVAILABLE, Some(id), shutting_down()).into_response()
    }

    /// `work`, or at the cut-off the JSON-RPC error for `id` (and `cancel` set): for a call
    /// whose answer is a stream, written by a task of its own.
    pub(crate) fn guard(
        self: &Arc<Self>,
        work: Work,
        id: RequestId,
        cancel: Arc<AtomicBool>,
    ) -> Work {
        let cutoff = self.clone();
        Box::pin(async move {
            tokio::select! {
                biased;
                out = work => out,
                () = cutoff.wait() => {
                    cancel.store(true, Ordering::Relaxed);
                    cutoff.cut.fetch_add(1, Ordering::Relaxed);
                    jsonrpc::error(Some(&id), &shutting_down())
                }
            }
        })
    }
}

fn shutting_down() -> ErrorData {
    ErrorData::new(ErrorCode(-32000), SHUTTING_DOWN, None)
}

/// See [`Cutoff::fired`].
#[derive(Debug)]
pub(crate) struct Fired<'a>(&'a Cutoff);

impl Future for Fired<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0.has_fired() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_guarded_call_answers_the_error_at_the_cut_off() {
        let cutoff = Arc::new(Cutoff::default());
        let cancel = Arc::new(AtomicBool::new(false));
        let work: Work = Box::pin(std::future::pending());
        let guarded = tokio::spawn(cutoff.guard(work, RequestId::Number(7), cancel.clone()));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!guarded.is_finished());
        cutoff.fire();
        let out = tokio::time::timeout(Duration::from_secs(5), guarded)
            .await
            .expect("answered at the cut-off")
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["id"], 7);
        assert_eq!(v["error"]["code"], -32000);
        assert_eq!(v["error"]["message"], SHUTTING_DOWN);
        assert!(cancel.load(Ordering::Relaxed));
        assert_eq!(cutoff.cut_calls(), 1);
        // A call that finished first is not cut.
        let done: Work = Box::pin(async { "ok".to_string() });
        let out = cutoff
            .guard(done, RequestId::Number(8), Arc::default())
            .await;
        assert_eq!(out, "ok");
        assert_eq!(cutoff.cut_calls(), 1);
    }
}
