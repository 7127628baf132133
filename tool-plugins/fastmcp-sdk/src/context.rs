//! [`Context`]: what a tool can ask of the host during one call (progress, logging,
//! cancellation, who is calling, requests to the client).

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

use fastmcp_abi::{HostContext, STATUS_OK, STATUS_UNSUPPORTED};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The authenticated client making the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// The subject the host authenticated (for example a user id).
    pub id: String,
    /// The scopes the client was granted.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// The MCP log levels (RFC 5424 severities), lowest first; lowercase on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Detailed debugging information.
    Debug,
    /// Normal operation.
    Info,
    /// Normal but significant.
    Notice,
    /// Something may be wrong.
    Warning,
    /// An operation failed.
    Error,
    /// A component is failing.
    Critical,
    /// Action must be taken immediately.
    Alert,
    /// The system is unusable.
    Emergency,
}

/// Why a request to the client (sampling, elicitation, roots) did not return an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The client must answer first (protocol 2026-07-28 multi-round calls). Return from the
    /// tool (`?` does it); the host answers the client and replays the call with the answer.
    #[error("the client has to provide input before this call can continue")]
    InputRequired,
    /// The host cannot send this request here (no host, or a transport without a way back).
    #[error("not supported: {0}")]
    Unsupported(String),
    /// The call was cancelled while waiting for the answer.
    #[error("the call was cancelled")]
    Cancelled,
    /// The client answered with a JSON-RPC error.
    #[error("the client answered with error {code}: {message}")]
    Client {
        /// The JSON-RPC error code.
        code: i64,
        /// The client's message.
        message: String,
    },
}

/// The host side of one tool call. Tools receive it as `ctx: &Context`.
///
/// It is only valid during the call: its lifetime keeps it (and anything borrowed from it)
/// from outliving the call. Within the call it may be used from any thread, and across
/// `.await` in an async tool: it is `Send` and `Sync`, because the host's callbacks are
/// thread-safe (ABI 1.2).
///
/// Without a host ([`Context::detached`], or a call made with a null context) notifications are
/// dropped, the call is never cancelled, and requests fail with [`HostError::Unsupported`].
pub struct Context<'a> {
    host: Option<&'a HostContext>,
    /// The plugin's name, used as the `logger` of log messages.
    logger: &'a str,
    /// The request's `context` object as the host wrote it, read on first use: most tools
    /// never ask for it.
    raw_request: Option<&'a [u8]>,
    request: OnceLock<RequestContext<'a>>,
    /// Set when a request returned `STATUS_INPUT_REQUIRED`: the shim then returns that status
    /// whatever the tool returned, so a tool that swallowed the error is still replayed.
    input_required: AtomicBool,
    /// The call runs on the plugin's async runtime: a blocking request to the client first
    /// hands the runtime thread's other tasks to another thread (`block_in_place`).
    #[cfg(feature = "async")]
    in_runtime: bool,
    /// The plugin's runtime, for an `async fn` resource, template, prompt or completion, which
    /// runs to its end on the calling thread (`__private::block_on`).
    #[cfg(feature = "async")]
    runtime: Option<&'a crate::runtime::AsyncRuntime>,
}

// SAFETY: the only fields that are not `Send`/`Sync` are the borrowed `HostContext` (raw
// `data` pointer) and what points into it. The ABI makes every `HostContext` callback
// thread-safe and valid from any thread for as long as the call runs (until `call`/`call_tool`
// returns, or until an async call's completion), and the lifetime `'a` ends no later than that.
// The rest is `Sync` (`OnceLock`, `AtomicBool`, shared references to `str`).
unsafe impl Send for Context<'_> {}
// SAFETY: as for `Send`.
unsafe impl Sync for Context<'_> {}

/// The `context` object of a request (`docs/abi.md`); every key may be absent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestContext<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub protocol_version: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub session_id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub caller: Option<Caller>,
}

/// Deserializes an optional string without copying it unless it contains escapes.
fn borrowed<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Borrowed<'a>>::deserialize(deserializer)?.map(|b| b.0))
}

/// A message to the host: `{"method", "params"}`, and for a request the `key` the tool
/// names it by, if any.
#[derive(Serialize)]
struct Message<'a, P> {
    method: &'a str,
    params: P,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
}

#[derive(Serialize)]
struct ProgressParams<'a> {
    progress: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

#[derive(Serialize)]
struct LogParams<'a> {
    level: LogLevel,
    logger: &'a str,
    data: Value,
}

/// The error object that comes with `STATUS_ERROR` and `STATUS_UNSUPPORTED`.
#[derive(Deserialize)]
struct ErrorObject {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

impl Context<'static> {
    /// A context with no host behind it, for calling tool functions directly in unit tests.
    pub fn detached() -> Self {
        Context {
            host: None,
            logger: "",
            raw_request: None,
            request: OnceLock::from(RequestContext::default()),
            input_required: AtomicBool::new(false),
            #[cfg(feature = "async")]
            in_runtime: false,
            #[cfg(feature = "async")]
            runtime: None,
        }
    }
}

impl<'a> Context<'a> {
    /// The context of one call. A null `host`, or one whose version or size does not cover the
    /// ABI 1 fields ([`HostContext::V1_SIZE`]), counts as no host.
    ///
    /// # Safety
    /// A non-null `host` must point to a `HostContext` (at least its `abi_version` and `size`
    /// header) that stays valid, with working callbacks, for `'a`.
    pub(crate) unsafe fn new(
        host: *const HostContext,
        logger: &'a str,
        request: Option<&'a [u8]>,
    ) -> Self {
        let host = if host.is_null() {
            None
        } else {
            // SAFETY: non-null, and the caller guarantees it points to at least the header
            // (two u32s), which every ABI version starts with; the rest is read only below,
            // after `size` says it is there.
            let (abi_version, size) = unsafe { ((*host).abi_version, (*host).size) };
            // An older host's context may end before the appended fields, which are read only
            // after `size` says they are there (`HostContext::has_set_listed`).
            let v1 =
                abi_version == fastmcp_abi::ABI_VERSION && size as usize >= HostContext::V1_SIZE;
            // SAFETY: `size` covers every version-1 field of our `HostContext`, and the caller
            // guarantees the whole struct stays valid for `'a`.
            v1.then(|| unsafe { &*host })
        };
        Self {
            host,
            logger,
            raw_request: request,
            request: OnceLock::new(),
            input_required: AtomicBool::new(false),
            #[cfg(feature = "async")]
            in_runtime: false,
            #[cfg(feature = "async")]
            runtime: None,
        }
    }

    /// Marks the context of a call that runs on the plugin's async runtime.
    #[cfg(feature = "async")]
    pub(crate) fn in_runtime(mut self) -> Self {
        self.in_runtime = true;
        self
    }

    /// Gives the context the plugin's runtime, for async resources, prompts and completions.
    #[cfg(feature = "async")]
    pub(crate) fn with_runtime(mut self, runtime: &'a crate::runtime::AsyncRuntime) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// The plugin's runtime, if the call has one.
    #[cfg(feature = "async")]
    pub(crate) fn runtime(&self) -> Option<&'a crate::runtime::AsyncRuntime> {
        self.runtime
    }

    /// Reports progress; sent only if the client asked for progress on this request.
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        self.notify_with(
            "notifications/progress",
            ProgressParams {
                progress,
                total,
                message,
            },
        );
    }

    /// Sends a log message (`notifications/message`) with the plugin's name as the logger; the
    /// host drops it below the level the client set. `data` is any JSON, usually a string.
    pub fn log(&self, level: LogLevel, data: impl Into<Value>) {
        let params = LogParams {
            level,
            logger: self.logger,
            data: data.into(),
        };
        self.notify_with("notifications/message", params);
    }

    /// Logs at [`LogLevel::Debug`].
    pub fn debug(&self, data: impl Into<Value>) {
        self.log(LogLevel::Debug, data);
    }

    /// Logs at [`LogLevel::Info`].
    pub fn info(&self, data: impl Into<Value>) {
        self.log(LogLevel::Info, data);
    }

    /// Logs at [`LogLevel::Warning`].
    pub fn warning(&self, data: impl Into<Value>) {
        self.log(LogLevel::Warning, data);
    }

    /// Logs at [`LogLevel::Error`].
    pub fn error(&self, data: impl Into<Value>) {
        self.log(LogLevel::Error, data);
    }

    /// Whether the call was cancelled (client cancel, disconnect, timeout). Long tools should
    /// check it between steps and return early.
    pub fn is_cancelled(&self) -> bool {
        let Some(host) = self.host else { return false };
        // SAFETY: `host` was checked in `new` and is valid for `'a`; `data` is the host's own
        // pointer, handed back unchanged.
        unsafe { (host.is_cancelled)(host.data) != 0 }
    }

    /// The authenticated caller, if the host authenticated one.
    pub fn caller(&self) -> Option<&Caller> {
        self.request_context().caller.as_ref()
    }

    /// The request context, parsed the first time it is asked for. The host writes it, so a
    /// context that does not parse is treated as empty.
    fn request_context(&self) -> &RequestContext<'a> {
        self.request.get_or_init(|| {
            self.raw_request
                .and_then(|raw| serde_json::from_slice(raw).ok())
                .unwrap_or_default()
        })
    }

    /// The MCP protocol version negotiated with the client (empty if the host did not say).
    pub fn protocol_version(&self) -> &str {
        self.request_context()
            .protocol_version
            .as_deref()
            .unwrap_or("")
    }

    /// The MCP session id, absent in stateless mode.
    pub fn session_id(&self) -> Option<&str> {
        self.request_context().session_id.as_deref()
    }

    /// Sends a notification `{"method", "params"}` to the client; `false` if it was dropped.
    pub fn notify(&self, method: &str, params: Value) -> bool {
        self.notify_with(method, params)
    }

    /// Shows (`enabled`) or hides one of this plugin's tools, by name, in what the server lists
    /// and serves; clients are told the tool list changed (`notifications/tools/list_changed`)
    /// before this call is answered. A hidden tool cannot be called. Only tools the plugin
    /// declares can be shown again; a hot reload shows them all. `Unsupported` from a host
    /// older than ABI 1.3 (nothing changes then) or where lists cannot change (`fastmcp call`).
    pub fn set_tool_enabled(&self, name: &str, enabled: bool) -> Result<(), HostError> {
        self.set_listed(fastmcp_abi::LISTED_TOOL, "tool", name, enabled)
    }

    /// [`Context::set_tool_enabled`] for one of this plugin's prompts
    /// (`notifications/prompts/list_changed`).
    pub fn set_prompt_enabled(&self, name: &str, enabled: bool) -> Result<(), HostError> {
        self.set_listed(fastmcp_abi::LISTED_PROMPT, "prompt", name, enabled)
    }

    fn set_listed(&self, kind: u32, what: &str, name: &str, listed: bool) -> Result<(), HostError> {
        let unsupported =
            || HostError::Unsupported(format!("the host cannot change its {what} list"));
        let host = self.host.ok_or_else(unsupported)?;
        if !HostContext::has_set_listed(host.size) {
            return Err(unsupported());
        }
        // SAFETY: `host` is valid for `'a` (checked in `new`), its `size` covers `set_listed`
        // (checked above), and `name` outlives the callback.
        let status = unsafe {
            (host.set_listed)(host.data, kind, name.as_ptr(), name.len(), u8::from(listed))
        };
        match status {
            STATUS_OK => Ok(()),
            STATUS_UNSUPPORTED => Err(unsupported()),
            _ => Err(HostError::Client {
                code: -32602,
                message: format!("this plugin declares no {what} named {name:?}"),
            }),
        }
    }

    /// Tells the sessions subscribed to `uri` that the resource changed
    /// (`notifications/resources/updated`); see [`Plugin::with_subscribe`](crate::Plugin::with_subscribe).
    pub fn resource_updated(&self, uri: &str) -> bool {
        self.notify_with("notifications/resources/updated", json!({ "uri": uri }))
    }

    /// Ends the request's SSE response stream now while the call goes on (`fastmcp/closeStream`,
    /// SEP-1699 polling): a client that can resume reconnects and gets the result later. The
    /// host ignores it where streams cannot be resumed.
    pub fn close_stream(&self) -> bool {
        self.notify_with("fastmcp/closeStream", json!({}))
    }

    /// Resolves once the call is cancelled (client cancel, disconnect, timeout); never without
    /// a host. Only in async tools: it checks [`Context::is_cancelled`] on the runtime's timer
    /// every 50 ms.
    ///
    /// An async call that the host cancels is dropped at its next `.await` anyway; this is for
    /// a tool that wants to stop a step early and still return something, for example with
    /// `tokio::select!`.
    #[cfg(feature = "async")]
    pub async fn cancelled(&self) {
        if self.host.is_none() {
            return std::future::pending().await;
        }
        while !self.is_cancelled() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    fn notify_with(&self, method: &str, params: impl Serialize) -> bool {
        let Some(host) = self.host else { return false };
        let message = Message {
            method,
            params,
            key: None,
        };
        let Ok(message) = serde_json::to_vec(&message) else {
            return false;
        };
        // SAFETY: `host` is valid for `'a` (checked in `new`); the host reads `message` only
        // during the callback.
        unsafe { (host.notify)(host.data, message.as_ptr(), message.len()) == STATUS_OK }
    }
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("has_host", &self.host.is_some())
            .field("protocol_version", &self.protocol_version())
            .field("session_id", &self.session_id())
            .field("caller", &self.caller())
            .finish_non_exhaustive()
    }
}

mod client;
#[cfg(test)]
mod tests;
