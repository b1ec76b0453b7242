use async_trait::async_trait;
use sb_domain::{Channel, ChannelId, ChannelKind, ConversationId, TenantId, Timestamp};

use crate::StoreResult;

/// A channel with its sealed secrets (opened by the engine only where they are used).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChannel {
    pub channel: Channel,
    pub sealed_secrets: Option<String>,
    /// What the channel's inbound side last saw (JSON the engine writes: an IMAP mailbox's
    /// cursor, when it was last reached, its last error).
    pub inbound_state: Option<String>,
    /// Which start of the inbound side `inbound_state` belongs to (see
    /// [`ChannelStore::reset_inbound`]).
    pub inbound_generation: i64,
}

/// A channel conversation's place on the other side, and how far its replies went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelThread {
    pub tenant_id: TenantId,
    pub conversation_id: ConversationId,
    pub channel_id: ChannelId,
    /// The chat, number or e-mail thread on the provider's side.
    pub thread_key: String,
    /// Bot and operator messages up to this number have been sent (or skipped).
    pub delivered_seq: i64,
    pub last_inbound_at: Timestamp,
    /// Failed sends in a row of the message after `delivered_seq`.
    pub attempts: u32,
    /// When the template went out to a thread waiting outside WhatsApp's 24-hour window.
    pub template_sent_at: Option<Timestamp>,
    /// What a reply needs to land in the thread (JSON the engine writes: e-mail's address,
    /// subject and Message-IDs).
    pub reply_context: Option<String>,
}

#[async_trait]
pub trait ChannelStore: Send + Sync {
    async fn create_channel(&self, channel: &Channel, sealed: Option<&str>) -> StoreResult<()>;
    /// Settings, name, widget, activity and (when `Some`) secrets.
    async fn update_channel(
        &self,
        channel: &Channel,
        sealed: Option<Option<&str>>,
    ) -> StoreResult<()>;
    async fn get_channel(&self, tenant: &TenantId, id: &ChannelId) -> StoreResult<StoredChannel>;
    /// Global lookup: how a provider's webhook, knowing only the channel id, finds its tenant.
    async fn find_channel(&self, id: &ChannelId) -> StoreResult<Option<StoredChannel>>;
    async fn list_channels(&self, tenant: &TenantId) -> StoreResult<Vec<StoredChannel>>;
    /// Deletes the channel; its conversations stay (their thread rows go).
    async fn delete_channel(&self, tenant: &TenantId, id: &ChannelId) -> StoreResult<()>;

    /// Every channel of `kind`, of every account (the mailboxes a node watches).
    async fn channels_of_kind(&self, kind: ChannelKind) -> StoreResult<Vec<StoredChannel>>;
    /// Records what the channel's inbound side saw (see [`StoredChannel::inbound_state`]),
    /// unless it was started afresh since `generation`: then false, and nothing is written.
    async fn set_inbound_state(
        &self,
        channel: &ChannelId,
        state: &str,
        generation: i64,
    ) -> StoreResult<bool>;
    /// Starts the inbound side afresh (another mailbox, another bot): its state is forgotten
    /// and its generation raised.
    async fn reset_inbound(&self, channel: &ChannelId) -> StoreResult<()>;
    /// Ends every claim node `by` holds on channels' inbound sides (the node stops).
    async fn release_inbound(&self, by: &str) -> StoreResult<()>;

    /// Claims the channel's inbound side (its mailbox) for node `by` until `until`: true when
    /// no other node holds it (or its claim ran out), or `by` already did.
    async fn claim_inbound(
        &self,
        channel: &ChannelId,
        by: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<bool>;

    /// Records that the channel received the provider's item `external_id` (of thread
    /// `thread_key`, when known), to be taken now; false when it already had — taken, or
    /// noted after `stale_before` and still being taken (a provider sending it again). An item
    /// noted before `stale_before` and never taken (its node died) is noted anew.
    async fn note_inbound(
        &self,
        channel: &ChannelId,
        external_id: &str,
        thread_key: Option<&str>,
        at: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<bool>;
    /// The noted item is in its conversation: never taken again.
    async fn mark_inbound_taken(
        &self,
        channel: &ChannelId,
        external_id: &str,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Forgets the items received before `before`; how many.
    async fn prune_inbound(&self, before: Timestamp) -> StoreResult<u64>;
    /// The thread of a received item, when it was noted with one.
    async fn inbound_thread(
        &self,
        channel: &ChannelId,
        external_id: &str,
    ) -> StoreResult<Option<String>>;
    /// Forgets a received item (its message could not be stored: the provider's retry may
    /// bring it again).
    async fn forget_inbound(&self, channel: &ChannelId, external_id: &str) -> StoreResult<()>;

    /// The conversation of `thread_key` on the channel, if there is one.
    async fn find_thread(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        thread_key: &str,
    ) -> StoreResult<Option<ChannelThread>>;
    async fn get_thread(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Option<ChannelThread>>;
    /// Starts the thread of a new channel conversation (conflict: the thread has one already).
    async fn create_thread(&self, thread: &ChannelThread) -> StoreResult<()>;
    /// The customer wrote again: replies waiting (for the window, or a retry) are due now.
    async fn touch_thread(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        at: Timestamp,
    ) -> StoreResult<()>;

    /// Keeps what the thread's next reply needs (see [`ChannelThread::reply_context`]).
    async fn set_reply_context(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        context: &str,
    ) -> StoreResult<()>;

    /// Claims, for node `by` until `lease_until`, up to `limit` threads of active channels with
    /// replies to send that no node holds and whose next attempt is due.
    async fn claim_due_threads(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        by: &str,
        limit: u32,
    ) -> StoreResult<Vec<ChannelThread>>;
    /// Messages up to `seq` went out (the claim stays). False when the claim is no longer
    /// `by`'s: the pass must stop.
    async fn mark_delivered(&self, thread: &ChannelThread, by: &str, seq: i64)
    -> StoreResult<bool>;
    /// The replies wait until `until` or the customer's next message (WhatsApp outside its
    /// window), the template sent at `template_sent_at` noted — unless the customer wrote since
    /// the claim.
    async fn hold_thread(
        &self,
        thread: &ChannelThread,
        by: &str,
        template_sent_at: Option<Timestamp>,
        until: Timestamp,
    ) -> StoreResult<()>;
    /// A send failed: tried again from `next_attempt_at` (unless the customer wrote since the
    /// claim: then at once).
    async fn mark_delivery_failed(
        &self,
        thread: &ChannelThread,
        by: &str,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> StoreResult<()>;
    /// How many of the channel's conversations have replies waiting after a failed send, and
    /// the latest failure's reason.
    async fn failing_deliveries(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
    ) -> StoreResult<(u64, Option<String>)>;
    /// Ends `by`'s claim.
    async fn release_thread(&self, thread: &ChannelThread, by: &str) -> StoreResult<()>;
}
