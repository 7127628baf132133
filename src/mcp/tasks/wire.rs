//! The wire shapes of tasks in both protocol eras.
//!
//! 2025-11-25 nests the task in `CreateTaskResult.task`, names its fields `ttl` and
//! `pollInterval`, and hands the result out through `tasks/result`. The 2026-07-28 extension
//! makes `CreateTaskResult` the task itself (`resultType: "task"`), names the fields `ttlMs` and
//! `pollIntervalMs`, and inlines `result`, `error` or `inputRequests` in `tasks/get`.

use serde_json::{Map, Value, json};

use super::clock::iso8601;
use super::store::{Status, TaskRecord};
use crate::plugin::manifest::TaskSupport;

fn common(record: &TaskRecord, ttl_key: &str, poll_key: &str) -> Map<String, Value> {
    let mut task = Map::new();
    task.insert("taskId".into(), record.id.clone().into());
    task.insert("status".into(), record.status.as_str().into());
    if let Some(message) = &record.status_message {
        task.insert("statusMessage".into(), message.clone().into());
    }
    task.insert("createdAt".into(), iso8601(record.created_ms).into());
    task.insert("lastUpdatedAt".into(), iso8601(record.updated_ms).into());
    task.insert(ttl_key.into(), record.ttl_ms.into());
    if !record.status.is_terminal() {
        task.insert(poll_key.into(), record.poll_ms.into());
    }
    task
}

/// A 2025-11-25 `Task` (in `CreateTaskResult.task`, `tasks/get`, `tasks/list`, `tasks/cancel`
/// and `notifications/tasks/status`).
pub(crate) fn handshake_task(record: &TaskRecord) -> Value {
    Value::Object(common(record, "ttl", "pollInterval"))
}

/// The 2025-11-25 `CreateTaskResult`.
pub(crate) fn handshake_created(record: &TaskRecord) -> String {
    json!({"task": handshake_task(record)}).to_string()
}

/// The 2025-11-25 `tasks/result` of a completed task: the tool's result, tagged with the task.
pub(crate) fn handshake_result(record: &TaskRecord) -> Value {
    let mut result = record
        .result
        .clone()
        .unwrap_or_else(|| json!({"content": []}));
    if let Some(obj) = result.as_object_mut() {
        let meta = obj.entry("_meta").or_insert_with(|| json!({}));
        if let Some(meta) = meta.as_object_mut() {
            meta.insert(
                "io.modelcontextprotocol/related-task".into(),
                json!({"taskId": record.id}),
            );
        }
    }
    result
}

/// The 2026-07-28 `CreateTaskResult`: the task, flat, with `resultType: "task"`.
pub(crate) fn extension_created(record: &TaskRecord) -> String {
    let mut task = common(record, "ttlMs", "pollIntervalMs");
    task.insert("resultType".into(), "task".into());
    Value::Object(task).to_string()
}

/// The 2026-07-28 `tasks/get` result: the task with its result, error or pending requests.
pub(crate) fn extension_detailed(record: &TaskRecord) -> String {
    let mut task = common(record, "ttlMs", "pollIntervalMs");
    match record.status {
        Status::Completed => {
            task.insert(
                "result".into(),
                record.result.clone().unwrap_or(Value::Null),
            );
        }
        Status::Failed => {
            task.insert("error".into(), record.error.clone().unwrap_or(Value::Null));
        }
        Status::InputRequired => {
            let requests: Map<String, Value> = record
                .pending
                .iter()
                .filter(|(k, _)| !record.partial.contains_key(k))
                .cloned()
                .collect();
            task.insert("inputRequests".into(), Value::Object(requests));
        }
        Status::Working | Status::Cancelled => {}
    }
    Value::Object(task).to_string()
}

fn patch(raw: &str, edit: impl FnOnce(&mut Map<String, Value>)) -> String {
    match serde_json::from_str::<Map<String, Value>>(raw) {
        Ok(mut obj) => {
            edit(&mut obj);
            Value::Object(obj).to_string()
        }
        Err(_) => raw.to_string(),
    }
}

/// A 2025-11-25 `InitializeResult` with `capabilities.tasks`: list, cancel and task-augmented
/// `tools/call`.
pub(crate) fn advertise_handshake(initialize: &str) -> String {
    patch(initialize, |obj| {
        if let Some(caps) = obj.get_mut("capabilities").and_then(Value::as_object_mut) {
            caps.insert(
                "tasks".into(),
                json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}),
            );
        }
    })
}

/// A `server/discover` result with the tasks extension under `capabilities.extensions`.
pub(crate) fn advertise_extension(discover: &str) -> String {
    patch(discover, |obj| {
        if let Some(caps) = obj.get_mut("capabilities").and_then(Value::as_object_mut) {
            let extensions = caps.entry("extensions").or_insert_with(|| json!({}));
            if let Some(extensions) = extensions.as_object_mut() {
                extensions.insert(super::EXTENSION_ID.into(), json!({}));
            }
        }
    })
}

/// A `tools/list` result whose tools carry `execution.taskSupport` where it is not the
/// default; `support` is in the order of the result's tools.
pub(crate) fn with_execution(list: &str, support: &[TaskSupport]) -> String {
    if support.iter().all(|s| *s == TaskSupport::Forbidden) {
        return list.to_string();
    }
    patch(list, |obj| {
        let Some(tools) = obj.get_mut("tools").and_then(Value::as_array_mut) else {
            return;
        };
        for (tool, s) in tools.iter_mut().zip(support) {
            if *s != TaskSupport::Forbidden
                && let Some(tool) = tool.as_object_mut()
            {
                tool.insert("execution".into(), json!({"taskSupport": s.as_str()}));
            }
        }
    })
}
