//! Getting events to webhooks without ever holding up a conversation.
//!
//! **Queueing.** The engine publishes every conversation event, after storing it, to its event
//! sink — a non-blocking call. The [`Tap`] in front of that sink also offers a copy to a bounded
//! in-memory channel (`try_send`: when it is full the copy is dropped and counted, never waited
//! for). A task of this node reads the channel in batches, finds the tenants' active webhooks
//! and writes one durable delivery row per subscribed webhook. So the message path pays for a
//! clone and a channel send, nothing more; no query, no write, no receiver.
//!
//! The trade-off: between an event being stored and its delivery rows being written (usually
//! milliseconds) the event lives only in this process. A crash in that window, or a full
//! channel (the database stalled for a long time), loses the webhook deliveries of those
//! events — the conversation itself is safe. Writing the rows in the same transaction as each
//! message would close the window, at the price of extra writes on every message of every
//! tenant, on SQLite's single writer. Once written, a delivery survives restarts and is retried
//! for the whole retry window.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sb_domain::webhook::Webhook;
use sb_domain::{Conversation, ConversationId, DeliveryId, TenantId, Timestamp};
use sb_store::NewDelivery;
use tokio::sync::mpsc;

use super::payload;
use crate::{EngineError, WebhooksService};
use sb_domain::events::{ConversationEvent, EventSink};

/// Events waiting to become delivery rows, at most.
const QUEUE: usize = 10_000;
/// Events turned into rows at once.
pub(super) const BATCH: usize = 256;

/// In front of the engine's event sink: passes every event on, and offers a copy to the webhook
/// queue once the worker runs. Never blocks.
pub(crate) struct Tap {
    inner: Arc<dyn EventSink>,
    sender: mpsc::Sender<ConversationEvent>,
    pub(super) on: AtomicBool,
    dropped: AtomicU64,
}

impl Tap {
    pub(crate) fn new(inner: Arc<dyn EventSink>) -> (Arc<Self>, mpsc::Receiver<ConversationEvent>) {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let tap = Self { inner, sender, on: AtomicBool::new(false), dropped: AtomicU64::new(0) };
        (Arc::new(tap), receiver)
    }
}

impl EventSink for Tap {
    fn publish(&self, event: ConversationEvent) {
        let wanted = !matches!(event, ConversationEvent::MessageUpdated { .. });
        if wanted
            && self.on.load(Ordering::Relaxed)
            && let Err(mpsc::error::TrySendError::Full(_)) = self.sender.try_send(event.clone())
        {
            metrics::counter!("webhook_events_dropped_total").increment(1);
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "the webhook queue is full: events dropped for webhooks");
            }
        }
        self.inner.publish(event);
    }
}

impl WebhooksService {
    /// Turns a batch of events into delivery rows; true when some were written. Store failures
    /// are retried a few times (the rows keep their ids, so a retried insert adds nothing
    /// twice); after that the batch's webhook deliveries are lost (logged and counted).
    pub(super) async fn queue_deliveries(&self, events: Vec<ConversationEvent>) -> bool {
        let mut rows = None;
        for attempt in 1..=3 {
            if attempt > 1 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            if rows.is_none() {
                match self.delivery_rows(&events).await {
                    Ok(made) => rows = Some(made),
                    Err(err) => {
                        tracing::warn!(error = %err, attempt, "could not queue webhook deliveries");
                        continue;
                    }
                }
            }
            let Some(made) = &rows else { continue };
            if made.is_empty() {
                return false;
            }
            match self.store.webhooks.enqueue_deliveries(made).await {
                Ok(()) => return true,
                Err(err) => {
                    tracing::warn!(error = %err, attempt, "could not queue webhook deliveries")
                }
            }
        }
        metrics::counter!("webhook_events_dropped_total").increment(events.len() as u64);
        tracing::error!(events = events.len(), "webhook deliveries of these events were lost");
        false
    }

    async fn delivery_rows(
        &self,
        events: &[ConversationEvent],
    ) -> Result<Vec<NewDelivery>, EngineError> {
        let mut webhooks: HashMap<TenantId, Vec<Webhook>> = HashMap::new();
        let mut conversations: HashMap<ConversationId, Option<Conversation>> = HashMap::new();
        let mut rows = Vec::new();
        let now = Timestamp::now();
        for event in events {
            let kinds = payload::webhook_events(event);
            if kinds.is_empty() {
                continue;
            }
            let tenant = event.tenant_id();
            if !webhooks.contains_key(tenant) {
                webhooks.insert(tenant.clone(), self.store.webhooks.active_webhooks(tenant).await?);
            }
            let hooks = &webhooks[tenant];
            for kind in kinds {
                let targets: Vec<&Webhook> = hooks.iter().filter(|w| w.wants(kind)).collect();
                if targets.is_empty() {
                    continue;
                }
                let id = event.conversation_id();
                if !conversations.contains_key(id) {
                    let found = match self.store.conversations.get_conversation(tenant, id).await {
                        Ok(c) => Some(c),
                        Err(sb_store::StoreError::NotFound) => None,
                        Err(err) => return Err(err.into()),
                    };
                    conversations.insert(id.clone(), found);
                }
                // A conversation deleted meanwhile (with its widget) has nothing to report.
                let Some(conversation) = &conversations[id] else { continue };
                let (data, at) = payload::data(event, conversation);
                let body = payload::body(kind, at, data);
                rows.extend(targets.into_iter().map(|webhook| NewDelivery {
                    id: DeliveryId::new(),
                    tenant_id: tenant.clone(),
                    webhook_id: webhook.id.clone(),
                    event: kind,
                    payload: body.clone(),
                    created_at: now,
                }));
            }
        }
        Ok(rows)
    }
}
