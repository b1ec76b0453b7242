use async_trait::async_trait;
use sb_domain::analytics::{FirstResponse, HourCount, Outcome, OutcomeFacts, QuestionGap};
use sb_domain::{ConversationId, TenantId, Timestamp, WidgetId};

use crate::StoreResult;

/// What a status change does to how the conversation ended: written in the same unit as the
/// change, so a close is never without its outcome (nor its counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeChange {
    /// Neither closed nor opened: how it ended stays.
    Unchanged,
    /// Closed now, ending so (counted in this hour).
    Closed(Outcome),
    /// Opened again: undecided until it closes again.
    Reopened,
}

/// The most metrics [`AnalyticsStore::hour_counts`] picks by name.
pub const MAX_METRICS: usize = 32;

/// What analytics keeps of conversations (docs/analytics.md).
#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// What decides how the conversation ended, as it stands now.
    async fn outcome_facts(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<OutcomeFacts>;

    /// Folds the counts added since the last fold (at most `batch` of them) into their hours'
    /// totals; how many were folded. Reports read both, so folding changes no figure: it keeps
    /// the added counts few (see docs/analytics.md, "How counts are kept").
    async fn fold_counts(&self, batch: u32) -> StoreResult<u64>;

    /// The counts of the hours starting in `from..to`, of one widget or all (summed), by hour
    /// then metric; only of `metrics` when given (all of them when more than [`MAX_METRICS`]).
    async fn hour_counts(
        &self,
        tenant: &TenantId,
        widget: Option<&WidgetId>,
        from: Timestamp,
        to: Timestamp,
        metrics: Option<&[&str]>,
    ) -> StoreResult<Vec<HourCount>>;

    /// The questions asked in `from..to` that the assistant did not answer well, newest first,
    /// at most `limit`.
    async fn question_gaps(
        &self,
        tenant: &TenantId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<QuestionGap>>;

    /// The counts of the hours starting in `from..to` summed per metric (one widget or all).
    async fn metric_totals(
        &self,
        tenant: &TenantId,
        widget: Option<&WidgetId>,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<(String, i64)>>;

    /// The median and 90th percentile (nearest rank) of how long the visitors of the
    /// conversations started in `from..to` waited for the assistant's first reply and for a
    /// person's, in milliseconds — found in the database, without reading every wait out.
    async fn first_responses(
        &self,
        tenant: &TenantId,
        widget: Option<&WidgetId>,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<FirstResponse>;
}
