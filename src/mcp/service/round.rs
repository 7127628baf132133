//! The rounds of a 2026-07-28 multi round-trip request (MRTR) of `tools/call`,
//! `prompts/get` and `resources/read`: a retry's `requestState` opened, the client's answers
//! gathered, and an `InputRequiredResult` when the plugin asks for more.

use std::sync::Arc;

use rmcp::model::ErrorData;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::outcome::CallEnd;
use super::{Reply, RequestCtx, Service};
use crate::mcp::mrtr::Mrtr;
use crate::mcp::sink::PerRequestCall;
use crate::plugin::CallOutcome;

/// How a request that may need the client's input (MRTR) starts.
pub(super) enum RoundStart {
    /// Not protocol 2026-07-28: requests to the client go over the session, if any.
    Classic,
    /// Run the plugin with this round's answers.
    Run(Round),
    /// The retry left requests of the last round unanswered: ask them again, without
    /// running the plugin.
    Ask(String),
}

/// One 2026-07-28 round of a `tools/call`, `prompts/get` or `resources/read`.
pub(super) struct Round {
    method: &'static str,
    inputs: crate::mcp::mrtr::Inputs,
    /// What the plugin's requests are answered from.
    pub(super) call: Arc<PerRequestCall>,
}

impl Round {
    /// The reply when the plugin's run ended for want of input (an `InputRequiredResult`), met
    /// a malformed answer (-32602), or failed for want of a capability the client did not
    /// declare (-32021); `None` lets its outcome through.
    ///
    /// `bind` gives what a new `requestState` is bound to (caller, method, params): serialized
    /// only when a round asks for input, not on every call.
    pub(super) fn finish(
        &self,
        mrtr: &Mrtr,
        end: &CallEnd,
        bind: impl FnOnce() -> Vec<u8>,
    ) -> Option<Reply> {
        if let Some(error) = self.call.malformed() {
            return Some(Err(error));
        }
        if !matches!(end, CallEnd::Returned(CallOutcome::InputRequired)) {
            // The plugin failed after a request for an undeclared capability was refused.
            return self
                .call
                .missing_capabilities()
                .filter(|_| failed(end))
                .map(Err);
        }
        let asked = self.call.take_asked();
        let result = mrtr.input_required(self.method, &self.inputs, asked, &bind());
        Some(Ok(result))
    }
}

/// Whether a plugin run failed: an error result (`isError`) or a protocol error.
fn failed(end: &CallEnd) -> bool {
    #[derive(Deserialize)]
    struct IsError {
        #[serde(rename = "isError", default)]
        is_error: bool,
    }
    match end {
        CallEnd::Returned(CallOutcome::Ok(raw)) => {
            serde_json::from_str::<IsError>(raw).is_ok_and(|r| r.is_error)
        }
        CallEnd::Returned(CallOutcome::Error { .. }) => true,
        _ => false,
    }
}

impl Service {
    /// Opens the MRTR round of a 2026-07-28 `method` request: verifies its `requestState`
    /// and gathers the client's answers.
    pub(super) fn mrtr_round(
        &self,
        method: &'static str,
        params: Option<&RawValue>,
        ctx: &RequestCtx,
    ) -> Result<RoundStart, ErrorData> {
        if !ctx.protocol.is_per_request() {
            return Ok(RoundStart::Classic);
        }
        let caller = ctx.caller.as_ref().map(|c| c.id.as_str());
        // Only a retry that carries a `requestState` (or a round that asks) needs the binding.
        let bind = || crate::mcp::mrtr::binding(caller, method, params);
        let (inputs, missing) = self.mrtr.inputs(params, bind)?;
        if !missing.is_empty() {
            let reply = self.mrtr.input_required(method, &inputs, missing, &bind());
            return Ok(RoundStart::Ask(reply));
        }
        let caps = ctx.protocol.client_capabilities_json();
        let call = Arc::new(PerRequestCall::new(inputs.clone(), caps));
        Ok(RoundStart::Run(Round {
            method,
            inputs,
            call,
        }))
    }
}
