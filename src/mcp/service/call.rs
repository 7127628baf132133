//! Running plugin requests: tool calls with their timeout, progress token and (for protocol
//! 2026-07-28) multi round-trip inputs, and the mapping of plugin outcomes to MCP replies.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rmcp::model::{ErrorData, ProgressToken, RequestId};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::context::{PluginContext, build_request};
use super::lookup::{FoundTool, MissingScopes, NoTool, Runner};
use super::outcome::{CallEnd, ReplyChecks, invalid_reply};
use super::round::RoundStart;
use super::scan::leading_call;
use super::{Reply, RequestCtx, Service};
use crate::auth::Caller;
use crate::mcp::jsonrpc;
use crate::mcp::mrtr;
use crate::mcp::sink::BufferedSink;
use crate::mcp::sink::{PerRequestCall, RequestSink};
use crate::plugin::inline::InlineGate;
use crate::plugin::manifest::TaskSupport;
use crate::plugin::reply::check_result;
use crate::plugin::request::{PluginRequest, ToolRequest};
use crate::plugin::{CallOutcome, CallSink, Generation, NullSink};

/// The `_meta` of a `tools/call` or `prompts/get`: what the host itself reads there.
#[derive(Deserialize, Default)]
pub(super) struct CallMeta {
    #[serde(rename = "progressToken")]
    pub(super) progress_token: Option<ProgressToken>,
}

/// The params of `tools/call` and `prompts/get`, read in one pass: the plugin gets the name
/// and the raw arguments located (`PluginTable::call_tool`), and parses nothing else.
#[derive(Deserialize)]
pub(super) struct NamedParams<'a> {
    #[serde(borrow)]
    pub(super) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) arguments: Option<&'a RawValue>,
    /// A 2025-11-25 client's request to run the call as a task.
    #[serde(default)]
    pub(super) task: Option<serde_json::Value>,
    #[serde(rename = "_meta", default)]
    pub(super) meta: Option<CallMeta>,
}

/// The plugin request for a `tools/call` of `name` with these raw arguments.
fn tool_request(
    params: &RawValue,
    name: &str,
    arguments: Option<&str>,
    context: &PluginContext<'_>,
) -> PluginRequest {
    let write_context = |out: &mut Vec<u8>| context.write_json(out);
    PluginRequest::Tool(ToolRequest::new(params, name, arguments, write_context))
}

/// A `tools/call` as the inline fast path sees it: borrowed from the request, nothing copied.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InlineCall<'a> {
    /// The JSON-RPC id.
    pub(crate) id: &'a RequestId,
    /// The raw `params`.
    pub(crate) params: Option<&'a RawValue>,
    /// The protocol version the request speaks (header or session).
    pub(crate) protocol_version: &'a str,
    /// The session, in stateful mode.
    pub(crate) session_id: Option<&'a str>,
    /// The authenticated caller.
    pub(crate) caller: Option<&'a Caller>,
}

/// The answer of a call served on the inline path.
#[derive(Debug)]
pub(crate) struct InlineAnswer {
    /// The JSON-RPC response.
    pub(crate) response: String,
    /// What the tool sent before it returned (an `inlineContext` tool's notifications), to go
    /// out first: with any, the answer is an SSE stream.
    pub(crate) messages: Vec<String>,
}

impl Service {
    /// Answers a `tools/call` on this thread when its tool runs inline, with the whole
    /// JSON-RPC response: no session object, no response stream, no hand-off to another
    /// thread. `None` leaves the request to the full path: a tool that is not inline (or not
    /// there, or not allowed), params that do not parse, inline calls turned off, or protocol
    /// 2026-07-28 (which decorates results).
    pub(crate) fn try_call_inline(&self, call: InlineCall<'_>) -> Option<InlineAnswer> {
        if !self.options.inline_tools || call.protocol_version == crate::mcp::protocol::REVISION {
            return None;
        }
        let params = call.params?;
        // A call that may ask for a task takes the full path, which decides (a `"task"` in
        // the arguments only costs this call the fast path).
        if call.protocol_version >= crate::mcp::tasks::FIRST_VERSION
            && params.get().contains("\"task\"")
        {
            return None;
        }
        let parsed;
        let (name, arguments) = match leading_call(params.get()) {
            Some(found) => found,
            None => {
                parsed = jsonrpc::params::<NamedParams>(Some(params)).ok()?;
                (&*parsed.name, parsed.arguments.map(RawValue::get))
            }
        };
        // Without a session nothing can be asked of the client, so a tool with a context that
        // may run inline ("inlineContext") can run here, its notifications collected.
        let stateless = call.session_id.is_none();
        self.with_tool(name, call.caller, stateless, |entry, generation, runner| {
            // A task-supporting tool may be asked for a task: the full path decides.
            let Runner::Inline(_permit) = runner else {
                return None;
            };
            if entry.task_support != TaskSupport::Forbidden {
                return None;
            }
            let context =
                PluginContext::new(call.protocol_version, call.session_id, call.caller, call.id);
            let request = tool_request(params, name, arguments, &context);
            let buffered = entry.inline_context.then(|| {
                let token = serde_json::from_str::<MetaOnly>(params.get())
                    .ok()
                    .and_then(|m| m.meta)
                    .and_then(|m| m.progress_token);
                BufferedSink::new(token, self.updates.clone())
            });
            let sink: &dyn CallSink = match &buffered {
                Some(b) => b,
                None => &NullSink,
            };
            let (end, took) = self.run_inline(generation, name, &entry.inline, &request, sink);
            let checks = ReplyChecks::of(entry, generation);
            let (reply, label) = self.tool_reply(name, end, &checks);
            self.record_call(name, generation, call.session_id, took, label, true);
            Some(InlineAnswer {
                response: match reply {
                    Ok(raw) => jsonrpc::response_raw(call.id, &raw),
                    Err(e) => jsonrpc::error(Some(call.id), &e),
                },
                messages: buffered.map(|b| b.take()).unwrap_or_default(),
            })
        })
        .ok()?
    }

    /// A `tools/call` on the full path: one parse of the params and one catalog lookup decide
    /// between a refusal, a task and an ordinary call. `Err` only for a caller who lacks the
    /// tool's scopes, which the transport answers (see [`MissingScopes`]).
    pub(super) async fn call_tool(
        &self,
        id: &RequestId,
        params: Option<&RawValue>,
        ctx: &RequestCtx,
    ) -> Result<Reply, MissingScopes> {
        let p: NamedParams = match jsonrpc::params(params) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let found = self.with_tool(&p.name, ctx.caller.as_ref(), false, |e, g, runner| {
            FoundTool {
                generation: g.clone(),
                inline: e.inline.clone(),
                runner,
                output_check: e.output_check.clone(),
                task_support: e.task_support,
                input_before_task: e.input_before_task,
            }
        });
        let found = match found {
            Ok(found) => found,
            Err(NoTool::Denied(scopes)) => return Err(MissingScopes(scopes)),
            Err(NoTool::Unknown) => {
                let unknown = format!("Unknown tool: {}", p.name);
                return Ok(Err(ErrorData::invalid_params(unknown, None)));
            }
        };
        // Params that parse as `NamedParams` are an object, so they are there.
        let Some(raw_params) = params else {
            return Ok(Err(ErrorData::invalid_params("Missing params", None)));
        };
        Ok(
            match self.task_call(id, raw_params, &p, &found, ctx).await {
                Ok(Some(created)) => Ok(created),
                Ok(None) => self.run_tool(id, raw_params, p, found, ctx).await,
                Err(e) => Err(e),
            },
        )
    }

    /// Runs a `tools/call` that is not a task, on the runner its lookup chose.
    async fn run_tool(
        &self,
        id: &RequestId,
        raw_params: &RawValue,
        mut p: NamedParams<'_>,
        found: FoundTool,
        ctx: &RequestCtx,
    ) -> Reply {
        let FoundTool {
            generation,
            inline,
            runner,
            output_check,
            ..
        } = found;
        let token = p.meta.take().and_then(|m| m.progress_token);
        let round = match self.mrtr_round("tools/call", Some(raw_params), ctx)? {
            RoundStart::Ask(reply) => return Ok(reply),
            RoundStart::Run(round) => Some(round),
            RoundStart::Classic => None,
        };
        let started = Instant::now();
        let version = ctx.protocol.protocol_version();
        let arguments = p.arguments.map(RawValue::get);
        let context = PluginContext::of(ctx, &version, id);
        let request = tool_request(raw_params, &p.name, arguments, &context);
        let run_inline = matches!(runner, Runner::Inline(_));
        let outcome = if run_inline {
            self.run_inline(&generation, &p.name, &inline, &request, &NullSink)
                .0
        } else {
            let setup = CallSetup {
                progress_token: token,
                per_request_call: round.as_ref().map(|r| r.call.clone()),
                is_async: matches!(runner, Runner::Async),
            };
            self.run(&generation, id, request, ctx, setup).await
        };
        let caller = ctx.caller.as_ref().map(|c| c.id.as_str());
        let bind = || crate::mcp::mrtr::binding(caller, "tools/call", Some(raw_params));
        let finished = round
            .as_ref()
            .and_then(|r| r.finish(&self.mrtr, &outcome, bind));
        let (reply, label) = match (finished, outcome) {
            (Some(reply), _) => (reply, "input_required"),
            (None, other) => {
                let checks = ReplyChecks {
                    plugin: &generation.manifest.name,
                    output: output_check.as_deref(),
                };
                self.tool_reply(&p.name, other, &checks)
            }
        };
        let session = ctx.protocol.session_id();
        let took = started.elapsed();
        self.record_call(&p.name, &generation, session, took, label, run_inline);
        reply
    }

    pub(super) async fn call_plugin(
        &self,
        generation: &Arc<Generation>,
        id: &RequestId,
        method: &str,
        params: Option<&RawValue>,
        ctx: &RequestCtx,
    ) -> Reply {
        let token = params
            .and_then(|p| serde_json::from_str::<MetaOnly>(p.get()).ok())
            .and_then(|m| m.meta)
            .and_then(|m| m.progress_token);
        let round = match mrtr::METHODS.iter().find(|m| **m == method) {
            Some(m) => match self.mrtr_round(m, params, ctx)? {
                RoundStart::Ask(reply) => return Ok(reply),
                RoundStart::Run(round) => Some(round),
                RoundStart::Classic => None,
            },
            None => None,
        };
        let setup = CallSetup {
            progress_token: token,
            per_request_call: round.as_ref().map(|r| r.call.clone()),
            is_async: false,
        };
        let version = ctx.protocol.protocol_version();
        let context = PluginContext::of(ctx, &version, id);
        let request = PluginRequest::Json(build_request(method, params, &context));
        let end = self.run(generation, id, request, ctx, setup).await;
        let caller = ctx.caller.as_ref().map(|c| c.id.as_str());
        let bind = || crate::mcp::mrtr::binding(caller, method, params);
        if let Some(reply) = round
            .as_ref()
            .and_then(|r| r.finish(&self.mrtr, &end, bind))
        {
            return reply;
        }
        match end {
            CallEnd::Returned(CallOutcome::Ok(raw)) => match check_result(method, &raw) {
                Ok(()) => Ok(raw),
                Err(problem) => Err(invalid_reply(&generation.manifest.name, method, &problem)),
            },
            other => self.outcome_error(other),
        }
    }

    /// Runs a tool call on this thread (the tool's manifest says `inline`). A slow call held up
    /// every request queued on this thread: the tool's gate decides whether its later calls go
    /// to the worker threads ([`crate::plugin::inline`]). Also returns how long the call took.
    fn run_inline(
        &self,
        generation: &Generation,
        tool: &str,
        inline: &InlineGate,
        request: &PluginRequest,
        sink: &dyn CallSink,
    ) -> (CallEnd, Duration) {
        let started = Instant::now();
        let outcome = generation.call_inline(request, sink);
        let took = started.elapsed();
        self.relist(generation);
        if let Some(why) = inline.record(took) {
            tracing::warn!(
                tool,
                plugin = %generation.manifest.name,
                took_ms = took.as_secs_f64() * 1000.0,
                why = why.as_str(),
                "inline calls of this tool take too long; its later calls run on worker threads \
                 (mark it #[tool(blocking)] to start there)"
            );
        }
        (CallEnd::Returned(outcome), took)
    }

    /// Runs one plugin request with the tool timeout, registering it for cancellation.
    async fn run(
        &self,
        generation: &Arc<Generation>,
        id: &RequestId,
        request: PluginRequest,
        ctx: &RequestCtx,
        setup: CallSetup,
    ) -> CallEnd {
        let CallSetup {
            progress_token,
            per_request_call,
            is_async,
        } = setup;
        let sink = Arc::new(RequestSink {
            protocol: ctx.protocol.clone(),
            outbound: ctx.outbound.clone(),
            progress_token,
            // 2026-07-28 sends nothing to the client on a response stream: only tool calls
            // ask it things, through multi round-trip requests (`per_request`).
            can_request: !self.options.stateless
                && ctx.outbound.is_some()
                && !ctx.protocol.is_per_request(),
            per_request: per_request_call,
            updates: Some(self.updates.clone()),
        });
        // Only a stored session can receive `notifications/cancelled` for this id.
        let session = ctx.protocol.session();
        let tracked = session.is_some();
        if let Some(session) = session {
            session.begin_request(id, ctx.cancel.clone());
        }
        let cancel = ctx.cancel.clone();
        let call = async move {
            match request {
                // Awaited without a thread; a dropped future (timeout, disconnect) cancels it.
                // Only a stored session's flag can be set by someone else meanwhile.
                PluginRequest::Tool(tool) if is_async => {
                    Ok(generation.call_async(&tool, sink, cancel, tracked).await)
                }
                request => generation.call(request, sink, cancel).await,
            }
        };
        let end = match tokio::time::timeout(self.options.tool_timeout, call).await {
            Ok(Ok(outcome)) => CallEnd::Returned(outcome),
            Ok(Err(_)) => CallEnd::ShutDown,
            Err(_) => {
                ctx.cancel.store(true, Ordering::Relaxed);
                CallEnd::TimedOut(self.options.tool_timeout)
            }
        };
        if let Some(session) = session {
            session.end_request(id);
        }
        self.relist(generation);
        end
    }

    /// Serves the lists `generation`'s last call changed (`HostContext::set_listed`), and
    /// tells clients, before that call is answered: its caller's next list sees the change.
    /// One atomic load when nothing changed.
    pub(super) fn relist(&self, generation: &Generation) {
        match self.registry.relist(generation) {
            Ok(changes) => self.broadcast_list_changed(changes),
            Err(e) => tracing::warn!(
                plugin = %generation.manifest.name,
                error = %e,
                "a plugin's list change was refused"
            ),
        }
    }
}

#[derive(Deserialize)]
struct MetaOnly {
    #[serde(rename = "_meta")]
    meta: Option<CallMeta>,
}

/// How a plugin request runs, beyond the request itself: where its progress goes, the
/// rounds of a 2026-07-28 call, and on which path (worker thread or async call).
struct CallSetup {
    /// The request's `_meta.progressToken`.
    progress_token: Option<ProgressToken>,
    /// For protocol 2026-07-28: the answers of earlier rounds.
    per_request_call: Option<Arc<PerRequestCall>>,
    /// A tool the plugin runs as an async call (`start_tool`), not on a worker thread.
    is_async: bool,
}
