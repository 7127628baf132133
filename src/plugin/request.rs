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
#[derive(Debug, Clone)]
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
    pub(crate) fn abi(&self) -> ToolCall {
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
    pub(crate) fn envelope(&self) -> Vec<u8> {
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

impl ToolRequest {
    /// The tool's name.
    pub(crate) fn name(&self) -> &str {
        std::str::from_utf8(&self.text[self.name.clone()]).unwrap_or("")
    }

    /// Appends the request as an isolated plugin's child reads it ([`ToolRequest::read_wire`]):
    /// the four ranges as little-endian `u32` pairs (an absent `arguments` is `0,0` after a
    /// flag byte), then the buffer.
    pub(crate) fn write_wire(&self, out: &mut Vec<u8>) {
        let mut range = |r: &Range<usize>| {
            out.extend_from_slice(&(r.start as u32).to_le_bytes());
            out.extend_from_slice(&(r.end as u32).to_le_bytes());
        };
        range(&self.name);
        range(self.arguments.as_ref().unwrap_or(&(0..0)));
        range(&self.context);
        out.push(u8::from(self.arguments.is_some()));
        out.extend_from_slice(&self.text);
    }

    /// The request [`ToolRequest::write_wire`] wrote, if `bytes` hold one whose parts lie
    /// inside its buffer, are UTF-8, and whose context follows the params.
    pub(crate) fn read_wire(bytes: &[u8]) -> Option<ToolRequest> {
        let word = |i: usize| -> Option<usize> {
            let b: [u8; 4] = bytes.get(i * 4..i * 4 + 4)?.try_into().ok()?;
            Some(u32::from_le_bytes(b) as usize)
        };
        let name = word(0)?..word(1)?;
        let arguments = word(2)?..word(3)?;
        let context = word(4)?..word(5)?;
        let has_arguments = *bytes.get(24)? == 1;
        let text = bytes.get(25..)?.to_vec();
        let text_str = std::str::from_utf8(&text).ok()?;
        let fits = |r: &Range<usize>| {
            r.start <= r.end
                && r.end <= text.len()
                && text_str.is_char_boundary(r.start)
                && text_str.is_char_boundary(r.end)
        };
        let ok = fits(&name) && fits(&arguments) && fits(&context) && context.start > 0;
        ok.then_some(ToolRequest {
            text,
            name,
            arguments: has_arguments.then_some(arguments),
            context,
        })
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
    fn the_wire_form_reads_back_as_the_same_request() {
        let params: &RawValue =
            serde_json::from_str(r#"{"name":"t\u0041","arguments":{"a":"é"}}"#).unwrap();
        let arguments: &RawValue = serde_json::from_str(r#"{"a":"é"}"#).unwrap();
        let request = ToolRequest::new(params, "tA", Some(arguments.get()), |out| {
            out.extend_from_slice(b"{}")
        });
        let mut wire = Vec::new();
        request.write_wire(&mut wire);
        let back = ToolRequest::read_wire(&wire).unwrap();
        assert_eq!(back.name(), "tA");
        assert_eq!(back.envelope(), request.envelope());
        assert_eq!(text(back.abi().arguments), r#"{"a":"é"}"#);
        // Cut short, or a range past the end: refused.
        assert!(ToolRequest::read_wire(&wire[..20]).is_none());
        let mut bad = wire.clone();
        bad[4..8].copy_from_slice(&9999u32.to_le_bytes());
        assert!(ToolRequest::read_wire(&bad).is_none());
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
