//! Multi round-trip requests (MRTR, protocol 2026-07-28): what a plugin asks of the client
//! during `tools/call`, `prompts/get` or `resources/read` is answered from the retry's
//! `inputResponses`, or the request ends with an `InputRequiredResult`.
//!
//! Answers are keyed: a plugin may name a request (`Context::request_keyed`), otherwise it is
//! `r<i>`, its place in asking order (the same on every run, since the plugin is simply run
//! again on each retry). The sealed `requestState` carries the answers of earlier rounds and
//! the keys the retry must answer; it is HMAC-sealed with a per-process key and bound to the
//! caller, the method and the request's salient params, so a tampered, expired or borrowed
//! state is refused (-32602). A retry without a `requestState` may still answer by key: the
//! answers are the client's to give anyway, and the state only guards what the server
//! carries between rounds. Every answer is checked against the method it answers before the
//! plugin sees it; one that does not fit is a protocol error (-32602). A request for a
//! capability the client did not declare is refused to the plugin, which may do without it;
//! if the plugin fails instead, the request fails with MissingRequiredClientCapabilityError
//! (-32021, which the HTTP transport sends with status 400).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rmcp::model::{ErrorCode, ErrorData, InputRequest, InputRequests, InputRequiredResult};
use rmcp::model::{RequestStateCodec, SealOptions};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::per_request::decorate;
use crate::plugin::HostRequestError;

/// How long a sealed `requestState` stays valid.
pub(crate) const STATE_TTL: Duration = Duration::from_secs(600);
/// The methods that may answer with an `InputRequiredResult`.
pub(crate) const METHODS: [&str; 3] = ["tools/call", "prompts/get", "resources/read"];

/// What the sealed `requestState` holds between rounds.
#[derive(Debug, Serialize, Deserialize)]
struct Sealed {
    /// Answers to the requests of earlier rounds, by key.
    answers: Map<String, Value>,
    /// The requests of the last round, by key, that the retry must answer.
    pending: Vec<(String, Value)>,
}

/// Seals and opens MRTR state with a per-process key.
#[derive(Debug)]
pub(crate) struct Mrtr {
    codec: RequestStateCodec,
}

/// The input a (possibly retried) request brings: the answers so far, by key.
#[derive(Debug, Default, Clone)]
pub(crate) struct Inputs {
    /// Answers by key: from the verified state, and from the retry's `inputResponses`.
    pub(crate) answers: Map<String, Value>,
}

/// The binding of a `requestState` to its request: caller, method and salient params.
pub(crate) fn binding(caller: Option<&str>, method: &str, params: Option<&RawValue>) -> Vec<u8> {
    let mut p: Map<String, Value> = params
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or_default();
    for k in ["_meta", "inputResponses", "requestState"] {
        p.remove(k);
    }
    format!("{}|{method}|{}", caller.unwrap_or(""), Value::Object(p)).into_bytes()
}

/// The MRTR part of a request's params.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Retry {
    request_state: Option<String>,
    /// `None` when absent; `Some(Value::Null)` when sent as `null`, which is malformed.
    #[serde(default, deserialize_with = "present")]
    input_responses: Option<Value>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

fn invalid(message: impl Into<String>) -> ErrorData {
    ErrorData::invalid_params(message.into(), None)
}

impl Mrtr {
    /// A codec keyed with `secret` (`--state-secret`, shared by every instance behind a load
    /// balancer), or else with 32 random bytes from the OS.
    pub(crate) fn new(secret: Option<&[u8]>) -> Mrtr {
        let key = match secret {
            Some(s) if s.len() >= 32 => s.to_vec(),
            _ => {
                let mut k = vec![0u8; 32];
                // Without OS randomness, a session id is the best unpredictable value we have.
                if getrandom::fill(&mut k).is_err() {
                    k = super::session::new_session_id().into_bytes();
                }
                k
            }
        };
        Mrtr {
            codec: RequestStateCodec::new_unchecked(key),
        }
    }

    /// The inputs of a (possibly retried) request, and the requests of the last round that
    /// the retry left unanswered (asked again without running the plugin). An error when
    /// `inputResponses` is not an object or `requestState` fails verification.
    pub(crate) fn inputs(
        &self,
        params: Option<&RawValue>,
        binding: impl FnOnce() -> Vec<u8>,
    ) -> Result<(Inputs, Vec<(String, Value)>), ErrorData> {
        let retry: Retry = match params {
            Some(p) => serde_json::from_str(p.get())
                .map_err(|e| invalid(format!("Invalid requestState or inputResponses: {e}")))?,
            None => Retry {
                request_state: None,
                input_responses: None,
            },
        };
        let responses = match retry.input_responses {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(invalid("inputResponses must be an object")),
        };
        let Some(state) = retry.request_state else {
            // No state: the answers are taken by key as the client gives them.
            return Ok((Inputs { answers: responses }, Vec::new()));
        };
        let sealed: Sealed = self.codec.open_json_with(&state, &binding()).map_err(|_| {
            invalid("Invalid requestState: it was not issued for this request or has expired")
        })?;
        let mut answers = sealed.answers;
        let mut missing = Vec::new();
        // Only what the last round asked is taken from the retry: earlier answers are the
        // sealed ones, and keys nobody asked for are ignored.
        for (key, request) in sealed.pending {
            match responses.get(&key) {
                Some(answer) => {
                    answers.insert(key, answer.clone());
                }
                None => missing.push((key, request)),
            }
        }
        Ok((Inputs { answers }, missing))
    }

    /// The `InputRequiredResult` of `method` asking for `asked`, sealing the answers so far.
    pub(crate) fn input_required(
        &self,
        method: &str,
        inputs: &Inputs,
        asked: Vec<(String, Value)>,
        binding: &[u8],
    ) -> String {
        let mut requests = InputRequests::new();
        for (key, req) in &asked {
            if let Ok(r) = serde_json::from_value::<InputRequest>(req.clone()) {
                requests.insert(key.clone(), r);
            }
        }
        let sealed = Sealed {
            answers: inputs.answers.clone(),
            pending: asked,
        };
        let options = SealOptions::new().associated_data(binding).ttl(STATE_TTL);
        let state = self.codec.seal_json_with(&sealed, &options).ok();
        let result = InputRequiredResult::new(Some(requests), state);
        decorate(
            method,
            &serde_json::to_string(&result).unwrap_or_else(|_| "{}".into()),
        )
    }
}

/// The client input of one 2026-07-28 round: what the plugin's requests are answered with.
#[derive(Debug, Default)]
pub(crate) struct PerRequestCall {
    /// Answers by key.
    pub(crate) answers: Map<String, Value>,
    /// The client's declared capabilities (`sampling`, `elicitation`, `roots`).
    pub(crate) client_capabilities: Option<Value>,
    next: AtomicUsize,
    /// Requests the plugin made that have no answer yet: `(key, {"method","params"})`.
    pub(crate) asked: Mutex<Vec<(String, Value)>>,
    /// Why an answer the client gave does not fit its request: the request then fails with
    /// -32602 instead of running on malformed input.
    pub(crate) malformed: Mutex<Option<String>>,
    /// Capabilities the plugin needed that the client did not declare: if the plugin then
    /// fails, the request fails with MissingRequiredClientCapabilityError (-32021).
    pub(crate) refused: Mutex<Vec<&'static str>>,
}

impl PerRequestCall {
    /// A round with these answers.
    pub(crate) fn new(inputs: Inputs, client_capabilities: Option<Value>) -> PerRequestCall {
        PerRequestCall {
            answers: inputs.answers,
            client_capabilities,
            ..PerRequestCall::default()
        }
    }

    /// Answers the plugin's request `method` (named `key`, else `r<i>`) from the client's
    /// answers, or records it to be asked.
    pub(crate) fn request(
        &self,
        method: &str,
        params: Value,
        key: Option<&str>,
    ) -> Result<Value, HostRequestError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let key = key.map_or_else(|| format!("r{i}"), str::to_string);
        let capability = match method {
            "sampling/createMessage" => "sampling",
            "elicitation/create" => "elicitation",
            "roots/list" => "roots",
            other => {
                return Err(HostRequestError::Unsupported(format!(
                    "{other} cannot be sent to the client in protocol 2026-07-28"
                )));
            }
        };
        if let Some(answer) = self.answers.get(&key) {
            if let Err(why) = check_answer(method, answer) {
                let why = format!("inputResponses[\"{key}\"] is not a {method} result: {why}");
                *self.malformed.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
                // Ends the plugin's run like a missing answer; the caller reports `malformed`.
                return Err(HostRequestError::InputRequired);
            }
            return Ok(answer.clone());
        }
        let declared = self
            .client_capabilities
            .as_ref()
            .and_then(|c| c.get(capability))
            .is_some_and(|v| !v.is_null());
        if !declared {
            let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
            if !refused.contains(&capability) {
                refused.push(capability);
            }
            return Err(HostRequestError::Unsupported(format!(
                "the client did not declare the {capability} capability"
            )));
        }
        let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
        asked.push((key, serde_json::json!({"method": method, "params": params})));
        Err(HostRequestError::InputRequired)
    }

    /// The requests asked this round, taken out.
    pub(crate) fn take_asked(&self) -> Vec<(String, Value)> {
        std::mem::take(&mut *self.asked.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// MissingRequiredClientCapabilityError (-32021) naming the capabilities the plugin asked
    /// for that the client did not declare, if any: for a request whose plugin then failed.
    pub(crate) fn missing_capabilities(&self) -> Option<ErrorData> {
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        if refused.is_empty() {
            return None;
        }
        let required: Map<String, Value> = refused
            .iter()
            .map(|c| ((*c).to_string(), Value::Object(Map::new())))
            .collect();
        Some(ErrorData::new(
            ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
            format!("Missing required client capability: {}", refused.join(", ")),
            Some(serde_json::json!({ "requiredCapabilities": required })),
        ))
    }

    /// The error for a malformed answer, if the plugin met one.
    pub(crate) fn malformed(&self) -> Option<ErrorData> {
        let why = self.malformed.lock().unwrap_or_else(|e| e.into_inner());
        why.clone().map(invalid)
    }
}

/// Whether `answer` has the shape of a result of `method` (`ElicitResult`,
/// `CreateMessageResult`, `ListRootsResult`).
fn check_answer(method: &str, answer: &Value) -> Result<(), &'static str> {
    let Some(obj) = answer.as_object() else {
        return Err("not an object");
    };
    match method {
        "elicitation/create" => match obj.get("action").and_then(Value::as_str) {
            Some("accept" | "decline" | "cancel") => match obj.get("content") {
                None | Some(Value::Object(_)) => Ok(()),
                Some(_) => Err("content is not an object"),
            },
            _ => Err("action is not accept, decline or cancel"),
        },
        "sampling/createMessage" => {
            let content_ok = matches!(obj.get("content"), Some(Value::Object(_) | Value::Array(_)));
            if obj.get("role").is_some_and(Value::is_string) && content_ok {
                Ok(())
            } else {
                Err("role or content is missing")
            }
        }
        "roots/list" => match obj.get("roots") {
            Some(Value::Array(_)) => Ok(()),
            _ => Err("roots is not an array"),
        },
        _ => Err("unknown method"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(v: Value) -> Box<RawValue> {
        RawValue::from_string(v.to_string()).unwrap()
    }

    fn elicit() -> Value {
        json!({"method": "elicitation/create", "params": {"message": "m"}})
    }

    #[test]
    fn request_state_round_trips_and_refuses_tampering() {
        let m = Mrtr::new(None);
        let params = raw(json!({"name": "t", "arguments": {}}));
        let bind = binding(Some("alice"), "tools/call", Some(&params));
        let ask = vec![("r0".to_string(), json!({"method": "roots/list"}))];
        let out: Value =
            serde_json::from_str(&m.input_required("tools/call", &Inputs::default(), ask, &bind))
                .unwrap();
        assert_eq!(out["resultType"], "input_required");
        let state = out["requestState"].as_str().unwrap().to_string();
        let retry = raw(json!({
            "name": "t", "arguments": {}, "requestState": state,
            "inputResponses": {"r0": {"roots": []}, "extra": 1}
        }));
        let (inputs, missing) = m.inputs(Some(&retry), || bind.clone()).unwrap();
        assert_eq!(Value::Object(inputs.answers), json!({"r0": {"roots": []}}));
        assert!(missing.is_empty());
        // Another caller, or a tampered state, is refused.
        let bob = binding(Some("bob"), "tools/call", Some(&params));
        assert!(m.inputs(Some(&retry), || bob.clone()).is_err());
        let bad = raw(json!({"name": "t", "requestState": format!("{state}x")}));
        assert!(m.inputs(Some(&bad), || bind.clone()).is_err());
    }

    #[test]
    fn earlier_answers_stay_sealed_and_missing_ones_are_asked_again() {
        let m = Mrtr::new(None);
        let bind = b"b".to_vec();
        let first = Inputs {
            answers: json!({"step1": {"action": "accept"}})
                .as_object()
                .unwrap()
                .clone(),
        };
        let ask = vec![("step2".to_string(), elicit())];
        let out: Value =
            serde_json::from_str(&m.input_required("prompts/get", &first, ask, &bind)).unwrap();
        let state = out["requestState"].as_str().unwrap();
        // The retry cannot replace a sealed answer, and must answer what was asked.
        let retry = raw(json!({"requestState": state,
            "inputResponses": {"step1": {"action": "decline"}}}));
        let (inputs, missing) = m.inputs(Some(&retry), || bind.clone()).unwrap();
        assert_eq!(inputs.answers["step1"], json!({"action": "accept"}));
        assert_eq!(missing, vec![("step2".to_string(), elicit())]);
    }

    #[test]
    fn answers_without_state_are_taken_by_key_and_checked() {
        let m = Mrtr::new(None);
        let p = raw(json!({"inputResponses": {"user_name": {"action": "accept",
            "content": {"name": "Ann"}}, "n": 12345}}));
        let (inputs, _) = m.inputs(Some(&p), || b"b".to_vec()).unwrap();
        let round = PerRequestCall::new(inputs, None);
        let answer = round.request("elicitation/create", json!({}), Some("user_name"));
        assert_eq!(answer.unwrap()["content"]["name"], "Ann");
        assert!(round.malformed().is_none());
        let wrong = round.request("elicitation/create", json!({}), Some("n"));
        assert_eq!(wrong, Err(HostRequestError::InputRequired));
        assert!(round.malformed().is_some());
        let null = raw(json!({"inputResponses": null}));
        assert!(m.inputs(Some(&null), || b"b".to_vec()).is_err());
    }

    #[test]
    fn undeclared_capabilities_are_not_asked_and_keys_default_to_the_order() {
        let round = PerRequestCall::new(Inputs::default(), Some(json!({"sampling": {}})));
        let refused = round.request("elicitation/create", json!({}), Some("e"));
        assert!(matches!(refused, Err(HostRequestError::Unsupported(_))));
        let asked = round.request("sampling/createMessage", json!({}), None);
        assert_eq!(asked, Err(HostRequestError::InputRequired));
        let keys: Vec<String> = round.take_asked().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["r1"]);
        let error = round.missing_capabilities().unwrap();
        assert_eq!(error.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
        let data = error.data.unwrap();
        assert_eq!(data, json!({"requiredCapabilities": {"elicitation": {}}}));
    }

    #[test]
    fn answers_are_checked_against_their_method() {
        let ok = [
            (
                "elicitation/create",
                json!({"action": "accept", "content": {}}),
            ),
            ("elicitation/create", json!({"action": "cancel"})),
            (
                "sampling/createMessage",
                json!({"role": "assistant",
                "content": {"type": "text", "text": "x"}}),
            ),
            ("roots/list", json!({"roots": []})),
        ];
        for (method, answer) in ok {
            assert_eq!(check_answer(method, &answer), Ok(()), "{method} {answer}");
        }
        let bad = [
            ("elicitation/create", json!(12345)),
            ("elicitation/create", json!({"action": "maybe"})),
            ("sampling/createMessage", json!({"content": "x"})),
            ("roots/list", json!({"roots": {}})),
        ];
        for (method, answer) in bad {
            assert!(check_answer(method, &answer).is_err(), "{method} {answer}");
        }
    }
}
