use async_trait::async_trait;
use sb_domain::{AiSettings, AiUsage, ConversationId, TenantId, Timestamp};

use crate::StoreResult;

/// Token totals over some period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageTotals {
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

#[async_trait]
pub trait AiStore: Send + Sync {
    /// The tenant's own provider settings and sealed key, if it set any.
    async fn get_ai_settings(
        &self,
        tenant: &TenantId,
    ) -> StoreResult<Option<(AiSettings, Option<String>)>>;
    async fn put_ai_settings(
        &self,
        settings: &AiSettings,
        api_key_sealed: Option<&str>,
    ) -> StoreResult<()>;
    async fn delete_ai_settings(&self, tenant: &TenantId) -> StoreResult<()>;
    async fn record_ai_usage(&self, usage: &AiUsage) -> StoreResult<()>;
    /// Totals for the tenant since `since`, optionally for one conversation.
    async fn ai_usage_totals(
        &self,
        tenant: &TenantId,
        conversation: Option<&ConversationId>,
        since: Timestamp,
    ) -> StoreResult<UsageTotals>;
}
