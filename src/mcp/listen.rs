//! `subscriptions/listen` (2026-07-28): long-lived streams of change notifications that a
//! client opted in to, each tagged with the listen request's id.

use std::sync::Mutex;

use rmcp::model::RequestId;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

const KEY_SUBSCRIPTION: &str = "io.modelcontextprotocol/subscriptionId";

/// Which notifications a listener asked for.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Filter {
    /// `notifications/tools/list_changed`.
    pub(crate) tools_list_changed: bool,
    /// `notifications/prompts/list_changed`.
    pub(crate) prompts_list_changed: bool,
    /// `notifications/resources/list_changed`.
    pub(crate) resources_list_changed: bool,
    /// `notifications/resources/updated` for these URIs.
    pub(crate) resource_subscriptions: Vec<String>,
}

impl Filter {
    fn wants(&self, method: &str) -> bool {
        match method {
            "notifications/tools/list_changed" => self.tools_list_changed,
            "notifications/prompts/list_changed" => self.prompts_list_changed,
            "notifications/resources/list_changed" => self.resources_list_changed,
            _ => false,
        }
    }

    fn to_json(&self) -> Value {
        let mut v = serde_json::Map::new();
        for (key, on) in [
            ("toolsListChanged", self.tools_list_changed),
            ("promptsListChanged", self.prompts_list_changed),
            ("resourcesListChanged", self.resources_list_changed),
        ] {
            if on {
                v.insert(key.into(), true.into());
            }
        }
        if !self.resource_subscriptions.is_empty() {
            v.insert(
                "resourceSubscriptions".into(),
                json!(self.resource_subscriptions),
            );
        }
        Value::Object(v)
    }
}

#[derive(Debug)]
struct Listener {
    id: RequestId,
    filter: Filter,
    tx: UnboundedSender<String>,
}

/// The open listen streams.
#[derive(Debug, Default)]
pub(crate) struct Listeners {
    open: Mutex<Vec<Listener>>,
}

fn tagged(method: &str, id: &RequestId, mut params: serde_json::Map<String, Value>) -> String {
    params.insert(
        "_meta".into(),
        json!({KEY_SUBSCRIPTION: id.clone().into_json_value()}),
    );
    json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string()
}

impl Listeners {
    /// Registers a listener; the receiver yields the acknowledgement first, then the
    /// notifications it opted in to.
    pub(crate) fn listen(&self, id: RequestId, filter: Filter) -> UnboundedReceiver<String> {
        let (tx, rx) = unbounded_channel();
        let mut ack = serde_json::Map::new();
        ack.insert("notifications".into(), filter.to_json());
        let _ = tx.send(tagged("notifications/subscriptions/acknowledged", &id, ack));
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|l| !l.tx.is_closed());
        open.push(Listener { id, filter, tx });
        rx
    }

    /// Sends each of `methods` (list-changed notifications) to the listeners that want it.
    pub(crate) fn broadcast(&self, methods: &[&str]) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|l| {
            for m in methods {
                if l.filter.wants(m) && l.tx.send(tagged(m, &l.id, serde_json::Map::new())).is_err()
                {
                    return false;
                }
            }
            true
        });
    }

    /// Sends `notifications/resources/updated` for `uri` to listeners subscribed to it.
    pub(crate) fn resource_updated(&self, uri: &str) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|l| {
            if !l.filter.resource_subscriptions.iter().any(|u| u == uri) {
                return true;
            }
            let mut p = serde_json::Map::new();
            p.insert("uri".into(), uri.into());
            l.tx.send(tagged("notifications/resources/updated", &l.id, p))
                .is_ok()
        });
    }

    /// Ends every listen stream gracefully: a completion response, then the stream closes.
    pub(crate) fn close_all(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        for l in open.drain(..) {
            let result = json!({
                "jsonrpc": "2.0",
                "id": l.id.clone().into_json_value(),
                "result": {"resultType": "complete", "_meta": {KEY_SUBSCRIPTION: l.id.into_json_value()}}
            });
            let _ = l.tx.send(result.to_string());
        }
    }

    /// Number of open listeners.
    #[cfg(test)]
    fn len(&self) -> usize {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|l| !l.tx.is_closed());
        open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_get_an_ack_then_what_they_asked_for() {
        let ls = Listeners::default();
        let filter: Filter = serde_json::from_value(json!({"toolsListChanged": true})).unwrap();
        let mut rx = ls.listen(RequestId::Number(7), filter);
        let ack: Value = serde_json::from_str(&rx.try_recv().unwrap()).unwrap();
        assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
        assert_eq!(ack["params"]["_meta"][KEY_SUBSCRIPTION], 7);
        assert_eq!(
            ack["params"]["notifications"],
            json!({"toolsListChanged": true})
        );
        ls.broadcast(&[
            "notifications/prompts/list_changed",
            "notifications/tools/list_changed",
        ]);
        let n: Value = serde_json::from_str(&rx.try_recv().unwrap()).unwrap();
        assert_eq!(n["method"], "notifications/tools/list_changed");
        assert!(rx.try_recv().is_err());
        ls.close_all();
        let end: Value = serde_json::from_str(&rx.try_recv().unwrap()).unwrap();
        assert_eq!(end["id"], 7);
        assert_eq!(ls.len(), 0);
    }
}
