//! The MCP method handlers, shared by every transport and both modes.
//!
//! A transport parses a message with [`super::jsonrpc`], finds the request's protocol state
//! (its stored [`Session`], or the request's own: [`ProtocolState`]), and hands requests to
//! [`Service::handle_request`] with a [`RequestCtx`] that says where related messages
//! (progress, logs, server-to-client requests) may go. Plugin calls go through the
//! [`Registry`]'s current catalog; nothing here depends on HTTP.
//!
//! A [`Service`] is built once by [`Service::new`] from its [`ServiceOptions`] and the
//! [`Stores`] its state lives in, and never changes after. The list methods are in [`lists`],
//! notifications in [`notify`], a tool call in [`call`] and its reply in [`outcome`], the
//! rounds of a 2026-07-28 multi round-trip request in [`round`].

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use rmcp::model::{ErrorCode, ErrorData, InitializeRequestParams, InitializeResult, RequestId};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::jsonrpc;
use super::per_request;
use super::protocol::{HANDSHAKE_VERSIONS, LATEST_HANDSHAKE, capabilities, server_info};
use super::session::{Negotiated, Session, SessionStore, level_index};
use super::state::ProtocolState;
use super::tasks;
use crate::auth::Caller;
use crate::plugin::manifest::Access;
use crate::plugin::{Generation, Registry};

mod call;
mod context;
mod lists;
mod lookup;
mod notify;
mod outcome;
mod round;
mod scan;
pub(crate) mod skills;
mod task_call;
mod task_input;
mod task_job;
mod task_progress;
use call::NamedParams;
pub(crate) use call::{InlineAnswer, InlineCall};
use lists::{PAGE_SIZE, PageParams, page};
pub(crate) use lookup::MissingScopes;
pub(crate) use outcome::panic_text;

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
}

/// Where a service keeps its state, chosen by whoever builds it (memory, or Redis shared with
/// other instances).
#[derive(Debug)]
pub(crate) struct Stores {
    /// Sessions of a stateful server.
    pub(crate) sessions: SessionStore,
    /// Tool calls run as tasks.
    pub(crate) tasks: Arc<super::tasks::Tasks>,
    /// The key that seals `requestState` for 2026-07-28 multi round-trip requests.
    pub(crate) mrtr: super::mrtr::Mrtr,
}

/// Where one request's related messages go, and its cancellation flag.
#[derive(Debug)]
pub(crate) struct RequestCtx {
    /// The client's protocol state: its stored session, or the request's own.
    pub(crate) protocol: ProtocolState,
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
    registry: Arc<Registry>,
    /// Live sessions (stateful mode).
    sessions: SessionStore,
    /// Settings.
    options: ServiceOptions,
    /// Seals `requestState` for 2026-07-28 multi round-trip requests.
    mrtr: super::mrtr::Mrtr,
    /// Open `subscriptions/listen` streams (2026-07-28).
    listeners: super::listen::Listeners,
    /// URIs of resources a plugin reported as updated, for [`Service::resource_updated`].
    updates: tokio::sync::mpsc::UnboundedSender<String>,
    /// The receiving end, taken once by the task that fans updates out.
    updates_rx: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<String>>>,
    /// Tool calls run as tasks.
    tasks: Arc<super::tasks::Tasks>,
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

fn error_result(text: &str) -> String {
    serde_json::json!({"content": [{"type": "text", "text": text}], "isError": true}).to_string()
}

impl Service {
    /// The plugins being served.
    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Live sessions (stateful mode).
    pub(crate) fn sessions(&self) -> &SessionStore {
        &self.sessions
    }

    /// Settings.
    pub(crate) fn options(&self) -> &ServiceOptions {
        &self.options
    }

    /// Open `subscriptions/listen` streams (2026-07-28).
    pub(crate) fn listeners(&self) -> &super::listen::Listeners {
        &self.listeners
    }

    /// A service for `registry`, keeping its state in `stores`. The only constructor: nothing
    /// about a service changes once it is built.
    pub(crate) fn new(registry: Arc<Registry>, options: ServiceOptions, stores: Stores) -> Service {
        let (updates, updates_rx) = tokio::sync::mpsc::unbounded_channel();
        let (relists, relists_rx) = tokio::sync::mpsc::unbounded_channel();
        Service {
            registry,
            sessions: stores.sessions,
            options,
            mrtr: stores.mrtr,
            listeners: super::listen::Listeners::default(),
            updates,
            updates_rx: std::sync::Mutex::new(Some(updates_rx)),
            tasks: stores.tasks,
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
        let per_request = ctx.protocol.is_per_request();
        // The other methods are boxed: their futures are twice the size of a tool call's
        // (3.1-3.2 KiB against 1.7 KiB in a release build), and unboxed they would size every
        // in-flight call's future to them.
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
            Box::pin(self.dispatch_per_request(id, method, params, ctx)).await
        } else {
            Box::pin(self.dispatch(id, method, params, ctx)).await
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
            "initialize" => self.initialize(params, ctx.protocol.session()),
            "ping" => Ok("{}".into()),
            "tools/list" => self.list_tools(params, ctx.caller.as_ref()),
            "resources/list" => self.list_resources(params),
            "resources/templates/list" => self.list_resource_templates(params),
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
                self.subscription(id, method, params, ctx).await
            }
            "prompts/list" => self.list_prompts(params),
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
                && ctx.protocol.version_cmp(tasks::FIRST_VERSION).is_ge() =>
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
                // A request without a session has no later messages for a level to filter.
                if let Some(session) = ctx.protocol.session() {
                    session.set_log_level(level);
                }
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

    /// `resources/subscribe` and `resources/unsubscribe`: noted in the session, and passed on
    /// to the resource's plugin when it handles subscriptions.
    async fn subscription(
        &self,
        id: &RequestId,
        method: &str,
        params: Option<&RawValue>,
        ctx: &RequestCtx,
    ) -> Reply {
        let p: UriParams = jsonrpc::params(params)?;
        let generation = self.resource_owner(&p.uri);
        // Updates go out on a session's stream: without one, nothing to remember.
        if let Some(session) = ctx.protocol.session() {
            if method == "resources/subscribe" {
                session.subscribe(&p.uri);
            } else {
                session.unsubscribe(&p.uri);
            }
        }
        match generation {
            Some(g) if g.manifest.capabilities.subscribe => {
                self.call_plugin(&g, id, method, params, ctx).await
            }
            _ => Ok("{}".into()),
        }
    }

    /// Answers `initialize`, recording what it negotiated in the stored `session`, if any
    /// (without one, the answer is all that is left of it).
    fn initialize(&self, params: Option<&RawValue>, session: Option<&Arc<Session>>) -> Reply {
        let p: InitializeRequestParams = jsonrpc::params(params)?;
        let requested = p.protocol_version.to_string();
        let version = if HANDSHAKE_VERSIONS.contains(&requested.as_str()) {
            requested
        } else {
            LATEST_HANDSHAKE.to_string()
        };
        let has_tasks = version.as_str() >= tasks::FIRST_VERSION;
        if let Some(session) = session {
            session.set_negotiated(Negotiated {
                protocol_version: version.clone(),
                client_capabilities: Some(p.capabilities),
                client_info: Some(p.client_info),
            });
        }
        let mut result = InitializeResult::new(capabilities())
            .with_server_info(server_info())
            .with_protocol_version(
                serde_json::from_value(serde_json::Value::String(version))
                    .map_err(|e| ErrorData::internal_error(e.to_string(), None))?,
            );
        result.instructions = None;
        let mut reply = json(&result)?;
        if has_tasks {
            reply = tasks::wire::advertise_handshake(&reply);
        }
        if self.serves_skills() {
            reply = skills::advertise(&reply);
        }
        Ok(reply)
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
