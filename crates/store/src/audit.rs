use async_trait::async_trait;
use sb_domain::{AuditEntry, ContactId, ConversationId, TenantId, Timestamp};

use crate::{Page, PageRequest, StoreResult};

/// What erasing a contact removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    pub conversations: u64,
    pub webhook_deliveries: u64,
    pub attachments: u64,
}

/// The audit log, and the deletions privacy asks for.
#[async_trait]
pub trait PrivacyStore: Send + Sync {
    async fn record_audit(&self, entry: &AuditEntry) -> StoreResult<()>;
    /// Newest first (`actor_email` read through the user).
    async fn list_audit(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditEntry>>;
    /// Deletes the contact, its conversations (with their messages, notes, trace, actions and
    /// read marks) and the webhook deliveries that carried them, in one transaction; NotFound
    /// when the contact is not the tenant's.
    async fn erase_contact(&self, tenant: &TenantId, contact: &ContactId) -> StoreResult<Erased>;
    /// Closed conversations of tenants with a retention period, last active before it: at
    /// most `limit`, oldest first.
    async fn expired_conversations(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(TenantId, ConversationId)>>;
    /// Deletes the contacts of tenants with a retention period that have no conversation left
    /// and were last seen before it; how many.
    async fn delete_idle_contacts(&self, now: Timestamp) -> StoreResult<u64>;
    /// Deletes one conversation and the webhook deliveries that carried it.
    async fn delete_conversation(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<()>;
    /// Makes deleted data unrecoverable from the database files where the backend can
    /// (SQLite: deleted content is zeroed as it goes; this empties the write-ahead log).
    async fn scrub(&self) -> StoreResult<()>;
}

/// Visitors' ratings of conversations and feedback on bot replies.
#[async_trait]
pub trait RatingStore: Send + Sync {
    /// Saves (or replaces) the closed conversation's rating and, in the same unit, how it ended
    /// in the light of it (still counted in the hour it closed).
    async fn rate(
        &self,
        tenant: &TenantId,
        rating: &sb_domain::Rating,
        outcome: sb_domain::analytics::Outcome,
    ) -> StoreResult<()>;
    async fn rating(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Option<sb_domain::Rating>>;
    /// Saves (or replaces) the feedback on a message of `conversation`.
    async fn give_feedback(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        feedback: &sb_domain::Feedback,
    ) -> StoreResult<()>;
    async fn feedback(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Vec<sb_domain::Feedback>>;
}
