use async_trait::async_trait;
use sb_domain::analytics::{Outcome, OutcomeFacts};
use sb_domain::{ConversationId, TenantId};

use crate::StoreResult;

/// What analytics keeps of conversations (docs/analytics.md).
#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// What decides how the conversation ended, as it stands now.
    async fn outcome_facts(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<OutcomeFacts>;

    /// Records how the conversation ended (`None` while it is open again).
    async fn set_outcome(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        outcome: Option<Outcome>,
    ) -> StoreResult<()>;
}
