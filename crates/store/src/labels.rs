use async_trait::async_trait;
use sb_domain::{ConversationId, Label, LabelId, TenantId};

use crate::StoreResult;

/// Each tenant's labels, and which conversations carry them.
#[async_trait]
pub trait LabelStore: Send + Sync {
    /// Conflict `LabelName` when the tenant has a label of that name.
    async fn create_label(&self, label: &Label) -> StoreResult<()>;
    /// The tenant's labels by name.
    async fn list_labels(&self, tenant: &TenantId) -> StoreResult<Vec<Label>>;
    /// Deletes the label and takes it off every conversation of the tenant; returns it.
    async fn delete_label(&self, tenant: &TenantId, id: &LabelId) -> StoreResult<Label>;
    /// Replaces the conversation's labels (names, as given); NotFound when the conversation is
    /// not the tenant's.
    async fn set_conversation_labels(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        labels: &[String],
    ) -> StoreResult<()>;
}
