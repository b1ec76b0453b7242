use async_trait::async_trait;
use sb_domain::{ConversationId, MessageId, Note, TenantId, Timestamp, UserId};

use crate::StoreResult;

/// A note to store; it is placed after the conversation's last message at that moment.
#[derive(Debug, Clone, Copy)]
pub struct NewNote<'a> {
    pub id: &'a MessageId,
    pub tenant: &'a TenantId,
    pub conversation: &'a ConversationId,
    pub author_user_id: Option<&'a UserId>,
    pub text: &'a str,
    pub created_at: Timestamp,
}

/// Operators' private notes, kept apart from the messages visitors can read.
#[async_trait]
pub trait NoteStore: Send + Sync {
    /// Stores the note after the conversation's last message; NotFound when the conversation
    /// is not the tenant's.
    async fn add_note(&self, note: NewNote<'_>) -> StoreResult<Note>;
    /// The conversation's notes placed after message `after_seq` or later, in order.
    async fn list_notes(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        after_seq: i64,
    ) -> StoreResult<Vec<Note>>;
    async fn get_note(&self, tenant: &TenantId, id: &MessageId) -> StoreResult<Note>;
}
