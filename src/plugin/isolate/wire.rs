//! The frames an isolated plugin's child and its host exchange over their socket pair.
//!
//! A frame is a little-endian `u32` length (of what follows), a kind byte, a `u64` id and a
//! payload. Calls carry the [`PluginRequest`] as the in-process host would hand it to the
//! library (a tool call keeps its located parts: [`ToolRequest::write_wire`]); replies carry
//! the [`CallOutcome`] the child's own in-process generation produced. Notifications and
//! requests a running tool sends are JSON, as the ABI callbacks receive them.

use std::io::{self, Read};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plugin::request::{PluginRequest, ToolRequest};
use crate::plugin::{CallOutcome, HostRequestError};

/// The largest frame either side accepts: a bigger length is a broken peer, not a big reply.
pub(crate) const MAX_FRAME: usize = 1 << 30;

/// Host → child: run a request (id: the call).
pub(crate) const CALL: u8 = 1;
/// Host → child: cancel a call (id: the call).
pub(crate) const CANCEL: u8 = 2;
/// Host → child: the client's answer to a tool's request (id: the request).
pub(crate) const ANSWER: u8 = 3;
/// Host → child: unload the plugin and exit.
pub(crate) const SHUTDOWN: u8 = 4;
/// Child → host: loaded; the payload is the manifest JSON.
pub(crate) const READY: u8 = 10;
/// Child → host: the library did not load; the payload is the message.
pub(crate) const LOAD_FAILED: u8 = 11;
/// Child → host: a call's outcome (id: the call).
pub(crate) const REPLY: u8 = 12;
/// Child → host: a notification of a running call (id: the call).
pub(crate) const NOTIFY: u8 = 13;
/// Child → host: a request of a running call to the client (id: the request).
pub(crate) const REQUEST: u8 = 14;
/// Child → host: the plugin changed which of its tools and prompts it hides; the payload is
/// every name hidden now. Sent before the reply of the call that changed it.
pub(crate) const LISTED: u8 = 15;

/// One frame as read.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) kind: u8,
    pub(crate) id: u64,
    pub(crate) payload: Vec<u8>,
}

/// Builds a frame in one buffer, so that one `write` sends it whole.
pub(crate) fn frame(kind: u8, id: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(13 + payload.len());
    push_frame(&mut out, kind, id, payload);
    out
}

/// Appends a frame to `out`, where other whole frames may wait to go in the same `write`.
pub(crate) fn push_frame(out: &mut Vec<u8>, kind: u8, id: u64, payload: &[u8]) {
    out.reserve(13 + payload.len());
    out.extend_from_slice(&((9 + payload.len()) as u32).to_le_bytes());
    out.push(kind);
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(payload);
}

/// The length of what follows a frame's length field, or an error for one no frame has.
fn body_len(len: [u8; 4]) -> io::Result<usize> {
    let len = u32::from_le_bytes(len) as usize;
    if !(9..=MAX_FRAME).contains(&len) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame length {len}"),
        ));
    }
    Ok(len)
}

/// The whole length of the frame `bytes` start with (its length field included), once its
/// length field is there.
pub(crate) fn frame_len(bytes: &[u8]) -> io::Result<Option<usize>> {
    match bytes.first_chunk::<4>() {
        Some(len) => Ok(Some(4 + body_len(*len)?)),
        None => Ok(None),
    }
}

/// Whether `bytes` start with a whole frame, so a read of it would not wait.
pub(crate) fn holds_frame(bytes: &[u8]) -> bool {
    matches!(frame_len(bytes), Ok(Some(len)) if bytes.len() >= len)
}

/// The kind, id and payload of a whole frame (`frame_len` bytes).
pub(crate) fn split(frame: &[u8]) -> (u8, u64, &[u8]) {
    let id = frame
        .get(5..13)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes);
    (frame[4], id, frame.get(13..).unwrap_or_default())
}

/// Reads one frame; `Ok(None)` at a clean end of the stream.
pub fn read(input: &mut impl Read) -> io::Result<Option<Frame>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = body_len(len)?;
    let mut head = [0u8; 9];
    input.read_exact(&mut head)?;
    let mut payload = vec![0u8; len - 9];
    input.read_exact(&mut payload)?;
    let id = u64::from_le_bytes(head[1..9].try_into().unwrap_or_default());
    Ok(Some(Frame {
        kind: head[0],
        id,
        payload,
    }))
}

/// The payload of a [`CALL`].
pub(crate) fn call_payload(request: &PluginRequest) -> Vec<u8> {
    match request {
        PluginRequest::Json(json) => {
            let mut out = Vec::with_capacity(json.len() + 1);
            out.push(0);
            out.extend_from_slice(json);
            out
        }
        PluginRequest::Tool(tool) => {
            let mut out = vec![1];
            tool.write_wire(&mut out);
            out
        }
    }
}

/// The request of a [`CALL`] payload.
pub(crate) fn read_call(payload: &[u8]) -> Option<PluginRequest> {
    match payload.split_first()? {
        (0, json) => Some(PluginRequest::Json(json.to_vec())),
        (1, tool) => ToolRequest::read_wire(tool).map(PluginRequest::Tool),
        _ => None,
    }
}

#[derive(Serialize, Deserialize)]
struct ErrorBody {
    code: i32,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<Value>,
}

/// The payload of a [`REPLY`]: a tag byte and the outcome's text.
pub(crate) fn outcome_payload(outcome: &CallOutcome) -> Vec<u8> {
    let (tag, body): (u8, Vec<u8>) = match outcome {
        CallOutcome::Ok(text) => (0, text.as_bytes().to_vec()),
        CallOutcome::Error {
            code,
            message,
            data,
        } => {
            let body = ErrorBody {
                code: *code,
                message: message.clone(),
                data: data.clone(),
            };
            (1, serde_json::to_vec(&body).unwrap_or_default())
        }
        CallOutcome::Panic(msg) => (2, msg.as_bytes().to_vec()),
        CallOutcome::InputRequired => (3, Vec::new()),
        CallOutcome::Cancelled => (4, Vec::new()),
        CallOutcome::Invalid(msg) => (5, msg.as_bytes().to_vec()),
    };
    let mut out = Vec::with_capacity(body.len() + 1);
    out.push(tag);
    out.extend_from_slice(&body);
    out
}

/// The outcome of a [`REPLY`] payload; a payload that is not one is an invalid reply.
pub(crate) fn read_outcome(payload: &[u8]) -> CallOutcome {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match payload.split_first() {
        Some((0, body)) => match String::from_utf8(body.to_vec()) {
            Ok(text) => CallOutcome::Ok(text),
            Err(_) => CallOutcome::Invalid("the plugin returned a reply that is not UTF-8".into()),
        },
        Some((1, body)) => match serde_json::from_slice::<ErrorBody>(body) {
            Ok(e) => CallOutcome::Error {
                code: e.code,
                message: e.message,
                data: e.data,
            },
            Err(_) => CallOutcome::Invalid("the plugin's child sent an unreadable error".into()),
        },
        Some((2, msg)) => CallOutcome::Panic(text(msg)),
        Some((3, _)) => CallOutcome::InputRequired,
        Some((4, _)) => CallOutcome::Cancelled,
        Some((5, msg)) => CallOutcome::Invalid(text(msg)),
        _ => CallOutcome::Invalid("the plugin's child sent an unreadable reply".into()),
    }
}

/// A notification of a running tool, as the plugin wrote it: the child forwards the params
/// as text and the host hands them on as text. Reads the same JSON as [`Outgoing`] without
/// `key`.
pub(crate) use crate::plugin::sink::NoteRef;

/// A notification or request of a running tool, as the child forwards it.
#[derive(Serialize, Deserialize)]
pub(crate) struct Outgoing {
    /// The call it belongs to (requests only: a notification's frame id is the call).
    #[serde(default)]
    pub(crate) call: u64,
    pub(crate) method: String,
    #[serde(default)]
    pub(crate) params: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) key: Option<String>,
}

/// The payload of an [`ANSWER`].
pub(crate) fn answer_payload(answer: &Result<Value, HostRequestError>) -> Vec<u8> {
    let (tag, body) = match answer {
        Ok(v) => (0u8, serde_json::to_vec(v).unwrap_or_default()),
        Err(HostRequestError::Client(e)) => (1, serde_json::to_vec(e).unwrap_or_default()),
        Err(HostRequestError::Unsupported(msg)) => (2, msg.as_bytes().to_vec()),
        Err(HostRequestError::Cancelled) => (3, Vec::new()),
        Err(HostRequestError::InputRequired) => (4, Vec::new()),
    };
    let mut out = Vec::with_capacity(body.len() + 1);
    out.push(tag);
    out.extend_from_slice(&body);
    out
}

/// The answer of an [`ANSWER`] payload.
pub(crate) fn read_answer(payload: &[u8]) -> Result<Value, HostRequestError> {
    let json = |b: &[u8]| serde_json::from_slice::<Value>(b).unwrap_or(Value::Null);
    match payload.split_first() {
        Some((0, body)) => Ok(json(body)),
        Some((1, body)) => Err(HostRequestError::Client(json(body))),
        Some((2, msg)) => Err(HostRequestError::Unsupported(
            String::from_utf8_lossy(msg).into_owned(),
        )),
        Some((3, _)) => Err(HostRequestError::Cancelled),
        Some((4, _)) => Err(HostRequestError::InputRequired),
        _ => Err(HostRequestError::Unsupported(
            "the host sent an unreadable answer".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frames_read_back_and_bad_lengths_are_refused() {
        let mut buf = frame(REPLY, 7, b"xyz");
        buf.extend(frame(NOTIFY, u64::MAX, b""));
        let mut input = buf.as_slice();
        let a = read(&mut input).unwrap().unwrap();
        assert_eq!(
            (a.kind, a.id, a.payload.as_slice()),
            (REPLY, 7, &b"xyz"[..])
        );
        let b = read(&mut input).unwrap().unwrap();
        assert_eq!((b.kind, b.id, b.payload.len()), (NOTIFY, u64::MAX, 0));
        assert!(read(&mut input).unwrap().is_none());
        let mut bad = &[3u8, 0, 0, 0, 1][..];
        assert!(read(&mut bad).is_err());
    }

    #[test]
    fn frames_split_in_place() {
        let mut buf = frame(REPLY, 7, b"xyz");
        let whole = buf.len();
        buf.extend(frame(NOTIFY, 9, b"ab"));
        assert_eq!(frame_len(&buf).unwrap(), Some(whole));
        assert_eq!(split(&buf[..whole]), (REPLY, 7, &b"xyz"[..]));
        assert!(holds_frame(&buf[whole..]));
        assert!(!holds_frame(&buf[whole..buf.len() - 1]));
        assert!(!holds_frame(&buf[..3]));
        assert_eq!(frame_len(&buf[..3]).unwrap(), None);
        assert!(frame_len(&[3u8, 0, 0, 0][..]).is_err());
    }

    #[test]
    fn outcomes_and_answers_survive_the_trip() {
        let error = CallOutcome::Error {
            code: -32602,
            message: "m".into(),
            data: Some(json!({"x": 1})),
        };
        let back = read_outcome(&outcome_payload(&error));
        assert_eq!(format!("{back:?}"), format!("{error:?}"));
        for o in [
            CallOutcome::Ok("{}".into()),
            CallOutcome::Panic("p".into()),
            CallOutcome::Cancelled,
            CallOutcome::InputRequired,
            CallOutcome::Invalid("i".into()),
        ] {
            let back = read_outcome(&outcome_payload(&o));
            assert_eq!(format!("{back:?}"), format!("{o:?}"));
        }
        assert!(matches!(read_outcome(&[9]), CallOutcome::Invalid(_)));
        for a in [
            Ok(json!({"action": "accept"})),
            Err(HostRequestError::Client(
                json!({"code": 1, "message": "no"}),
            )),
            Err(HostRequestError::Unsupported("u".into())),
            Err(HostRequestError::Cancelled),
            Err(HostRequestError::InputRequired),
        ] {
            assert_eq!(read_answer(&answer_payload(&a)), a);
        }
    }
}
