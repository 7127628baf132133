//! The MCP method handlers, shared by every transport and both modes.
//!
//! A transport parses a message with [`super::jsonrpc`], finds or makes the [`Session`], and
//! hands requests to [`Service::handle_request`] with a [`RequestCtx`] that says where related
//! messages (progress, logs, server-to-client requests) may go. Plugin calls go through the
//! [`Registry`]'s current catalog; nothing here depends on HTTP.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use rmcp::model::{
    ErrorCode, ErrorData, InitializeRequestParams, InitializeResult, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, RequestId,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::jsonrpc;
use super::per_request;
pub(crate) use super::protocol::{DEFAULT_VERSION, HANDSHAKE_VERSIONS, LATEST_HANDSHAKE};
use super::protocol::{capabilities, server_info};
use super::session::{Negotiated, Session, SessionStore, level_index};
use super::tasks;
pub(crate) use crate::auth::Caller;
use crate::plugin::manifest::{Access, ToolEntry};
use crate::plugin::{Generation, Registry};

mod call;
mod context;
mod lookup;
mod outcome;
mod scan;
pub(crate) mod skills;
mod task_call;
mod task_input;
mod task_job;
mod task_progress;
use call::NamedParams;
pub(crate) use call::{InlineAnswer, InlineCall};
pub(crate) use lookup::MissingScopes;
pub(crate) use outcome::panic_text;

/// How many items a list result holds before it pages with `nextCursor`.
pub(crate) const PAGE_SIZE: usize = 100;

/// Settings of the service.
#[derive(Debug, Clone)]
pub(crate) struct ServiceOptions {
    /// Stateless mode: no sessions, no server-to-client requests.
    pub(crate) stateless: bool,
    /// A tool call running longer than this gets a "timed out" error result.
    pub(crate) tool_timeout: Duration,
    /// Run tools whose manifest says `inline` on the thread that read the request.
    pub(crate) inline_tools: bool,
    /// Counters for `GET /metrics`, when it is served.
    pub(crate) metrics: Option<Arc<crate::metrics::Metrics>>,
    /// Most sessions held at once (`--max-sessions`), so that clients opening sessions without
    /// ending them cannot grow memory.
    pub(crate) max_sessions: usize,
}

/// Where one request's related messages go, and its cancellation flag.
#[derive(Debug)]
pub(crate) struct RequestCtx {
    /// The request's session (throwaway in stateless mode).
    pub(crate) session: Arc<Session>,
    /// The request's response stream, for notifications and requests to the client.
    pub(crate) outbound: Option<super::sink::OutboundTx>,
    /// Set when the client cancels or goes away.
    pub(crate) cancel: Arc<AtomicBool>,
    /// The authenticated caller, if any.
    pub(crate) caller: Option<Caller>,
}

/// The MCP server core.
#[derive(Debug)]
pub(crate) struct Service {
    /// The plugins being served.
    pub(crate) registry: Arc<Registry>,
    /// Live sessions (stateful mode).
    pub(crate) sessions: SessionStore,
    /// Settings.
    pub(crate) options: ServiceOptions,
    /// Seals `requestState` for 2026-07-28 multi round-trip requests.
    pub(crate) mrtr: super::mrtr::Mrtr,
    /// Open `subscriptions/listen` streams (2026-07-28).
    pub(crate) listeners: super::listen::Listeners,
    /// URIs of resources a plugin reported as updated, for [`Service::resource_updated`].
    pub(crate) updates: tokio::sync::mpsc::UnboundedSender<String>,
    /// The receiving end, taken once by the task that fans updates out.
    pub(crate) updates_rx: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<String>>>,
    /// Tool calls run as tasks.
    pub(crate) tasks: Arc<super::tasks::Tasks>,
    /// Generations whose task calls changed their lists (`HostContext::set_listed`): no
    /// request waits on a task's call, so [`Service::run_updates`] serves the change.
    relists: tokio::sync::mpsc::UnboundedSender<Arc<Generation>>,
    relists_rx: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Arc<Generation>>>>,
}

#[derive(Deserialize)]
struct UriParams<'a> {
    #[serde(borrow)]
    uri: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
struct PageParams {
    cursor: Option<String>,
}

type Reply = Result<String, ErrorData>;

/// The answer to one request.
#[derive(Debug)]
pub(crate) struct Handled {
    /// The full JSON-RPC response.
    pub(crate) response: String,
    /// Set when a `tools/call` was refused for want of scopes (the response is then its
    /// JSON-RPC error): HTTP answers 403 with the scope challenge instead.
    pub(crate) missing_scopes: Option<MissingScopes>,
}

fn json<T: Serialize>(v: &T) -> Reply {
    serde_json::to_string(v).map_err(|e| ErrorData::internal_error(e.to_string(), None))
}

/// Whether `caller` may see and call a tool with these access rules.
pub(crate) fn allowed(access: &Access, caller: Option<&Caller>) -> bool {
    if !access.authenticated && access.scopes.is_empty() {
        return true;
    }
    match caller {
        None => false,
        Some(c) => access.scopes.iter().all(|s| c.scopes.contains(s)),
    }
}

fn page<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
) -> Result<(Vec<T>, Option<String>), ErrorData> {
    let start = match cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or_else(|| ErrorData::invalid_params(format!("Invalid cursor: {c:?}"), None))?,
    };
    let end = (start + PAGE_SIZE).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items[start..end].to_vec(), next))
}

fn error_result(text: &str) -> String {
    serde_json::json!({"content": [{"type": "text", "text": text}], "isError": true}).to_string()
}

impl Service {
    /// A service for `registry`.
    pub(crate) fn new(registry: Arc<Registry>, options: ServiceOptions) -> Service {
        let (updates, updates_rx) = tokio::sync::mpsc::unbounded_channel();
        let (relists, relists_rx) = tokio::sync::mpsc::unbounded_channel();
        Service {
            registry,
            sessions: SessionStore::new(options.max_sessions),
            options,
            mrtr: super::mrtr::Mrtr::new(None),
            listeners: super::listen::Listeners::default(),
            updates,
            updates_rx: std::sync::Mutex::new(Some(updates_rx)),
            tasks: Arc::default(),
            relists,
            relists_rx: std::sync::Mutex::new(Some(relists_rx)),
        }
    }

    /// Answers one request. The response text is always a full JSON-RPC response; a
    /// transport that can say more (HTTP's 403 scope challenge) also gets why it was refused.
    pub(crate) async fn handle_request(
        &self,
        id: &RequestId,
        method: &str,
        params: Option<&RawValue>,
        ctx: &RequestCtx,
    ) -> Handled {
        let per_request = ctx.session.version_cmp(per_request::REVISION).is_eq();
        let reply = if method == "tools/call" {
            match self.call_tool(id, params, ctx).await {
                // An `InputRequiredResult` goes out as the plugin's rounds built it.
                Ok(reply) if per_request => reply.map(|r| {
                    if r.contains("\"resultType\":\"input_required\"") {
                        r
                    } else {
                        per_request::decorate(method, &r)
                    }
                }),
                Ok(reply) => reply,
                Err(missing) => {
                    let response = jsonrpc::error(Some(id), &missing.error());
                    return Handled {
                        response,
                        missing_scopes: Some(missing),
                    };
                }
            }
        } else if per_request {
            self.dispatch_per_request(id, method, params, ctx).await
        } else {
            self.dispatch(id, method, params, ctx).await
        };
        let response = match reply {
            Ok(raw) => jsonrpc::response_raw(id, &raw),
            Err(e) => jsonrpc::error(Some(id), &e),
        };
        Handled {
            response,
            missing_scopes: None,
        }
    }

    async fn dispatch(
        &self,
        id: &RequestId,
        method: &str,
        params: Option<&RawValue>,
        ctx: &RequestCtx,
    ) -> Reply {
        match method {
            "initialize" => self.initialize(params, &ctx.session),
            "ping" => Ok("{}".into()),
            "tools/list" => self.list_tools(params, ctx.caller.as_ref()),
            "resources/list" => {
                let p: PageParams = jsonrpc::params(params)?;
                let cat = self.registry.catalog();
                let all: Vec<_> = cat.resources.iter().map(|(_, r)| r.clone()).collect();
                let (items, next) = page(&all, p.cursor.as_deref())?;
                let mut r = ListResourcesResult::with_all_items(items);
                r.result_type = None;
                r.next_cursor = next;
                json(&r)
            }
            "resources/templates/list" => {
                let p: PageParams = jsonrpc::params(params)?;
                let cat = self.registry.catalog();
                let all: Vec<_> = cat
                    .resource_templates
                    .iter()
                    .map(|(_, t)| t.clone())
                    .collect();
                let (items, next) = page(&all, p.cursor.as_deref())?;
                let mut r = ListResourceTemplatesResult::with_all_items(items);
                r.result_type = None;
                r.next_cursor = next;
                json(&r)
            }
            "resources/read" => {
                let p: UriParams = jsonrpc::params(params)?;
                let generation = self.resource_owner(&p.uri).ok_or_else(|| {
                    ErrorData::resource_not_found(
                        format!("Resource not found: {}", p.uri),
                        Some(serde_json::json!({"uri": p.uri})),
                    )
                })?;
                self.call_plugin(&generation, id, "resources/read", params, ctx)
                    .await
            }
            "resources/subscribe" | "resources/unsubscribe" => {
                let p: UriParams = jsonrpc::params(params)?;
                let generation = self.resource_owner(&p.uri);
                if method == "resources/subscribe" {
                    ctx.session.subscribe(&p.uri);
                } else {
                    ctx.session.unsubscribe(&p.uri);
                }
                match generation {
                    Some(g) if g.manifest.capabilities.subscribe => {
                        self.call_plugin(&g, id, method, params, ctx).await
                    }
                    _ => Ok("{}".into()),
                }
            }
            "prompts/list" => {
                let p: PageParams = jsonrpc::params(params)?;
                let cat = self.registry.catalog();
                let all: Vec<_> = cat.prompts.iter().map(|(_, p)| p.clone()).collect();
                let (items, next) = page(&all, p.cursor.as_deref())?;
                let mut r = ListPromptsResult::with_all_items(items);
                r.result_type = None;
                r.next_cursor = next;
                json(&r)
            }
            "prompts/get" => {
                let p: NamedParams = jsonrpc::params(params)?;
                let generation = {
                    let cat = self.registry.catalog();
                    cat.prompt(&p.name).map(|(_, g)| g.clone())
                };
                let generation = generation.ok_or_else(|| {
                    ErrorData::invalid_params(format!("Unknown prompt: {}", p.name), None)
                })?;
                self.call_plugin(&generation, id, method, params, ctx).await
            }
            "completion/complete" => self.complete(id, params, ctx).await,
            m if skills::METHODS.contains(&m) => self.skills_method(m, params),
            m if tasks::HANDSHAKE_METHODS.contains(&m)
                && ctx.session.version_cmp(tasks::FIRST_VERSION).is_ge() =>
            {
                self.task_method_handshake(m, params, ctx).await
            }
            "logging/setLevel" => {
                #[derive(Deserialize)]
                struct P {
                    level: String,
                }
                let p: P = jsonrpc::params(params)?;
                let level = level_index(&p.level).ok_or_else(|| {
                    ErrorData::invalid_params(format!("Unknown log level: {:?}", p.level), None)
                })?;
                ctx.session.set_log_level(level);
                Ok("{}".into())
            }
            _ => Err(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("Method not found: {method}"),
                None,
            )),
        }
    }

    /// Protocol 2026-07-28: no handshake methods, decorated results, MRTR for tools, and
    /// `-32602` for a resource that does not exist.
    async fn dispatch_per_request(
        &self,
        id: &RequestId,
        method: &str,
        params: Option<&RawValue>,
        ctx: &RequestCtx,
    ) -> Reply {
        match method {
            "server/discover" => {
                let discover = tasks::wire::advertise_extension(&per_request::discover());
                Ok(if self.serves_skills() {
                    skills::advertise(&discover)
                } else {
                    discover
                })
            }
            m if tasks::EXTENSION_METHODS.contains(&m) => self
                .task_method_extension(m, params, ctx)
                .await
                .map(|r| per_request::decorate(m, &r)),
            m if !per_request::METHODS.contains(&m) || m == "subscriptions/listen" => {
                Err(ErrorData::new(
                    ErrorCode::METHOD_NOT_FOUND,
                    format!("Method not found: {method}"),
                    None,
                ))
            }
            _ => match self.dispatch(id, method, params, ctx).await {
                Ok(r) => Ok(per_request::decorate(method, &r)),
                Err(mut e) => {
                    if e.code == ErrorCode::RESOURCE_NOT_FOUND {
                        e.code = ErrorCode::INVALID_PARAMS;
                    }
                    Err(e)
                }
            },
        }
    }

    /// Sends `notifications/resources/updated` for `uri` to every session subscribed to it
    /// (on its GET stream) and every 2026-07-28 listener that asked for it.
    pub(crate) fn resource_updated(&self, uri: &str) {
        let note = jsonrpc::notification(
            "notifications/resources/updated",
            &serde_json::json!({"uri": uri}),
        );
        for session in self.sessions.all() {
            if session.is_subscribed(uri) {
                session.send_standalone(note.clone());
            }
        }
        self.listeners.resource_updated(uri);
    }

    /// Fans out resource updates reported by plugins, and serves the list changes of task
    /// calls, until the service is dropped.
    pub(crate) async fn run_updates(self: std::sync::Arc<Self>) {
        let rx = self
            .updates_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let relists = self
            .relists_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let (Some(mut rx), Some(mut relists)) = (rx, relists) else {
            return;
        };
        let weak = std::sync::Arc::downgrade(&self);
        drop(self);
        loop {
            tokio::select! {
                Some(uri) = rx.recv() => match weak.upgrade() {
                    Some(service) => service.resource_updated(&uri),
                    None => return,
                },
                Some(generation) = relists.recv() => match weak.upgrade() {
                    Some(service) => service.relist(&generation),
                    None => return,
                },
                else => return,
            }
        }
    }

    /// Tells every session with an open stream which lists changed after a reload.
    pub(crate) fn broadcast_list_changed(&self, changes: crate::plugin::Changes) {
        let mut methods = Vec::new();
        if changes.tools {
            methods.push("notifications/tools/list_changed");
        }
        if changes.resources {
            methods.push("notifications/resources/list_changed");
        }
        if changes.prompts {
            methods.push("notifications/prompts/list_changed");
        }
        if methods.is_empty() {
            return;
        }
        self.listeners.broadcast(&methods);
        let empty = serde_json::json!({});
        for session in self.sessions.all() {
            for m in &methods {
                session.send_standalone(jsonrpc::notification(m, &empty));
            }
        }
    }

    /// Handles a notification from the client.
    pub(crate) fn handle_notification(
        &self,
        method: &str,
        params: Option<&RawValue>,
        session: &Session,
    ) {
        match method {
            "notifications/cancelled" => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct P {
                    request_id: RequestId,
                }
                if let Ok(p) = jsonrpc::params::<P>(params) {
                    let found = session.cancel_request(&p.request_id);
                    tracing::debug!(request = ?p.request_id, found, "client cancelled a request");
                }
            }
            "notifications/initialized" | "notifications/roots/list_changed" => {}
            other => tracing::debug!(method = other, "ignored notification"),
        }
    }

    fn initialize(&self, params: Option<&RawValue>, session: &Session) -> Reply {
        let p: InitializeRequestParams = jsonrpc::params(params)?;
        let requested = p.protocol_version.to_string();
        let version = if HANDSHAKE_VERSIONS.contains(&requested.as_str()) {
            requested
        } else {
            LATEST_HANDSHAKE.to_string()
        };
        session.set_negotiated(Negotiated {
            protocol_version: version.clone(),
            client_capabilities: Some(p.capabilities),
            client_info: Some(p.client_info),
        });
        let mut result = InitializeResult::new(capabilities())
            .with_server_info(server_info())
            .with_protocol_version(
                serde_json::from_value(serde_json::Value::String(version))
                    .map_err(|e| ErrorData::internal_error(e.to_string(), None))?,
            );
        result.instructions = None;
        let mut reply = json(&result)?;
        if session.version_cmp(tasks::FIRST_VERSION).is_ge() {
            reply = tasks::wire::advertise_handshake(&reply);
        }
        if self.serves_skills() {
            reply = skills::advertise(&reply);
        }
        Ok(reply)
    }

    fn list_tools(&self, params: Option<&RawValue>, caller: Option<&Caller>) -> Reply {
        let p: PageParams = jsonrpc::params(params)?;
        let cat = self.registry.catalog();
        let visible: Vec<&ToolEntry> = cat
            .tools
            .iter()
            .map(|(_, e)| e)
            .filter(|e| allowed(&e.access, caller))
            .collect();
        let (items, next) = page(&visible, p.cursor.as_deref())?;
        let support: Vec<_> = items.iter().map(|e| e.task_support).collect();
        let mut r =
            ListToolsResult::with_all_items(items.into_iter().map(|e| e.tool.clone()).collect());
        r.result_type = None;
        r.next_cursor = next;
        Ok(tasks::wire::with_execution(&json(&r)?, &support))
    }

    async fn complete(&self, id: &RequestId, params: Option<&RawValue>, ctx: &RequestCtx) -> Reply {
        #[derive(Deserialize)]
        struct Ref {
            #[serde(rename = "type")]
            kind: String,
            name: Option<String>,
            uri: Option<String>,
        }
        #[derive(Deserialize)]
        struct P {
            #[serde(rename = "ref")]
            reference: Ref,
        }
        let p: P = jsonrpc::params(params)?;
        let owner = {
            let cat = self.registry.catalog();
            match p.reference.kind.as_str() {
                "ref/prompt" => {
                    let name = p.reference.name.unwrap_or_default();
                    match cat.prompt(&name) {
                        Some((_, g)) => Some(g.clone()),
                        None => {
                            return Err(ErrorData::invalid_params(
                                format!("Unknown prompt: {name}"),
                                None,
                            ));
                        }
                    }
                }
                "ref/resource" => {
                    let uri = p.reference.uri.unwrap_or_default();
                    cat.resource_templates
                        .iter()
                        .find(|(_, t)| t.uri_template == uri)
                        .and_then(|(slot, _)| cat.generation(*slot).cloned())
                }
                other => {
                    return Err(ErrorData::invalid_params(
                        format!("Unknown reference type: {other}"),
                        None,
                    ));
                }
            }
        };
        match owner {
            Some(g) if g.manifest.capabilities.completions => {
                self.call_plugin(&g, id, "completion/complete", params, ctx)
                    .await
            }
            _ => Ok(r#"{"completion":{"values":[],"total":0,"hasMore":false}}"#.into()),
        }
    }

    /// The generation serving a resource URI: a static resource, else a matching template.
    fn resource_owner(&self, uri: &str) -> Option<Arc<Generation>> {
        let cat = self.registry.catalog();
        if let Some((_, g)) = cat.resource(uri) {
            return Some(g.clone());
        }
        cat.resource_templates
            .iter()
            .find(|(_, t)| super::uri_template::matches(&t.uri_template, uri))
            .and_then(|(slot, _)| cat.generation(*slot).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_page_with_cursors() {
        let items: Vec<usize> = (0..250).collect();
        let (first, next) = page(&items, None).unwrap();
        assert_eq!((first.len(), next.as_deref()), (PAGE_SIZE, Some("100")));
        let (second, next) = page(&items, next.as_deref()).unwrap();
        assert_eq!((second[0], next.as_deref()), (100, Some("200")));
        let (last, next) = page(&items, next.as_deref()).unwrap();
        assert_eq!((last.len(), next), (50, None));
        assert_eq!(
            page(&items, Some("nope")).unwrap_err().code,
            ErrorCode::INVALID_PARAMS
        );
        assert!(page(&items, Some("999")).is_err());
    }
}
