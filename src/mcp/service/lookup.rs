//! Finding the tool a `tools/call` names: one catalog lookup per call says whether the caller
//! may use it (or which scopes it lacks), how the call runs and whether it may be a task.

use std::sync::Arc;

use rmcp::model::ErrorData;

use super::{Service, allowed};
use crate::auth::Caller;
use crate::plugin::Generation;
use crate::plugin::inline::{InlineGate, InlinePermit};
use crate::plugin::manifest::TaskSupport;
use crate::plugin::manifest::ToolEntry;

/// A `tools/call` the service did not run because the authenticated caller lacks scopes the
/// tool needs: the HTTP transport answers 403 `insufficient_scope` (the MCP scope challenge)
/// rather than letting it look like an unknown tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MissingScopes(pub(crate) Vec<String>);

impl MissingScopes {
    /// The JSON-RPC error of the refusal, the body of the 403 (and the whole answer on
    /// transports without HTTP statuses).
    pub(crate) fn error(&self) -> ErrorData {
        let message = format!(
            "Forbidden: this tool needs the scope(s) {}",
            self.0.join(" ")
        );
        ErrorData::new(rmcp::model::ErrorCode(-32000), message, None)
    }
}

/// Why [`Service::with_tool`] found nothing to run.
pub(super) enum NoTool {
    /// No such tool, or an anonymous caller may not use it.
    Unknown,
    /// The caller is authenticated but lacks these scopes.
    Denied(Vec<String>),
}

/// What one catalog lookup tells a `tools/call` about its tool.
pub(super) struct FoundTool {
    pub(super) generation: Arc<Generation>,
    pub(super) inline: Arc<InlineGate>,
    pub(super) runner: Runner,
    pub(super) output_check: Option<Arc<crate::plugin::schema::Schema>>,
    pub(super) task_support: TaskSupport,
    pub(super) input_before_task: bool,
}

impl FoundTool {
    /// The tool runs as an async call (`start_tool`), not on a thread.
    pub(super) fn is_async(&self) -> bool {
        matches!(self.runner, Runner::Async)
    }
}

/// How a tool's call runs, decided once per call by `Service::with_tool`.
pub(super) enum Runner {
    /// On the thread that read the request (a short call without a context), holding one of
    /// the process's inline slots until the call returns.
    Inline(InlinePermit),
    /// Started with `start_tool` and awaited without a thread (an async tool).
    Async,
    /// On the generation's worker threads.
    Workers,
}

impl Service {
    /// Looks the tool `name` up for `caller` and decides how its call runs: the one place
    /// that does either, for every transport. `use_it` sees the catalog's entry and generation
    /// without cloning them (the inline path must not pay for that).
    ///
    /// `context_inline`: whether a tool with a context may run inline for this request (it
    /// never waits for the client there: stateless requests on the inline path).
    pub(super) fn with_tool<R>(
        &self,
        name: &str,
        caller: Option<&Caller>,
        context_inline: bool,
        use_it: impl FnOnce(&ToolEntry, &Arc<Generation>, Runner) -> R,
    ) -> Result<R, NoTool> {
        let cat = self.registry.catalog();
        let (entry, generation) = cat.tool(name).ok_or(NoTool::Unknown)?;
        if !allowed(&entry.access, caller) {
            return Err(match caller {
                Some(_) => NoTool::Denied(entry.access.scopes.clone()),
                None => NoTool::Unknown,
            });
        }
        let runner = if entry.is_async && generation.starts_async() {
            Runner::Async
        } else if self.options.inline_tools
            // An isolated plugin's code runs in its child: the host awaits every call.
            && !generation.is_isolated()
            && (context_inline || !entry.inline_context)
            && let Some(permit) = entry.inline.try_enter()
        {
            Runner::Inline(permit)
        } else {
            Runner::Workers
        };
        Ok(use_it(entry, generation, runner))
    }
}
