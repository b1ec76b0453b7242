//! The trace: every rule fired, variable set, API call and reply, so a tenant can see why the
//! bot said what it said. Writing the trace never fails a conversation: errors are logged.

use async_trait::async_trait;
use sb_connectors::{CallOutcome, CallSink};
use sb_domain::{Connection, ConversationId, Endpoint, MessageId, TenantId};
use serde_json::{Value, json};

use crate::Engine;

/// Trace entries are for people; very long values are shortened.
const MAX_TRACE_TEXT: usize = 500;

pub(crate) fn shorten(value: &Value) -> Value {
    let text = value.to_string();
    if text.len() <= MAX_TRACE_TEXT {
        return value.clone();
    }
    let cut: String = text.chars().take(MAX_TRACE_TEXT).collect();
    json!(format!("{cut}…"))
}

impl Engine {
    pub(crate) async fn trace(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        message: Option<&MessageId>,
        kind: &str,
        data: Value,
    ) {
        if let Err(err) = self.store.append_trace(tenant, conversation, message, kind, &data).await
        {
            tracing::warn!(%conversation, kind, error = %err, "could not write a trace entry");
        }
    }
}

/// Records each backend call of a conversation in its trace.
pub(crate) struct TraceSink<'a> {
    pub engine: &'a Engine,
    pub tenant: &'a TenantId,
    pub conversation: &'a ConversationId,
    pub message: Option<&'a MessageId>,
}

#[async_trait]
impl CallSink for TraceSink<'_> {
    async fn record(&self, connection: &Connection, endpoint: &Endpoint, outcome: &CallOutcome) {
        let data = json!({
            "connection_id": connection.id,
            "connection": connection.name,
            "endpoint_id": endpoint.id,
            "endpoint": endpoint.name,
            "method": outcome.request.as_ref().map(|r| r.method.clone()),
            "url": outcome.request.as_ref().map(|r| r.url.clone()),
            "status": outcome.status,
            "latency_ms": outcome.latency_ms,
            "attempts": outcome.attempts,
            "token_refreshed": outcome.token_refreshed,
            "ok": outcome.ok,
            "error": outcome.error,
            "mapped": outcome.mapped.keys().collect::<Vec<_>>(),
            "missing": outcome.missing,
            "notes": outcome.notes,
        });
        self.engine.trace(self.tenant, self.conversation, self.message, "api_call", data).await;
    }
}
