//! Tool calls run as tasks, and the task methods of both protocol eras.
//!
//! A `tools/call` becomes a task when the tool supports it and the client asks: with
//! 2025-11-25 by a `task` param, with 2026-07-28 by declaring the tasks extension (the server
//! then decides, and runs every task-supporting tool as a task). The task is stored before the
//! answer goes out; its call then runs on a tokio task of its own ([`TaskJob`]), on the
//! plugin's async path or its worker pool like any call (never inline: nobody waits for it).

use rmcp::model::{ErrorCode, ErrorData, RequestId};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::call::NamedParams;
use super::lookup::FoundTool;
use super::task_job::TaskJob;
use super::{PAGE_SIZE, Reply, RequestCtx, Service, page};
use crate::mcp::jsonrpc;
use crate::mcp::sink::Outbound;
use crate::mcp::state::ProtocolState;
use crate::mcp::tasks::{EXTENSION_ID, FIRST_VERSION, Status, TaskError, owner_key, wire};
use crate::plugin::manifest::TaskSupport;

/// The error for a task-required tool called by a client without the tasks extension.
fn extension_required(what: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
        format!("{what} needs the {EXTENSION_ID} extension: declare it in the client capabilities"),
        Some(json!({"requiredCapabilities": {"extensions": {EXTENSION_ID: {}}}})),
    )
}

/// Whether the request's client declared the 2026-07-28 tasks extension.
fn declares_extension(protocol: &ProtocolState) -> bool {
    protocol.with_client_capabilities(|c| c.is_some_and(|c| c.supports_tasks()))
}

/// Whether a call of `tool` runs as a task: the tool supports it and the client asks (with
/// 2025-11-25 by a `task` param, with 2026-07-28 by declaring the extension). The errors: a
/// task-required tool called without a task, a 2025-11-25 task for a tool that forbids them.
fn runs_as_task(
    tool: &str,
    support: TaskSupport,
    task_param: bool,
    protocol: &ProtocolState,
) -> Result<bool, ErrorData> {
    let extension = protocol.is_per_request();
    let has_tasks = protocol.version_cmp(FIRST_VERSION).is_ge();
    let wants = if extension {
        declares_extension(protocol)
    } else {
        has_tasks && task_param
    };
    match (support, wants, extension) {
        (TaskSupport::Forbidden, true, false) => Err(ErrorData::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("Tool {tool} cannot run as a task"),
            None,
        )),
        (TaskSupport::Required, false, true) => Err(extension_required(&format!("Tool {tool}"))),
        (TaskSupport::Required, false, false) if has_tasks => Err(ErrorData::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("Tool {tool} must be called as a task (add a `task` param)"),
            None,
        )),
        (TaskSupport::Forbidden, _, _) | (_, false, _) => Ok(false),
        _ => Ok(true),
    }
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
    /// and (2025-11-25) a task for a tool that forbids them. `p` and `found` are the call's
    /// params and its tool, as `call_tool` read them.
    pub(super) async fn task_call(
        &self,
        id: &RequestId,
        raw_params: &RawValue,
        p: &NamedParams<'_>,
        found: &FoundTool,
        ctx: &RequestCtx,
    ) -> Result<Option<String>, ErrorData> {
        let extension = ctx.protocol.is_per_request();
        if !runs_as_task(&p.name, found.task_support, p.task.is_some(), &ctx.protocol)? {
            return Ok(None);
        }
        let tool = &p.name;
        let params = Some(raw_params);
        let mut answers = Map::new();
        if extension {
            // Answers gathered by multi round-trip requests before the task existed.
            let caller = ctx.caller.as_ref().map(|c| c.id.as_str());
            let bind = || crate::mcp::mrtr::binding(caller, "tools/call", params);
            let (got, missing) = self.mrtr.inputs(params, bind)?;
            if !missing.is_empty() {
                return Ok(Some(self.mrtr.input_required(
                    "tools/call",
                    &got,
                    missing,
                    &bind(),
                )));
            }
            // A tool that asks before it works: the first round is a plain call.
            if found.input_before_task && got.answers.is_empty() {
                return Ok(None);
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
        let progress_token = p.meta.as_ref().and_then(|m| m.progress_token.clone());
        let job = TaskJob {
            tasks: self.tasks.clone(),
            id: record.id.clone(),
            deadline_ms: record.expires_ms(),
            is_async: found.is_async(),
            generation: found.generation.clone(),
            output: found.output_check.clone(),
            params: raw_params.to_owned(),
            name: tool.to_string(),
            arguments: p.arguments.map(|a| a.get().to_string()),
            version: ctx.protocol.protocol_version().into_owned(),
            protocol: ctx.protocol.clone(),
            caller: ctx.caller.clone(),
            request_id: id.clone(),
            progress_token,
            extension,
            answers,
            updates: self.updates.clone(),
            relists: self.relists.clone(),
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
            ctx.protocol.session_id(),
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
                let task = wire::handshake_task(&self.tasks.cancel(&task_id, &owner).await?);
                if let Some(session) = ctx.protocol.session() {
                    let note = jsonrpc::notification("notifications/tasks/status", &task);
                    session.send_standalone(note);
                }
                Ok(task.to_string())
            }
            _ => {
                // The task's requests to the client ride on this response stream.
                let deliver = |m: String| {
                    ctx.outbound
                        .as_ref()
                        .is_some_and(|o| o.send(Outbound::Message(m)))
                };
                let record = self.tasks.wait_terminal(&task_id, &owner, &deliver).await?;
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
        if !declares_extension(&ctx.protocol) {
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
