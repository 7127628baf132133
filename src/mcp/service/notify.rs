//! What the server tells clients unasked, and what clients tell it: resource updates reported
//! by plugins, list changes after a reload or a task call, and the client's notifications
//! (`notifications/cancelled`, ...). Updates fan out from one task ([`Service::run_updates`]).

use rmcp::model::RequestId;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::Service;
use crate::mcp::jsonrpc;
use crate::mcp::session::Session;

impl Service {
    /// Sends `notifications/resources/updated` for `uri` to every session subscribed to it
    /// (on its GET stream) and every 2026-07-28 listener that asked for it.
    pub(crate) fn resource_updated(&self, uri: &str) {
        let note = jsonrpc::notification(
            "notifications/resources/updated",
            &serde_json::json!({"uri": uri}),
        );
        for session in self.sessions.all() {
            if session.is_subscribed(uri) {
                session.send_standalone(note.clone());
            }
        }
        self.listeners.resource_updated(uri);
    }

    /// Fans out resource updates reported by plugins, and serves the list changes of task
    /// calls, until the service is dropped.
    pub(crate) async fn run_updates(self: std::sync::Arc<Self>) {
        let rx = self
            .updates_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let relists = self
            .relists_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let (Some(mut rx), Some(mut relists)) = (rx, relists) else {
            return;
        };
        let weak = std::sync::Arc::downgrade(&self);
        drop(self);
        loop {
            tokio::select! {
                Some(uri) = rx.recv() => match weak.upgrade() {
                    Some(service) => service.resource_updated(&uri),
                    None => return,
                },
                Some(generation) = relists.recv() => match weak.upgrade() {
                    Some(service) => service.relist(&generation),
                    None => return,
                },
                else => return,
            }
        }
    }

    /// Tells every session with an open stream which lists changed after a reload.
    pub(crate) fn broadcast_list_changed(&self, changes: crate::plugin::Changes) {
        let mut methods = Vec::new();
        if changes.tools {
            methods.push("notifications/tools/list_changed");
        }
        if changes.resources {
            methods.push("notifications/resources/list_changed");
        }
        if changes.prompts {
            methods.push("notifications/prompts/list_changed");
        }
        if methods.is_empty() {
            return;
        }
        self.listeners.broadcast(&methods);
        let empty = serde_json::json!({});
        for session in self.sessions.all() {
            for m in &methods {
                session.send_standalone(jsonrpc::notification(m, &empty));
            }
        }
    }

    /// Handles a notification from the client, in its session if it has one.
    pub(crate) fn handle_notification(
        &self,
        method: &str,
        params: Option<&RawValue>,
        session: Option<&Session>,
    ) {
        match method {
            "notifications/cancelled" => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct P {
                    request_id: RequestId,
                }
                if let Ok(p) = jsonrpc::params::<P>(params) {
                    // Only a stored session's requests can be found again.
                    let found = session.is_some_and(|s| s.cancel_request(&p.request_id));
                    tracing::debug!(request = ?p.request_id, found, "client cancelled a request");
                }
            }
            "notifications/initialized" | "notifications/roots/list_changed" => {}
            other => tracing::debug!(method = other, "ignored notification"),
        }
    }
}
