//! The trace: every rule fired, variable set, API call and reply, so a tenant can see why the
//! bot said what it said. Writing the trace never fails a conversation: errors are logged.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sb_connectors::{CallOutcome, CallSink};
use sb_domain::action::{ActionState, PendingAction};
use sb_domain::call_stats::HourlyStats;
use sb_domain::{
    ActionId, Author, Connection, ConversationId, Endpoint, MessageId, TenantId, Timestamp,
};
use sb_store::{ConversationStore, NewTrace};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::ConversationsService;

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

/// Entries written per transaction at most.
const BATCH: usize = 256;

enum Queued {
    Entry(NewTrace),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// Writes trace entries behind the conversations, in order, many per transaction: a message's
/// handling records half a dozen entries, and on SQLite a commit each would make the trace most
/// of what a message costs. Handling a message flushes its entries before the message counts
/// as handled, so a message whose trace was lost in a crash is handled again on the next start.
pub(crate) struct TraceWriter {
    queue: mpsc::UnboundedSender<Queued>,
}

impl TraceWriter {
    /// Starts the writer task (on the current tokio runtime).
    pub(crate) fn start(store: Arc<dyn ConversationStore>) -> Self {
        let (queue, mut receiver) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut flushes = Vec::new();
            while let Some(first) = receiver.recv().await {
                let mut next = Some(first);
                while let Some(queued) = next.take() {
                    match queued {
                        Queued::Entry(entry) => batch.push(entry),
                        Queued::Flush(done) => flushes.push(done),
                    }
                    if batch.len() < BATCH {
                        next = receiver.try_recv().ok();
                    }
                }
                if let Err(err) = store.append_traces(&batch).await {
                    tracing::warn!(entries = batch.len(), error = %err, "could not write trace entries");
                }
                batch.clear();
                for done in flushes.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        Self { queue }
    }

    fn push(&self, entry: NewTrace) {
        if self.queue.send(Queued::Entry(entry)).is_err() {
            tracing::warn!("the trace writer has stopped; an entry was dropped");
        }
    }

    /// Waits until every entry queued so far is written.
    pub(crate) async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Queued::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }
}

impl ConversationsService {
    /// Queues a trace entry (see [`entry`]); it is written with others shortly after (see
    /// [`TraceWriter`]).
    pub(crate) fn trace(&self, entry: NewTrace) {
        self.traces.push(entry);
    }
}

/// A trace entry made now.
pub(crate) fn entry(
    tenant: &TenantId,
    conversation: &ConversationId,
    message: Option<&MessageId>,
    kind: &str,
    data: Value,
) -> NewTrace {
    NewTrace {
        tenant: tenant.clone(),
        conversation: conversation.clone(),
        message: message.cloned(),
        kind: kind.to_owned(),
        data,
        at: Timestamp::now(),
    }
}

/// What handling one visitor message records — trace entries and endpoint call statistics —
/// written together with its handled mark (see `finish_message`), not one by one.
#[derive(Default)]
pub(crate) struct Turn {
    traces: Mutex<Vec<NewTrace>>,
    call_stats: Mutex<Vec<HourlyStats>>,
    replies: Mutex<Vec<Reply>>,
    proposed: Mutex<Vec<PendingAction>>,
    settled: Mutex<Option<Settled>>,
}

/// How an agreed action ended, written with the turn that ran it.
pub(crate) struct Settled {
    pub id: ActionId,
    pub state: ActionState,
    pub outcome: Value,
}

/// Everything a turn recorded, each in order.
pub(crate) struct TurnParts {
    pub traces: Vec<NewTrace>,
    pub call_stats: Vec<HourlyStats>,
    pub replies: Vec<Reply>,
    pub proposed: Vec<PendingAction>,
    pub settled: Option<Settled>,
}

/// A message the handling sends; stored (and announced) with the rest of the turn.
pub(crate) struct Reply {
    pub id: MessageId,
    pub author: Author,
    pub text: String,
    pub created_at: Timestamp,
    /// The action this message asks to agree to (one of the turn's proposals).
    pub action: Option<ActionId>,
    /// What an assistant's reply came from.
    pub source: Option<sb_domain::analytics::ReplySource>,
}

impl Turn {
    /// Records a trace entry (see [`entry`]).
    pub(crate) fn trace(&self, entry: NewTrace) {
        self.traces.lock().unwrap_or_else(|p| p.into_inner()).push(entry);
    }

    /// Records that handling `message` failed, `data` saying how.
    pub(crate) fn trace_failure(
        &self,
        tenant: &TenantId,
        message: &sb_domain::Message,
        data: Value,
    ) {
        self.trace(entry(tenant, &message.conversation_id, Some(&message.id), "error", data));
    }

    pub(crate) fn count(&self, delta: HourlyStats) {
        self.call_stats.lock().unwrap_or_else(|p| p.into_inner()).push(delta);
    }

    /// Sends `text` in the conversation when the turn is written; the message's id.
    pub(crate) fn reply(
        &self,
        author: Author,
        text: &str,
        source: Option<sb_domain::analytics::ReplySource>,
    ) -> MessageId {
        let id = MessageId::new();
        self.push_reply(id.clone(), author, text, None, source);
        id
    }

    fn push_reply(
        &self,
        id: MessageId,
        author: Author,
        text: &str,
        action: Option<ActionId>,
        source: Option<sb_domain::analytics::ReplySource>,
    ) {
        let created_at = Timestamp::now();
        let reply = Reply { id, author, text: text.to_owned(), created_at, action, source };
        self.replies.lock().unwrap_or_else(|p| p.into_inner()).push(reply);
    }

    /// Stores `action` with the turn and asks for it with a bot message showing its summary;
    /// the message's id.
    pub(crate) fn propose(
        &self,
        action: PendingAction,
        source: sb_domain::analytics::ReplySource,
    ) -> MessageId {
        let id = MessageId::new();
        let (summary, asks) = (action.summary.clone(), Some(action.id.clone()));
        self.push_reply(id.clone(), Author::Bot, &summary, asks, Some(source));
        self.proposed.lock().unwrap_or_else(|p| p.into_inner()).push(action);
        id
    }

    /// Records how the agreed action this turn ran ended.
    pub(crate) fn settle(&self, settled: Settled) {
        *self.settled.lock().unwrap_or_else(|p| p.into_inner()) = Some(settled);
    }

    pub(crate) fn into_parts(self) -> TurnParts {
        TurnParts {
            traces: self.traces.into_inner().unwrap_or_else(|p| p.into_inner()),
            call_stats: self.call_stats.into_inner().unwrap_or_else(|p| p.into_inner()),
            replies: self.replies.into_inner().unwrap_or_else(|p| p.into_inner()),
            proposed: self.proposed.into_inner().unwrap_or_else(|p| p.into_inner()),
            settled: self.settled.into_inner().unwrap_or_else(|p| p.into_inner()),
        }
    }
}

/// Records each backend call of a conversation in its trace and its endpoint's statistics.
pub(crate) struct TraceSink<'a> {
    pub turn: &'a Turn,
    pub tenant: &'a TenantId,
    pub conversation: &'a ConversationId,
    pub message: Option<&'a MessageId>,
}

#[async_trait]
impl CallSink for TraceSink<'_> {
    async fn record(&self, connection: &Connection, endpoint: &Endpoint, outcome: &CallOutcome) {
        let mut data = json!({
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
            "found": outcome.found,
            "error": outcome.error,
            "mapped": outcome.mapped.keys().collect::<Vec<_>>(),
            "missing": outcome.missing,
            "notes": outcome.notes,
        });
        if endpoint.cache_ttl_s.is_some() {
            data["cache"] = json!(if outcome.cached { "hit" } else { "miss" });
        }
        if let Some(tool) = &endpoint.tool {
            // A tool's arguments and result are what the call was (both scrubbed of secrets).
            let sent = outcome.request.as_ref().and_then(|r| r.body.as_deref());
            let sent: Option<serde_json::Value> = sent.and_then(|b| serde_json::from_str(b).ok());
            data["tool"] = json!(tool.name);
            let arguments = sent.map(|b| b["params"]["arguments"].clone()).unwrap_or_default();
            data["arguments"] = shorten(&arguments);
            data["result"] = shorten(&outcome.body_json.clone().unwrap_or_default());
        }
        self.turn.trace(entry(self.tenant, self.conversation, self.message, "api_call", data));
        // The statistics describe the backend; an answer from the cache never reached it.
        if !outcome.cached {
            self.turn.count(crate::ConnectionsService::call_delta(endpoint, outcome));
        }
    }
}
