//! Tool calls run as tasks, and the task methods of both protocol eras.
//!
//! A `tools/call` becomes a task when the tool supports it and the client asks: with
//! 2025-11-25 by a `task` param, with 2026-07-28 by declaring the tasks extension (the server
//! then decides, and runs every task-supporting tool as a task). The task is stored before the
//! answer goes out; its call then runs on a tokio task of its own ([`TaskJob`]), on the
//! plugin's async path or its worker pool like any call (never inline: nobody waits for it).

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rmcp::model::{ErrorCode, ErrorData, ProgressToken, RequestId};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc::UnboundedSender;

use super::context::PluginContext;
use super::{Caller, PAGE_SIZE, Reply, RequestCtx, Service, allowed, page};
use crate::mcp::jsonrpc;
use crate::mcp::modern;
use crate::mcp::session::Session;
use crate::mcp::sink::{Drops, ModernCall, Outbound, OutboundTx, RequestSink, outbound_channel};
use crate::mcp::tasks::clock::now_ms;
use crate::mcp::tasks::{
    EXTENSION_ID, FIRST_VERSION, Live, Status, TaskError, TaskRecord, TaskSupport, Tasks,
    owner_key, wire,
};
use crate::plugin::reply::check_tool_result;
use crate::plugin::request::{PluginRequest, ToolRequest};
use crate::plugin::schema::Schema;
use crate::plugin::{CallOutcome, Generation};

/// How often a task's runner looks for changes made through other instances (a shared store).
const SHARED_POLL: Duration = Duration::from_millis(250);

#[derive(Deserialize)]
struct TaskCallParams<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(default)]
    task: Option<Value>,
    #[serde(rename = "_meta", default)]
    meta: Option<Map<String, Value>>,
}

/// The error for a task-required tool called by a client without the tasks extension.
fn extension_required(what: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
        format!("{what} needs the {EXTENSION_ID} extension: declare it in the client capabilities"),
        Some(json!({"requiredCapabilities": {"extensions": {EXTENSION_ID: {}}}})),
    )
}

/// Whether the request's client declared the 2026-07-28 tasks extension.
fn declares_extension(session: &Session) -> bool {
    session
        .negotiated()
        .client_capabilities
        .is_some_and(|c| c.supports_tasks())
}

/// The `ttl` a 2025-11-25 client asked for: absent or null for the default, else a
/// non-negative integer of milliseconds.
fn requested_ttl(task: &Value) -> Result<Option<u64>, TaskError> {
    let Some(obj) = task.as_object() else {
        return Err(TaskError::BadParams("`task` must be an object".into()));
    };
    match obj.get("ttl") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            TaskError::BadParams(format!(
                "`task.ttl` must be a non-negative integer of milliseconds, not {v}"
            ))
        }),
    }
}

impl Service {
    /// Starts a `tools/call` as a task when it is one, with the `CreateTaskResult`; `None`
    /// leaves it to the ordinary path. Refuses a task-required tool called without a task
    /// and (2025-11-25) a task for a tool that forbids them.
    pub(super) async fn task_call(
        &self,
        id: &RequestId,
        params: Option<&RawValue>,
        ctx: &RequestCtx,
    ) -> Result<Option<String>, ErrorData> {
        let Some(raw_params) = params else {
            return Ok(None);
        };
        let Ok(p) = serde_json::from_str::<TaskCallParams>(raw_params.get()) else {
            return Ok(None);
        };
        let found = {
            let cat = self.registry.catalog();
            cat.tool(&p.name)
                .filter(|(e, _)| allowed(&e.access, ctx.caller.as_ref()))
                .map(|(e, g)| {
                    (
                        e.task_support,
                        e.is_async,
                        e.output_check.clone(),
                        g.clone(),
                    )
                })
        };
        let Some((support, is_async, output, generation)) = found else {
            return Ok(None);
        };
        let extension = ctx.session.version_cmp(modern::VERSION).is_eq();
        let wants = if extension {
            declares_extension(&ctx.session)
        } else {
            ctx.session.version_cmp(FIRST_VERSION).is_ge() && p.task.is_some()
        };
        let tool = &p.name;
        match (support, wants, extension) {
            (TaskSupport::Forbidden, true, false) => {
                return Err(ErrorData::new(
                    ErrorCode::METHOD_NOT_FOUND,
                    format!("Tool {tool} cannot run as a task"),
                    None,
                ));
            }
            (TaskSupport::Required, false, true) => {
                return Err(extension_required(&format!("Tool {tool}")));
            }
            (TaskSupport::Required, false, false)
                if ctx.session.version_cmp(FIRST_VERSION).is_ge() =>
            {
                return Err(ErrorData::new(
                    ErrorCode::METHOD_NOT_FOUND,
                    format!("Tool {tool} must be called as a task (add a `task` param)"),
                    None,
                ));
            }
            (TaskSupport::Forbidden, _, _) | (_, false, _) => return Ok(None),
            _ => {}
        }
        let mut answers = Vec::new();
        if extension {
            // Answers gathered by multi round-trip requests before the task existed.
            let caller = ctx.caller.as_ref().map(|c| c.id.as_str());
            let bind = modern::binding(caller, "tools/call", params);
            let (got, missing) = self.mrtr.inputs(params, &bind)?;
            if !missing.is_empty() {
                return Ok(Some(self.mrtr.input_required(&got, missing, &bind)));
            }
            answers = got.answers;
        }
        let ttl = match (&p.task, extension) {
            (Some(task), false) => requested_ttl(task)?,
            _ => None,
        };
        let owner = self.task_owner(ctx);
        let (record, live) = self
            .tasks
            .create(&owner, tool, self.tasks.ttl_for(ttl))
            .await?;
        let progress_token = p
            .meta
            .as_ref()
            .and_then(|m| m.get("progressToken"))
            .and_then(|t| serde_json::from_value(t.clone()).ok());
        let job = TaskJob {
            tasks: self.tasks.clone(),
            id: record.id.clone(),
            deadline_ms: record.expires_ms(),
            is_async: is_async && generation.starts_async(),
            generation,
            output,
            params: raw_params.to_owned(),
            name: tool.to_string(),
            arguments: p.arguments.map(|a| a.get().to_string()),
            version: ctx.session.protocol_version(),
            session: ctx.session.clone(),
            caller: ctx.caller.clone(),
            request_id: id.clone(),
            progress_token,
            extension,
            answers,
            updates: self.updates.clone(),
            live,
            metrics: self.options.metrics.clone(),
        };
        tokio::spawn(job.run());
        Ok(Some(if extension {
            wire::extension_created(&record)
        } else {
            wire::handshake_created(&record)
        }))
    }

    /// Who owns the tasks this request creates or reads.
    fn task_owner(&self, ctx: &RequestCtx) -> String {
        owner_key(
            ctx.caller.as_ref().map(|c| c.id.as_str()),
            ctx.session.id.as_deref(),
        )
    }

    /// `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` of protocol 2025-11-25.
    pub(super) async fn task_method_handshake(
        &self,
        method: &str,
        params: Option<&RawValue>,
        ctx: &RequestCtx,
    ) -> Reply {
        let owner = self.task_owner(ctx);
        if method == "tasks/list" {
            #[derive(Deserialize, Default)]
            struct P {
                cursor: Option<String>,
            }
            let p: P = jsonrpc::params(params)?;
            let all = self.tasks.list(&owner).await?;
            let (items, next) = page(&all, p.cursor.as_deref())?;
            debug_assert!(items.len() <= PAGE_SIZE);
            let tasks: Vec<Value> = items.iter().map(wire::handshake_task).collect();
            let mut out = json!({"tasks": tasks});
            if let Some(next) = next {
                out["nextCursor"] = next.into();
            }
            return Ok(out.to_string());
        }
        let task_id = task_id(params)?;
        match method {
            "tasks/get" => {
                Ok(wire::handshake_task(&self.tasks.find(&task_id, &owner).await?).to_string())
            }
            "tasks/cancel" => {
                Ok(wire::handshake_task(&self.tasks.cancel(&task_id, &owner).await?).to_string())
            }
            _ => {
                let record = self.tasks.wait_terminal(&task_id, &owner).await?;
                match record.status {
                    Status::Completed => Ok(wire::handshake_result(&record).to_string()),
                    Status::Cancelled => Err(ErrorData::new(
                        ErrorCode(-32800),
                        format!("Task {task_id} was cancelled"),
                        None,
                    )),
                    _ => Err(stored_error(record.error.as_ref())),
                }
            }
        }
    }

    /// `tasks/get`, `tasks/update` and `tasks/cancel` of the 2026-07-28 tasks extension.
    pub(super) async fn task_method_extension(
        &self,
        method: &str,
        params: Option<&RawValue>,
        ctx: &RequestCtx,
    ) -> Reply {
        if !declares_extension(&ctx.session) {
            return Err(extension_required(method));
        }
        let owner = self.task_owner(ctx);
        let task_id = task_id(params)?;
        match method {
            "tasks/get" => Ok(wire::extension_detailed(
                &self.tasks.find(&task_id, &owner).await?,
            )),
            "tasks/update" => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct P {
                    input_responses: Map<String, Value>,
                }
                let p: P = jsonrpc::params(params)?;
                self.tasks
                    .answer(&task_id, &owner, p.input_responses)
                    .await?;
                Ok("{}".into())
            }
            _ => match self.tasks.cancel(&task_id, &owner).await {
                // Cancelling a finished task is a no-op here, not an error.
                Ok(_) | Err(TaskError::Terminal { .. }) => Ok("{}".into()),
                Err(e) => Err(e.into()),
            },
        }
    }
}

fn task_id(params: Option<&RawValue>) -> Result<String, ErrorData> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct P {
        task_id: String,
    }
    Ok(jsonrpc::params::<P>(params)?.task_id)
}

/// The JSON-RPC error a failed task stored.
fn stored_error(error: Option<&Value>) -> ErrorData {
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_i64)
        .unwrap_or(-32603) as i32;
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("The task failed")
        .to_string();
    let data = error.and_then(|e| e.get("data")).cloned();
    ErrorData::new(ErrorCode(code), message, data)
}

/// One task's call, run to its end on a tokio task of its own.
struct TaskJob {
    tasks: Arc<Tasks>,
    id: String,
    deadline_ms: u64,
    is_async: bool,
    generation: Arc<Generation>,
    output: Option<Arc<Schema>>,
    params: Box<RawValue>,
    name: String,
    arguments: Option<String>,
    version: String,
    session: Arc<Session>,
    caller: Option<Caller>,
    request_id: RequestId,
    progress_token: Option<ProgressToken>,
    /// A 2026-07-28 task: input requests park it in `input_required`.
    extension: bool,
    /// Answers to the call's input requests so far, in asking order.
    answers: Vec<Value>,
    updates: UnboundedSender<String>,
    live: Live,
    metrics: Option<Arc<crate::metrics::Metrics>>,
}

/// How one round of a task's call ended.
enum Round {
    Outcome(CallOutcome),
    Closed,
    OutOfTime,
}

impl TaskJob {
    async fn run(mut self) {
        let outbound = self.session_stream();
        loop {
            let modern = self.extension.then(|| {
                let caps = self.session.negotiated().client_capabilities;
                let caps = caps.and_then(|c| serde_json::to_value(c).ok());
                Arc::new(ModernCall::new(self.answers.clone(), caps))
            });
            let round = self.round(modern.clone(), outbound.clone()).await;
            if let (Round::Outcome(CallOutcome::InputRequired), Some(m)) = (&round, &modern) {
                let asked = std::mem::take(&mut *m.asked.lock().unwrap_or_else(|e| e.into_inner()));
                if !asked.is_empty() && self.park(asked).await {
                    continue;
                }
                break;
            }
            self.finish(round).await;
            break;
        }
        self.tasks.ended(&self.id);
    }

    /// A 2025-11-25 task in a stateful session sends its progress and logs on the session's
    /// `GET` stream: the `tools/call` that started it has been answered.
    fn session_stream(&self) -> Option<OutboundTx> {
        if self.extension || self.session.id.is_none() {
            return None;
        }
        let drops = Drops::new(self.metrics.clone());
        let (tx, mut rx) = outbound_channel(self.live.cancel.clone(), drops);
        let session = self.session.clone();
        tokio::spawn(async move {
            while let Some(message) = rx.recv().await {
                if let Outbound::Message(m) = message {
                    session.send_standalone(m);
                }
            }
        });
        Some(tx)
    }

    fn remaining(&self) -> Duration {
        Duration::from_millis(self.deadline_ms.saturating_sub(now_ms()))
    }

    async fn round(&self, modern: Option<Arc<ModernCall>>, outbound: Option<OutboundTx>) -> Round {
        let context = PluginContext::new(
            &self.version,
            self.session.id.as_deref(),
            self.caller.as_ref(),
            &self.request_id,
        );
        let request = ToolRequest::new(
            &self.params,
            &self.name,
            self.arguments.as_deref(),
            |out: &mut Vec<u8>| context.write_json(out),
        );
        let sink = Arc::new(RequestSink {
            session: self.session.clone(),
            outbound,
            progress_token: self.progress_token.clone(),
            // Nobody waits on a stream for the client's answer: 2025-11-25 tasks cannot ask the
            // client, 2026-07-28 tasks ask through `input_required`.
            can_request: false,
            modern,
            updates: Some(self.updates.clone()),
        });
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
                r.pending = asked;
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
    async fn finish(&self, round: Round) {
        let (status, result, error) = self.classify(round);
        let changed = self
            .tasks
            .change(&self.id, |r| {
                r.status = status;
                r.result = result;
                r.error = error;
                r.status_message = None;
            })
            .await;
        match changed {
            Ok(Some(record)) => self.announce(&record),
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

    /// `notifications/tasks/status` on the session's `GET` stream (2025-11-25, stateful).
    fn announce(&self, record: &TaskRecord) {
        if self.extension || self.session.id.is_none() {
            return;
        }
        let note =
            jsonrpc::notification("notifications/tasks/status", &wire::handshake_task(record));
        self.session.send_standalone(note);
    }
}
