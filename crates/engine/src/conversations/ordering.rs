//! One conversation's messages in order across nodes. On one node the conversation's queue is
//! enough. With several nodes (PostgreSQL), two nodes may each receive a message of the same
//! conversation; so a node first takes the conversation's lease in the database, then handles
//! the conversation's unhandled messages oldest first — its own among them, unless another node
//! got to it — and lets go. The lease is short and renewed while a message is being handled
//! (an AI reply can take half a minute), so a node that dies frees its conversations soon.

use std::time::Duration;

use sb_domain::{ActionId, ConversationId, Message, MessageId, TenantId, Timestamp};

use super::ConversationsService;

/// How long a lease lasts unless renewed.
const LEASE: Duration = Duration::from_secs(15);
/// How often a lease is renewed while its holder works through the conversation.
const RENEW: Duration = Duration::from_secs(5);
/// How often a node waiting for a lease asks again.
const RETRY: Duration = Duration::from_millis(20);

/// Who holds leases for this node.
pub(crate) struct Ordering {
    /// Unique per engine (per node).
    holder: String,
    /// Only stores several nodes can share need the lease.
    across_nodes: bool,
}

impl Ordering {
    pub(crate) fn new(across_nodes: bool) -> Self {
        Self { holder: format!("node_{}", sb_domain::random_token(16)), across_nodes }
    }
}

fn until_from_now() -> (Timestamp, Timestamp) {
    let now = Timestamp::now();
    let lease = jiff::SignedDuration::try_from(LEASE).unwrap_or(jiff::SignedDuration::ZERO);
    (now + lease, now)
}

impl ConversationsService {
    /// Handles `message` in its conversation's order (see the module notes); returns its
    /// replies as stored when this call handled it.
    pub(crate) async fn handle_in_order(
        &self,
        tenant: &TenantId,
        message: &Message,
    ) -> Option<Vec<Message>> {
        if !self.ordering.across_nodes {
            return self.handle(tenant, message).await;
        }
        let conversation = &message.conversation_id;
        if !self.wait_for_lease(conversation).await {
            // Availability over order: after a lease's whole life, handle it anyway.
            tracing::warn!(%conversation, "no lease on the conversation; handling the message anyway");
            return self.handle(tenant, message).await;
        }
        // Renewed every few seconds for as long as this node works through the conversation.
        let mut renewing = self.keep_renewing(conversation);
        let holder = &self.ordering.holder;
        let mut handled: Vec<MessageId> = Vec::new();
        let mut replies = None;
        loop {
            let next = match self.store.conversations.next_unprocessed(tenant, conversation).await {
                Ok(Some(next)) if !handled.contains(&next.id) => next,
                // Nothing left, or a message that could not be marked handled: stop here.
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(%conversation, error = %err, "could not read the next message");
                    break;
                }
            };
            let sent = self.handle(tenant, &next).await;
            if next.id == message.id {
                replies = sent;
            }
            handled.push(next.id);
            // Done unless another message arrived meanwhile (then: renew, and handle it).
            renewing.abort();
            match self.store.conversations.release_lease_when_idle(conversation, holder).await {
                Ok(true) => return replies,
                Ok(false) => renewing = self.keep_renewing(conversation),
                Err(err) => {
                    tracing::warn!(%conversation, error = %err, "could not let go of the lease");
                    break;
                }
            }
        }
        renewing.abort();
        let _ = self.store.conversations.release_lease(conversation, holder).await;
        replies
    }

    /// Runs the agreed (or refused) `action` proposed by `message`, in the conversation's
    /// order; returns the replies as stored.
    pub(crate) async fn settle_in_order(
        &self,
        tenant: &TenantId,
        message: &Message,
        action: &ActionId,
    ) -> Option<Vec<Message>> {
        let conversation = &message.conversation_id;
        if !self.ordering.across_nodes {
            return self.settle_action(tenant, message, action).await;
        }
        if !self.wait_for_lease(conversation).await {
            tracing::warn!(%conversation, "no lease on the conversation; running the action anyway");
            return self.settle_action(tenant, message, action).await;
        }
        let renewing = self.keep_renewing(conversation);
        let replies = self.settle_action(tenant, message, action).await;
        renewing.abort();
        let _ = self.store.conversations.release_lease(conversation, &self.ordering.holder).await;
        replies
    }

    async fn wait_for_lease(&self, conversation: &ConversationId) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < LEASE {
            let (until, now) = until_from_now();
            match self
                .store
                .conversations
                .take_lease(conversation, &self.ordering.holder, until, now)
                .await
            {
                Ok(true) => return true,
                Ok(false) => tokio::time::sleep(RETRY).await,
                Err(err) => {
                    tracing::warn!(%conversation, error = %err, "could not take the lease");
                    tokio::time::sleep(RETRY * 10).await;
                }
            }
        }
        false
    }

    /// Renews the lease every few seconds until aborted.
    fn keep_renewing(&self, conversation: &ConversationId) -> tokio::task::JoinHandle<()> {
        let (store, holder, conversation) =
            (self.store.conversations.clone(), self.ordering.holder.clone(), conversation.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW).await;
                let (until, now) = until_from_now();
                let _ = store.take_lease(&conversation, &holder, until, now).await;
            }
        })
    }
}
