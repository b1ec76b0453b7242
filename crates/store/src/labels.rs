use async_trait::async_trait;
use sb_domain::{CannedReply, CannedReplyId, Label, LabelId, TenantId};

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
}

/// Each tenant's canned replies.
#[async_trait]
pub trait CannedReplyStore: Send + Sync {
    /// Conflict `CannedShortcut` when the tenant has one with that shortcut.
    async fn create_canned_reply(&self, reply: &CannedReply) -> StoreResult<()>;
    /// The tenant's replies by shortcut.
    async fn list_canned_replies(&self, tenant: &TenantId) -> StoreResult<Vec<CannedReply>>;
    async fn get_canned_reply(
        &self,
        tenant: &TenantId,
        id: &CannedReplyId,
    ) -> StoreResult<CannedReply>;
    async fn update_canned_reply(&self, reply: &CannedReply) -> StoreResult<()>;
    async fn delete_canned_reply(&self, tenant: &TenantId, id: &CannedReplyId) -> StoreResult<()>;
}
