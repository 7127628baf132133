//! Shaping a tool's notification from the text the plugin wrote, without parsing it into a
//! [`serde_json::Value`] and serializing it back: progress gets the request's token spliced
//! in, a log message is checked against the level, and both go out with the params as they
//! came (the plugin's JSON was checked when its envelope was read). Anything else, and params
//! this cannot splice safely, take [`Route::shape`].

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Route, Shaped};
use crate::mcp::jsonrpc;

/// The one field of a log message's params the route looks at.
#[derive(Deserialize)]
struct LevelOnly<'a> {
    #[serde(borrow, default)]
    level: Option<Cow<'a, str>>,
}

impl Route<'_> {
    /// `Some` when the notification was shaped from its text; `None` when it needs
    /// [`Route::shape`] (another method, params that are not a plain object, or params that
    /// already name a progress token).
    pub(crate) fn shape_raw(&self, method: &str, params: &RawValue) -> Option<Shaped> {
        match method {
            "notifications/progress" => {
                let Some(token) = self.progress_token else {
                    return Some(Shaped::Done);
                };
                let text = params.get();
                if text.contains("\"progressToken\"") {
                    return None;
                }
                let token = serde_json::to_string(token).ok()?;
                let fields = object_fields(text)?;
                let mut params = String::with_capacity(text.len() + token.len() + 18);
                params.push_str("{\"progressToken\":");
                params.push_str(&token);
                if !fields.is_empty() {
                    params.push(',');
                    params.push_str(fields);
                }
                params.push('}');
                Some(Shaped::Message(jsonrpc::notification_text(method, &params)))
            }
            "notifications/message" => {
                object_fields(params.get())?;
                let level = serde_json::from_str::<LevelOnly>(params.get()).ok()?.level;
                if !(self.wants_log)(level.as_deref().unwrap_or("info")) {
                    return Some(Shaped::Done);
                }
                Some(Shaped::Message(jsonrpc::notification_text(
                    method,
                    params.get(),
                )))
            }
            _ => None,
        }
    }

    /// [`Route::shape_raw`], else [`Route::shape`] of the parsed params; `None` only for
    /// params that are not JSON after all.
    pub(crate) fn shape_raw_or_parse(&self, method: &str, params: &RawValue) -> Option<Shaped> {
        self.shape_raw(method, params).or_else(|| {
            let params = serde_json::from_str(params.get()).ok()?;
            Some(self.shape(method, params))
        })
    }
}

/// What is between the braces of a JSON object's text, trimmed (empty for `{}`); `None` when
/// the text is not an object.
fn object_fields(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    Some(inner.trim())
}

#[cfg(test)]
mod tests {
    use rmcp::model::{NumberOrString, ProgressToken};
    use serde_json::{Value, json};

    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn message(shaped: Option<Shaped>) -> Value {
        match shaped {
            Some(Shaped::Message(m)) => serde_json::from_str(&m).expect("valid JSON"),
            Some(Shaped::Done) => panic!("dropped"),
            Some(Shaped::CloseStream) => panic!("close"),
            None => panic!("not shaped"),
        }
    }

    fn route<'a>(token: Option<&'a ProgressToken>, min: &'a dyn Fn(&str) -> bool) -> Route<'a> {
        Route {
            progress_token: token,
            wants_log: min,
            updates: None,
        }
    }

    #[test]
    fn progress_gets_the_token_and_keeps_its_fields() {
        let token = ProgressToken(NumberOrString::Number(7));
        let all = |_: &str| true;
        let r = route(Some(&token), &all);
        let m = message(r.shape_raw(
            "notifications/progress",
            &raw(r#" { "progress": 1.5, "total": 2, "message": "h\u00e9" } "#),
        ));
        assert_eq!(
            m,
            json!({"jsonrpc": "2.0", "method": "notifications/progress",
                   "params": {"progressToken": 7, "progress": 1.5, "total": 2, "message": "hé"}})
        );
        let m = message(r.shape_raw("notifications/progress", &raw("{ }")));
        assert_eq!(m["params"], json!({"progressToken": 7}));
        let text = ProgressToken(NumberOrString::String("a\"b".into()));
        let r = route(Some(&text), &all);
        let m = message(r.shape_raw("notifications/progress", &raw(r#"{"progress":1}"#)));
        assert_eq!(m["params"], json!({"progressToken": "a\"b", "progress": 1}));
    }

    #[test]
    fn progress_without_a_token_is_dropped_and_odd_params_take_the_parse() {
        let all = |_: &str| true;
        let none = route(None, &all);
        let dropped = none.shape_raw("notifications/progress", &raw(r#"{"progress":1}"#));
        assert!(matches!(dropped, Some(Shaped::Done)));
        let token = ProgressToken(NumberOrString::Number(1));
        let r = route(Some(&token), &all);
        for params in [r#"{"progressToken":2,"progress":1}"#, "[1]", "null", "3"] {
            assert!(
                r.shape_raw("notifications/progress", &raw(params))
                    .is_none(),
                "{params}"
            );
        }
        assert!(
            r.shape_raw("notifications/resources/updated", &raw("{}"))
                .is_none()
        );
    }

    #[test]
    fn log_messages_below_the_level_are_dropped() {
        let warn_up = |level: &str| matches!(level, "warning" | "error");
        let r = route(None, &warn_up);
        let kept = r.shape_raw(
            "notifications/message",
            &raw(r#"{"level":"error","logger":"p","data":"x"}"#),
        );
        assert_eq!(message(kept)["params"]["data"], "x");
        let info = r.shape_raw("notifications/message", &raw(r#"{"data":"x"}"#));
        assert!(matches!(info, Some(Shaped::Done)), "no level means info");
        let debug = r.shape_raw("notifications/message", &raw(r#"{"level":"debug"}"#));
        assert!(matches!(debug, Some(Shaped::Done)));
    }
}
