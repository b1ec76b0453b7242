use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock};

use sb_domain::events::{ConversationEvent, EventSink};
use sb_domain::{ConversationId, TenantId};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// What subscribers receive: stored conversation events, and transient typing signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Event {
    Conversation(ConversationEvent),
    Typing(Typing),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Typing {
    /// Always `typing`.
    #[serde(rename = "type")]
    pub kind: String,
    pub conversation_id: ConversationId,
    /// `visitor` or `operator`.
    pub author: String,
    pub typing: bool,
}

/// How many events a slow subscriber may fall behind before it is told to resynchronise.
const BACKLOG: usize = 256;

type Topics<K> = Mutex<HashMap<K, broadcast::Sender<Arc<Event>>>>;

fn send<K: Eq + Hash>(topics: &Topics<K>, key: &K, event: &Arc<Event>) {
    let topics = topics.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(sender) = topics.get(key) {
        // No receivers left is not an error: the guard removes the topic soon.
        let _ = sender.send(event.clone());
    }
}

/// Hands an event published on this node, with its tenant, to the other nodes.
type Relay = Box<dyn Fn(&TenantId, &Event) + Send + Sync>;

#[derive(Default)]
pub struct Hub {
    tenants: Topics<TenantId>,
    conversations: Topics<ConversationId>,
    /// Where events from this node also go so that other nodes hear them (see `cluster`).
    relay: OnceLock<Relay>,
    /// Whether the cross-node bus is connected; unset without one.
    bus: OnceLock<Arc<std::sync::atomic::AtomicBool>>,
}

/// A live subscription. Dropping it unsubscribes, and removes the topic if it was the last one.
pub struct Subscription {
    receiver: Option<broadcast::Receiver<Arc<Event>>>,
    release: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Subscription {
    pub fn receiver(&mut self) -> &mut broadcast::Receiver<Arc<Event>> {
        self.receiver.as_mut().expect("a live subscription has a receiver")
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.receiver.take());
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

fn subscribe<K: Eq + Hash + Clone + Send + Sync + 'static>(
    hub: &Arc<Hub>,
    pick: fn(&Hub) -> &Topics<K>,
    key: K,
) -> Subscription {
    let receiver = {
        let mut topics = pick(hub).lock().unwrap_or_else(|p| p.into_inner());
        topics.entry(key.clone()).or_insert_with(|| broadcast::channel(BACKLOG).0).subscribe()
    };
    let hub = hub.clone();
    let release = move || {
        let mut topics = pick(&hub).lock().unwrap_or_else(|p| p.into_inner());
        if topics.get(&key).is_some_and(|sender| sender.receiver_count() == 0) {
            topics.remove(&key);
        }
    };
    Subscription { receiver: Some(receiver), release: Some(Box::new(release)) }
}

impl Hub {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Everything that happens in the tenant's conversations (the operators' feed).
    pub fn subscribe_tenant(self: &Arc<Self>, tenant: TenantId) -> Subscription {
        subscribe(self, |hub| &hub.tenants, tenant)
    }

    /// What happens in one conversation (the visitor's feed).
    pub fn subscribe_conversation(self: &Arc<Self>, conversation: ConversationId) -> Subscription {
        subscribe(self, |hub| &hub.conversations, conversation)
    }

    /// Relays a typing signal to the other side of the conversation.
    pub fn typing(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        author: &'static str,
        typing: bool,
    ) {
        let event = Event::Typing(Typing {
            kind: "typing".into(),
            conversation_id: conversation.clone(),
            author: author.into(),
            typing,
        });
        self.relay(tenant, &event);
        self.deliver(tenant, conversation, Arc::new(event));
    }

    /// Sends `event` to this node's subscribers only.
    fn deliver(&self, tenant: &TenantId, conversation: &ConversationId, event: Arc<Event>) {
        send(&self.tenants, tenant, &event);
        send(&self.conversations, conversation, &event);
    }

    /// Delivers a tenant's event another node published (it is not relayed again).
    pub fn deliver_from_elsewhere(&self, tenant: &TenantId, event: Event) {
        let conversation = match &event {
            Event::Conversation(e) => e.conversation_id().clone(),
            Event::Typing(t) => t.conversation_id.clone(),
        };
        self.deliver(tenant, &conversation, Arc::new(event));
    }

    /// Also hands every event published on this node to `relay`, with its tenant (once; later
    /// calls are ignored). It must not block.
    pub fn set_relay(&self, relay: impl Fn(&TenantId, &Event) + Send + Sync + 'static) {
        let _ = self.relay.set(Box::new(relay));
    }

    /// `None` without a cross-node bus; otherwise whether it is connected now.
    pub fn bus_connected(&self) -> Option<bool> {
        self.bus.get().map(|b| b.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub(crate) fn set_bus_state(&self, state: Arc<std::sync::atomic::AtomicBool>) {
        let _ = self.bus.set(state);
    }

    fn relay(&self, tenant: &TenantId, event: &Event) {
        if let Some(relay) = self.relay.get() {
            relay(tenant, event);
        }
    }

    /// Topics with at least one subscriber: (tenants, conversations).
    pub fn topic_counts(&self) -> (usize, usize) {
        fn count<K>(topics: &Topics<K>) -> usize {
            topics.lock().map(|m| m.len()).unwrap_or(0)
        }
        (count(&self.tenants), count(&self.conversations))
    }
}

impl EventSink for Hub {
    fn publish(&self, event: ConversationEvent) {
        let (tenant, conversation) = (event.tenant_id().clone(), event.conversation_id().clone());
        let event = Event::Conversation(event);
        self.relay(&tenant, &event);
        self.deliver(&tenant, &conversation, Arc::new(event));
    }
}

#[cfg(test)]
mod tests {
    use sb_domain::WidgetId;

    use super::*;

    #[tokio::test]
    async fn subscribers_receive_their_topics_and_guards_clean_up() {
        let hub = Hub::new();
        let (tenant, other) = (TenantId::new(), TenantId::new());
        let conversation = ConversationId::new();
        let mut operators = hub.subscribe_tenant(tenant.clone());
        let mut visitor = hub.subscribe_conversation(conversation.clone());
        let mut outsider = hub.subscribe_tenant(other.clone());
        hub.publish(ConversationEvent::ConversationCreated {
            tenant_id: tenant.clone(),
            conversation_id: conversation.clone(),
            widget_id: WidgetId::new(),
        });
        hub.typing(&tenant, &conversation, "visitor", true);
        assert!(matches!(*operators.receiver().recv().await.unwrap(), Event::Conversation(_)));
        assert!(matches!(*visitor.receiver().recv().await.unwrap(), Event::Conversation(_)));
        assert!(matches!(*operators.receiver().recv().await.unwrap(), Event::Typing(_)));
        assert!(outsider.receiver().try_recv().is_err(), "other tenants hear nothing");
        assert_eq!(hub.topic_counts(), (2, 1));
        drop(visitor);
        drop(outsider);
        assert_eq!(hub.topic_counts(), (1, 0), "unused topics are removed with their last guard");
        let second = hub.subscribe_tenant(tenant.clone());
        drop(operators);
        assert_eq!(hub.topic_counts(), (1, 0), "a topic stays while anyone listens");
        drop(second);
        assert_eq!(hub.topic_counts(), (0, 0));
    }
}
