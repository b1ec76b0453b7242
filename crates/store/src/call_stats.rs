use async_trait::async_trait;
use sb_domain::call_stats::HourlyStats;
use sb_domain::{ConnectionId, EndpointId, TenantId, Timestamp};

use crate::StoreResult;

/// Whose call statistics to read.
#[derive(Debug, Clone, Copy)]
pub enum StatsScope<'a> {
    Endpoints(&'a [EndpointId]),
    /// Every endpoint of these connections.
    Connections(&'a [ConnectionId]),
}

/// Hourly call statistics per endpoint (see `sb_domain::call_stats`).
#[async_trait]
pub trait CallStatsStore: Send + Sync {
    /// Adds `delta` (one call, usually) to the stored bucket of its endpoint and hour, creating
    /// it if needed — in one statement, so that nodes sharing a database add up. The endpoint
    /// (and its connection) must be the tenant's, else `MissingReference`.
    async fn add_call_stats(&self, tenant: &TenantId, delta: &HourlyStats) -> StoreResult<()>;
    /// The buckets of the endpoints in `scope` whose hour starts at `since` or later, plus each
    /// endpoint's latest bucket however old (it holds the endpoint's last call). Ordered by
    /// endpoint, then hour.
    async fn call_stats(
        &self,
        tenant: &TenantId,
        scope: StatsScope<'_>,
        since: Timestamp,
    ) -> StoreResult<Vec<HourlyStats>>;
    /// Deletes the buckets of every tenant whose hour started before `before` (maintenance).
    /// Returns how many were deleted.
    async fn prune_call_stats(&self, before: Timestamp) -> StoreResult<u64>;
}
