//! The run of one task's call ([`TaskJob`]): on the plugin's async path or its worker pool,
//! limited by the task's TTL, parked in `input_required` while the client answers (2026-07-28;
//! a 2025-11-25 task asks through `tasks/result`, see `task_input`),
//! and its end stored in the task. With a shared store it also watches for cancels and answers
//! that came through another instance.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rmcp::model::{ProgressToken, RequestId};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc::UnboundedSender;

use super::context::PluginContext;
use super::task_input::{self, TaskInput};
use super::task_progress::{self, ProgressNote};
use crate::auth::Caller;
use crate::mcp::jsonrpc;
use crate::mcp::mrtr::Inputs;
use crate::mcp::session::Session;
use crate::mcp::sink::{
    Drops, Outbound, OutboundTx, PerRequestCall, RequestSink, outbound_channel,
};
use crate::mcp::state::ProtocolState;
use crate::mcp::tasks::clock::now_ms;
use crate::mcp::tasks::{Live, Status, TaskRecord, Tasks, wire};
use crate::plugin::reply::check_tool_result;
use crate::plugin::request::{PluginRequest, ToolRequest};
use crate::plugin::schema::Schema;
use crate::plugin::{CallOutcome, CallSink, Generation};

/// How often a task's runner looks for changes made through other instances (a shared store).
const SHARED_POLL: Duration = Duration::from_millis(250);

/// One task's call, run to its end on a tokio task of its own.
pub(super) struct TaskJob {
    pub(super) tasks: Arc<Tasks>,
    pub(super) id: String,
    pub(super) deadline_ms: u64,
    pub(super) is_async: bool,
    pub(super) generation: Arc<Generation>,
    pub(super) output: Option<Arc<Schema>>,
    pub(super) params: Box<RawValue>,
    pub(super) name: String,
    pub(super) arguments: Option<String>,
    pub(super) version: String,
    /// The protocol state of the `tools/call` that started the task.
    pub(super) protocol: ProtocolState,
    pub(super) caller: Option<Caller>,
    pub(super) request_id: RequestId,
    pub(super) progress_token: Option<ProgressToken>,
    /// A 2026-07-28 task: input requests park it in `input_required`.
    pub(super) extension: bool,
    /// Answers to the call's input requests so far, in asking order.
    pub(super) answers: Map<String, Value>,
    pub(super) updates: UnboundedSender<String>,
    /// Where a call that changed its plugin's lists is reported (`Service::run_updates`).
    pub(super) relists: UnboundedSender<Arc<Generation>>,
    pub(super) live: Live,
    pub(super) metrics: Option<Arc<crate::metrics::Metrics>>,
}

/// How one round of a task's call ended.
enum Round {
    Outcome(CallOutcome),
    Closed,
    OutOfTime,
}

impl TaskJob {
    pub(super) async fn run(mut self) {
        let started = std::time::Instant::now();
        let outbound = self.session_stream();
        // Without a stream, the last progress shows in `tasks/get` instead.
        let progress = outbound
            .is_none()
            .then(|| task_progress::spawn_writer(self.tasks.clone(), self.id.clone()));
        loop {
            let per_request = self.extension.then(|| {
                let caps = self.protocol.client_capabilities_json();
                Arc::new(PerRequestCall::new(
                    Inputs {
                        answers: self.answers.clone(),
                    },
                    caps,
                ))
            });
            let round = self
                .round(per_request.clone(), outbound.clone(), progress.clone())
                .await;
            if self.generation.listing().is_dirty() {
                let _ = self.relists.send(self.generation.clone());
            }
            if let (Round::Outcome(CallOutcome::InputRequired), Some(m)) = (&round, &per_request) {
                let asked = std::mem::take(&mut *m.asked.lock().unwrap_or_else(|e| e.into_inner()));
                if !asked.is_empty() && self.park(asked).await {
                    continue;
                }
                break;
            }
            self.finish(round, outbound.as_ref()).await;
            break;
        }
        self.tasks.ended(&self.id);
        self.record(started.elapsed()).await;
    }

    /// A 2025-11-25 task in a stateful session sends its progress and logs on the session's
    /// `GET` stream: the `tools/call` that started it has been answered.
    /// Its requests to the client wait for a `tasks/result` to carry them (`task_input`).
    fn session_stream(&self) -> Option<OutboundTx> {
        let session = self.stream_session()?.clone();
        let drops = Drops::new(self.metrics.clone());
        let (tx, mut rx) = outbound_channel(self.live.cancel.clone(), drops);
        let relay = self.live.relay.clone();
        tokio::spawn(async move {
            while let Some(message) = rx.recv().await {
                match message {
                    Outbound::Message(m) if task_input::is_request(&m) => relay.push(m),
                    Outbound::Message(m) => {
                        session.send_standalone(m);
                    }
                    Outbound::CloseStream => {}
                }
            }
        });
        Some(tx)
    }

    /// The session whose stream carries the task's messages: a 2025-11-25 task's, if stored.
    fn stream_session(&self) -> Option<&Arc<Session>> {
        self.protocol.session().filter(|_| !self.extension)
    }

    fn remaining(&self) -> Duration {
        Duration::from_millis(self.deadline_ms.saturating_sub(now_ms()))
    }

    async fn round(
        &self,
        per_request: Option<Arc<PerRequestCall>>,
        outbound: Option<OutboundTx>,
        progress: Option<tokio::sync::watch::Sender<Option<String>>>,
    ) -> Round {
        let context = PluginContext::new(
            &self.version,
            self.protocol.session_id(),
            self.caller.as_ref(),
            &self.request_id,
        );
        let request = ToolRequest::new(
            &self.params,
            &self.name,
            self.arguments.as_deref(),
            |out: &mut Vec<u8>| context.write_json(out),
        );
        // A 2025-11-25 task in a session asks the client through `tasks/result` (the session
        // stream exists exactly then); 2026-07-28 tasks ask through `input_required`.
        let asks = outbound.is_some();
        let sink = Arc::new(RequestSink {
            protocol: self.protocol.clone(),
            outbound,
            progress_token: self.progress_token.clone(),
            can_request: asks,
            per_request,
            updates: Some(self.updates.clone()),
        });
        let asking = self.stream_session().filter(|_| asks);
        let sink: Arc<dyn CallSink> = match (progress, asking) {
            (Some(latest), _) => Arc::new(ProgressNote {
                inner: sink,
                latest,
                protocol: self.protocol.clone(),
                metrics: self.metrics.clone(),
            }),
            (None, Some(session)) => Arc::new(TaskInput {
                inner: sink,
                task_id: self.id.clone(),
                asking: task_input::spawn_status(
                    self.tasks.clone(),
                    self.id.clone(),
                    session.clone(),
                ),
            }),
            (None, None) => sink,
        };
        let cancel = self.live.cancel.clone();
        let call = async {
            if self.is_async {
                Ok(self
                    .generation
                    .call_async(&request, sink, cancel, true)
                    .await)
            } else {
                self.generation
                    .call(PluginRequest::Tool(request), sink, cancel)
                    .await
            }
        };
        let call = async {
            tokio::select! {
                ended = call => ended,
                () = self.cancelled_elsewhere() => {
                    // The call sees the flag (an async call is also asked to drop its work)
                    // and ends as cancelled; the task already says so.
                    std::future::pending().await
                }
            }
        };
        match tokio::time::timeout(self.remaining(), call).await {
            Ok(Ok(outcome)) => Round::Outcome(outcome),
            Ok(Err(_)) => Round::Closed,
            Err(_) => {
                self.live.cancel.store(true, Ordering::Relaxed);
                Round::OutOfTime
            }
        }
    }

    /// Resolves once another instance cancelled the task (a shared store), after setting the
    /// call's flag; never otherwise. A local cancel sets the flag itself.
    async fn cancelled_elsewhere(&self) {
        if !self.tasks.is_shared() {
            return std::future::pending().await;
        }
        loop {
            tokio::time::sleep(SHARED_POLL).await;
            let ended = match self.tasks.find_any(&self.id).await {
                Some(r) => r.status.is_terminal(),
                None => self.remaining().is_zero(),
            };
            if ended {
                self.live.cancel.store(true, Ordering::Relaxed);
                self.live.wake.notify_one();
                return;
            }
        }
    }

    /// Parks the task in `input_required` with the requests the call made, and waits for
    /// `tasks/update` to answer them all (true: run again with the answers) or for
    /// cancellation or the TTL (false).
    async fn park(&mut self, asked: Vec<(String, Value)>) -> bool {
        let parked = self
            .tasks
            .change(&self.id, |r| {
                r.status = Status::InputRequired;
                r.status_message = Some("Waiting for input from the client".into());
                r.pending = asked.clone();
                r.partial.clear();
            })
            .await;
        if !matches!(parked, Ok(Some(_))) {
            return false;
        }
        loop {
            // Answers and cancels through another instance only show in the store.
            let wait = if self.tasks.is_shared() {
                self.remaining().min(SHARED_POLL)
            } else {
                self.remaining()
            };
            let _ = tokio::time::timeout(wait, self.live.wake.notified()).await;
            if self.remaining().is_zero() || self.live.cancel.load(Ordering::Relaxed) {
                return false;
            }
            match self.tasks.find_any(&self.id).await {
                Some(r) if r.status == Status::Working => {
                    self.answers = r.answers;
                    return true;
                }
                Some(r) if r.status == Status::InputRequired => continue,
                _ => return false,
            }
        }
    }

    /// Stores how the call ended, unless the task already is terminal (cancelled).
    async fn finish(&self, round: Round, outbound: Option<&OutboundTx>) {
        let (status, result, error) = self.classify(round);
        let changed = self
            .tasks
            .change(&self.id, |r| {
                r.status = status;
                r.result = result.clone();
                r.error = error.clone();
                r.status_message = None;
            })
            .await;
        match changed {
            Ok(Some(record)) => self.announce(&record, outbound),
            Ok(None) => {}
            Err(e) => tracing::warn!(task = %self.id, error = %e, "could not store a task's end"),
        }
    }

    fn classify(&self, round: Round) -> (Status, Option<Value>, Option<Value>) {
        let failed = |code: i32, message: String, data: Option<Value>| {
            let mut error = json!({"code": code, "message": message});
            if let Some(data) = data {
                error["data"] = data;
            }
            (Status::Failed, None, Some(error))
        };
        match round {
            Round::Outcome(CallOutcome::Ok(raw)) => {
                match check_tool_result(&raw, self.output.as_deref()) {
                    Ok(_) => (Status::Completed, serde_json::from_str(&raw).ok(), None),
                    Err(problem) => {
                        tracing::error!(tool = %self.name, problem, "the plugin returned an invalid reply");
                        failed(-32603, "The plugin returned an invalid reply".into(), None)
                    }
                }
            }
            // A plain call reports a panic as a tool error; a task that crashed did not run
            // to a result, which the tasks extension calls a failure.
            Round::Outcome(CallOutcome::Panic(msg)) => {
                failed(-32603, super::panic_text(&self.name, &msg), None)
            }
            Round::Outcome(CallOutcome::Error { code, message, data }) => failed(code, message, data),
            Round::Outcome(CallOutcome::Cancelled) => (Status::Cancelled, None, None),
            Round::Outcome(CallOutcome::InputRequired) => failed(
                -32603,
                "The tool asked the client for input, which a task of this protocol version cannot carry".into(),
                None,
            ),
            Round::Outcome(CallOutcome::Invalid(msg)) => {
                tracing::error!(reason = %msg, "plugin broke the ABI contract");
                failed(-32603, "The plugin returned an invalid reply".into(), None)
            }
            Round::Closed => failed(-32603, "The server is shutting down".into(), None),
            Round::OutOfTime => failed(-32603, "The task ran out of its time to live".into(), None),
        }
    }

    /// The line per call (at debug level, like plain calls) and the tool-call metrics, labelled
    /// `task_<status>` by how the task ended.
    async fn record(&self, took: Duration) {
        let status = match self.tasks.find_any(&self.id).await {
            Some(r) => r.status.as_str(),
            None => "expired",
        };
        let label = format!("task_{status}");
        tracing::debug!(
            target: super::outcome::CALL_LOG_TARGET,
            tool = %self.name,
            plugin = %self.generation.manifest.name,
            task = %self.id,
            elapsed_ms = took.as_secs_f64() * 1000.0,
            outcome = %label,
            "tool call"
        );
        if let Some(m) = &self.metrics {
            m.record_tool_call(&self.name, &label, took);
        }
    }

    /// `notifications/tasks/status` on the session's `GET` stream (2025-11-25, stateful),
    /// through the call's channel, so that it follows the call's last progress.
    fn announce(&self, record: &TaskRecord, outbound: Option<&OutboundTx>) {
        let Some(outbound) = outbound else {
            return;
        };
        let note =
            jsonrpc::notification("notifications/tasks/status", &wire::handshake_task(record));
        outbound.send(Outbound::Message(note));
    }
}
