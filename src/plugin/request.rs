//! What the host asks of a plugin: a generic request (`{"method","params","context"}` JSON for
//! `PluginTable::call`) or a tool call whose parts are already located (for
//! `PluginTable::call_tool`, ABI 1.1). A plugin whose table predates `call_tool` gets the tool
//! call as the generic request it always got ([`ToolRequest::envelope`]).

use std::ops::Range;

use fastmcp_abi::{Str, ToolCall};
use serde_json::value::RawValue;

/// One request for a plugin.
#[derive(Debug)]
pub enum PluginRequest {
    /// `{"method","params","context"}` JSON.
    Json(Vec<u8>),
    /// A `tools/call`.
    Tool(ToolRequest),
}

/// A `tools/call` in one buffer: the params as the client sent them, then the context JSON,
/// then the tool name if it is not a plain substring of the params (it had escapes). Every
/// part is UTF-8: the buffer holds only `str`s and JSON that serde_json wrote.
#[derive(Debug)]
pub struct ToolRequest {
    text: Vec<u8>,
    name: Range<usize>,
    arguments: Option<Range<usize>>,
    /// Follows the params, which start the buffer.
    context: Range<usize>,
}

impl ToolRequest {
    /// Builds the request from the raw `params`, the `name` and raw `arguments` read from them
    /// (either may borrow from `params` or not), and a writer of the context object.
    pub fn new(
        params: &RawValue,
        name: &str,
        arguments: Option<&str>,
        write_context: impl FnOnce(&mut Vec<u8>),
    ) -> Self {
        let params = params.get();
        let mut text = Vec::with_capacity(params.len() + 160);
        text.extend_from_slice(params.as_bytes());
        write_context(&mut text);
        let context = params.len()..text.len();
        let mut locate = |part: &str| match within(params, part) {
            Some(range) => range,
            None => {
                let start = text.len();
                text.extend_from_slice(part.as_bytes());
                start..text.len()
            }
        };
        let name = locate(name);
        let arguments = arguments.map(&mut locate);
        ToolRequest {
            text,
            name,
            arguments,
            context,
        }
    }

    /// Where the params are: the start of the buffer.
    fn params(&self) -> Range<usize> {
        0..self.context.start
    }

    /// The call as `PluginTable::call_tool` takes it, borrowing from `self`.
    pub fn abi(&self) -> ToolCall {
        let part = |range: &Range<usize>| Str {
            ptr: self.text[range.clone()].as_ptr(),
            len: range.len(),
        };
        ToolCall {
            size: size_of::<ToolCall>() as u32,
            name: part(&self.name),
            arguments: self.arguments.as_ref().map_or(Str::EMPTY, part),
            params: part(&self.params()),
            context: part(&self.context),
        }
    }

    /// The same call as the generic request `{"method":"tools/call","params","context"}`.
    pub fn envelope(&self) -> Vec<u8> {
        let params = &self.text[self.params()];
        let context = &self.text[self.context.clone()];
        let mut out = Vec::with_capacity(params.len() + context.len() + 48);
        out.extend_from_slice(b"{\"method\":\"tools/call\",\"params\":");
        out.extend_from_slice(params);
        out.extend_from_slice(b",\"context\":");
        out.extend_from_slice(context);
        out.push(b'}');
        out
    }
}

/// Where `part` lies in `whole`, if it is a slice of it.
fn within(whole: &str, part: &str) -> Option<Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start + part.len();
    (end <= whole.len()).then_some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A copy of a part; the tests call it while the request it points into is alive.
    fn text(s: Str) -> String {
        if s.len == 0 {
            return String::new();
        }
        // SAFETY: `s` points into a live `ToolRequest`'s buffer.
        let bytes = unsafe { std::slice::from_raw_parts(s.ptr, s.len) };
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn parts_borrow_from_the_params_or_are_appended() {
        let params: &RawValue =
            serde_json::from_str(r#"{"name":"calc","arguments":{"a":1},"_meta":{}}"#).unwrap();
        let get = params.get();
        let name = &get[9..13];
        let arguments: &RawValue = serde_json::from_str(&get[27..34]).unwrap();
        assert_eq!((name, arguments.get()), ("calc", r#"{"a":1}"#));
        let request = ToolRequest::new(params, name, Some(arguments.get()), |out| {
            out.extend_from_slice(br#"{"requestId":1}"#)
        });
        assert_eq!(request.text.len(), get.len() + 15, "nothing appended");
        let call = request.abi();
        assert_eq!(call.size as usize, size_of::<ToolCall>());
        assert_eq!(text(call.name), "calc");
        assert_eq!(text(call.arguments), r#"{"a":1}"#);
        assert_eq!(text(call.params), get);
        assert_eq!(text(call.context), r#"{"requestId":1}"#);

        // An unescaped name and arguments from elsewhere are appended.
        let elsewhere: &RawValue = serde_json::from_str("[2]").unwrap();
        let unescaped = ToolRequest::new(params, "ca\"lc", Some(elsewhere.get()), |out| {
            out.extend_from_slice(b"{}")
        });
        assert_eq!(unescaped.text.len(), get.len() + 2 + 5 + 3);
        let call = unescaped.abi();
        assert_eq!(text(call.name), "ca\"lc");
        assert_eq!(text(call.arguments), "[2]");
        let bare = ToolRequest::new(params, "calc", None, |out| out.extend_from_slice(b"{}"));
        assert_eq!(bare.abi().arguments.len, 0);
    }

    #[test]
    fn the_envelope_is_the_generic_request() {
        let params: &RawValue = serde_json::from_str(r#"{"name":"t","arguments":[]}"#).unwrap();
        let request = ToolRequest::new(params, "t", None, |out| {
            out.extend_from_slice(br#"{"protocolVersion":"2025-06-18","requestId":"x"}"#)
        });
        let envelope: Value = serde_json::from_slice(&request.envelope()).unwrap();
        assert_eq!(
            envelope,
            json!({"method": "tools/call", "params": {"name": "t", "arguments": []},
                "context": {"protocolVersion": "2025-06-18", "requestId": "x"}})
        );
    }
}
