//! `fastmcp __sandboxed-call --policy JSON PLUGIN TOOL [--args JSON]` (hidden): `call`, run
//! inside the sandbox of an isolated plugin. The policy is applied first, while the process
//! is single-threaded, as an isolated plugin's child does; then the plugin is loaded (its
//! runtime and worker threads inherit the sandbox) and the tool is called. With a CPU limit
//! the call is watched as a shared call ([`CpuWatch::start_shared_call`]), since it runs on a
//! worker thread, not this one. The tests drive the real kernel mechanisms through it.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::cli::SandboxedCallArgs;
use crate::config::{self, ConfigError};
use crate::plugin::PluginError;
use crate::sandbox::{self, CpuWatch, Policy, SandboxError};

/// Why a sandboxed call printed no result.
#[derive(Debug, thiserror::Error)]
pub enum SandboxedCallError {
    /// The sandbox could not be applied; the plugin was not loaded.
    #[error("cannot apply the sandbox: {0}")]
    Sandbox(#[from] SandboxError),
    /// The plugin could not be loaded (inside the sandbox).
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// A validated `__sandboxed-call` command line.
#[derive(Debug)]
pub struct SandboxedCall {
    policy: Policy,
    plugin: PathBuf,
    profile: String,
    tool: String,
    args: Map<String, Value>,
}

/// Parses the policy and the call's arguments.
pub fn prepare(args: &SandboxedCallArgs) -> Result<SandboxedCall, ConfigError> {
    let policy = Policy::from_json(&args.policy)
        .map_err(|reason| ConfigError::invalid("--policy", &args.policy, reason))?;
    Ok(SandboxedCall {
        policy,
        plugin: args.call.plugin.clone(),
        profile: config::resolve_profile(args.call.profile.clone(), config::env_vars())?,
        tool: args.call.tool.clone(),
        args: config::parse_tool_args(&args.call.args)?,
    })
}

impl SandboxedCall {
    /// Applies the policy, prints its report to stderr (`sandbox: {json}`), then makes the
    /// call. Returns the printed result and whether it is an error.
    pub fn run(self) -> Result<(String, bool), SandboxedCallError> {
        // Where `plugin::library` stages its copies: made now, written inside the sandbox.
        let copies = std::env::temp_dir().join(format!("fastmcp-{}", std::process::id()));
        std::fs::create_dir_all(&copies).map_err(|source| SandboxError::Path {
            path: copies.clone(),
            source,
        })?;
        let policy = self.policy.with_scratch_dir(&copies);
        let report = sandbox::apply(&policy)?;
        eprintln!(
            "sandbox: {}",
            serde_json::to_string(&report).unwrap_or_default()
        );
        let watch = policy
            .cpu_limit
            .map(CpuWatch::kill_on_overrun)
            .transpose()?;
        let _charged = watch.as_ref().map(|w| w.start_shared_call(1));
        let call = super::Call {
            plugin: &self.plugin,
            profile: &self.profile,
            isolation: &crate::plugin::isolate::Isolation::None,
        };
        Ok(super::call_tool(&call, &self.tool, self.args)?)
    }
}
