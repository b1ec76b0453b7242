use async_trait::async_trait;
use sb_domain::attachment::AttachmentRef;
use sb_domain::{AttachmentId, ContactId, ConversationId, Message, TenantId, Timestamp};

use crate::{NewMessage, StoreResult};

/// A file to keep with a new message: how the message lists it, and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct NewAttachment<'a> {
    pub listed: &'a AttachmentRef,
    pub bytes: &'a [u8],
}

/// Files sent in conversations. They belong to their conversation: only it reaches them, and
/// they go when it goes (erasure, retention).
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Keeps the files and appends `message` listing them, as one: when the message cannot be
    /// written, no file stays.
    async fn append_message_with_files(
        &self,
        tenant: &TenantId,
        message: NewMessage<'_>,
        files: &[NewAttachment<'_>],
    ) -> StoreResult<Message>;

    /// A file of the conversation, and its bytes; NotFound unless it is this tenant's and this
    /// conversation's.
    async fn attachment(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        id: &AttachmentId,
    ) -> StoreResult<(AttachmentRef, Vec<u8>)>;

    /// The files of a contact's conversations (for the export), oldest first.
    async fn contact_attachments(
        &self,
        tenant: &TenantId,
        contact: &ContactId,
    ) -> StoreResult<Vec<(ConversationId, AttachmentRef)>>;

    /// Removes kept bytes that no attachment names any more and that were written before
    /// `before` (what a crash between the two writes, or a deletion, left behind). Returns how
    /// many went.
    async fn sweep_attachment_files(&self, before: Timestamp) -> StoreResult<u64>;
}
