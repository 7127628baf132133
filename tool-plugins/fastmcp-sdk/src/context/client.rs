//! Requests from a tool to the client during a call (sampling, elicitation, roots, or any
//! method), sent through the host and waited for.

use std::sync::atomic::Ordering;

use fastmcp_abi::{
    Buf, STATUS_CANCELLED, STATUS_ERROR, STATUS_INPUT_REQUIRED, STATUS_OK, STATUS_UNSUPPORTED,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Context, ErrorObject, HostError, Message};

impl Context<'_> {
    /// Sends a request to the client and waits for its answer (the `result` object).
    ///
    /// It blocks until the client answers, in async tools too: there the runtime first moves
    /// its other tasks off the thread (`tokio::task::block_in_place`), so they keep running,
    /// but the call holds one runtime thread while it waits.
    pub fn request(&self, method: &str, params: Value) -> Result<Value, HostError> {
        self.send_request(None, method, params)
    }

    /// Like [`Context::request`], naming the request `key`. In protocol 2026-07-28 the host
    /// asks the client under that key in its `InputRequiredResult`, and the client may answer
    /// it under that key even without the `requestState` (a tool that asks with the same key
    /// on every run gets the answer). Keys must be unique within one call; without one the
    /// host numbers the requests in asking order (`r0`, `r1`, ...). Earlier protocols ignore
    /// the key.
    pub fn request_keyed(
        &self,
        key: &str,
        method: &str,
        params: Value,
    ) -> Result<Value, HostError> {
        self.send_request(Some(key), method, params)
    }

    fn send_request(
        &self,
        key: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, HostError> {
        let Some(host) = self.host else {
            return Err(HostError::Unsupported(format!("{method} needs a host")));
        };
        let message = serde_json::to_vec(&Message {
            method,
            params,
            key,
        })
        .map_err(|error| HostError::Unsupported(error.to_string()))?;
        let mut out = Buf::EMPTY;
        let send = || {
            // SAFETY: `host` is valid for `'a` (checked in `new`); `message` outlives the call
            // and `out` is a valid, writable `Buf`.
            unsafe { (host.request)(host.data, message.as_ptr(), message.len(), &mut out) }
        };
        let status = self.blocking(send);
        let answer = if out.ptr.is_null() || out.len == 0 {
            Ok(Value::Null)
        } else {
            // SAFETY: the host filled `out` with `len` initialised bytes, ours to read until we
            // hand the buffer back with `free_buf` below.
            let bytes = unsafe { std::slice::from_raw_parts(out.ptr, out.len) };
            serde_json::from_slice::<Value>(bytes)
        };
        // SAFETY: `out` came from this host and is freed exactly once.
        unsafe { (host.free_buf)(out) };
        let answer = answer.map_err(|error| HostError::Client {
            code: -32603,
            message: format!("the host answered {method} with invalid JSON: {error}"),
        });
        let error_object = |answer: Result<Value, HostError>| {
            answer
                .ok()
                .and_then(|value| ErrorObject::deserialize(value).ok())
        };
        match status {
            STATUS_OK => answer,
            STATUS_ERROR => Err(match error_object(answer) {
                Some(ErrorObject { code, message }) => HostError::Client { code, message },
                None => HostError::Client {
                    code: -32603,
                    message: "unknown error".into(),
                },
            }),
            STATUS_UNSUPPORTED => Err(HostError::Unsupported(match error_object(answer) {
                Some(error) if !error.message.is_empty() => error.message,
                _ => format!("the host cannot send {method} here"),
            })),
            STATUS_INPUT_REQUIRED => {
                self.input_required.store(true, Ordering::Relaxed);
                Err(HostError::InputRequired)
            }
            STATUS_CANCELLED => Err(HostError::Cancelled),
            other => Err(HostError::Client {
                code: -32603,
                message: format!("the host answered {method} with unknown status {other}"),
            }),
        }
    }

    /// Asks the client's model for a completion (`sampling/createMessage`); `params` is the MCP
    /// `CreateMessageRequest` params (`messages`, `maxTokens`, ...).
    pub fn sample(&self, params: Value) -> Result<Value, HostError> {
        self.request("sampling/createMessage", params)
    }

    /// Asks the user for input (`elicitation/create`); `params` holds `message` and
    /// `requestedSchema`. The answer has `action` (`accept`, `decline`, `cancel`) and `content`.
    pub fn elicit(&self, params: Value) -> Result<Value, HostError> {
        self.request("elicitation/create", params)
    }

    /// Lists the client's roots (`roots/list`).
    pub fn list_roots(&self) -> Result<Value, HostError> {
        self.request("roots/list", json!({}))
    }

    /// Whether a request during this call returned [`HostError::InputRequired`].
    pub(crate) fn input_required(&self) -> bool {
        self.input_required.load(Ordering::Relaxed)
    }

    /// Runs `wait`, which blocks on the host; on the async runtime, through `block_in_place`.
    fn blocking<R>(&self, wait: impl FnOnce() -> R) -> R {
        #[cfg(feature = "async")]
        if self.in_runtime {
            return tokio::task::block_in_place(wait);
        }
        wait()
    }
}
