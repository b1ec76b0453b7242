//! Endpoint call health: counting every real call of a conversation, and the statistics shown
//! per endpoint and connection (see `sb_domain::call_stats` for the windows).

use std::collections::HashMap;

use sb_connectors::{CallError, CallOutcome};
use sb_domain::call_stats::{
    CallStats, ConnectionHealth, HourlyStats, RETENTION_HOURS, summarize, window_start,
};
use sb_domain::{ConnectionId, Endpoint, EndpointId, Role, TenantId, TestSummary, Timestamp};
use sb_store::StatsScope;
use schemars::JsonSchema;
use serde::Serialize;

use crate::{Actor, ConnectionsService, EngineError};

/// One endpoint's statistics.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EndpointStats {
    pub endpoint_id: EndpointId,
    pub name: String,
    #[serde(flatten)]
    pub stats: CallStats,
}

/// A connection's statistics: the total of its endpoints, and each endpoint's.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConnectionStats {
    pub connection_id: ConnectionId,
    #[serde(flatten)]
    pub total: CallStats,
    pub endpoints: Vec<EndpointStats>,
}

fn of_endpoint(rows: &[HourlyStats], endpoint: &EndpointId) -> Vec<HourlyStats> {
    rows.iter().filter(|r| r.endpoint_id == *endpoint).cloned().collect()
}

impl ConnectionsService {
    /// What a call a conversation made through the connector adds to its endpoint's
    /// statistics (the trace sink reports it; it is written with the message's handling).
    pub(crate) fn call_delta(endpoint: &Endpoint, outcome: &CallOutcome) -> HourlyStats {
        let summary = TestSummary {
            ok: outcome.ok,
            status: outcome.status,
            latency_ms: outcome.latency_ms,
            error_code: outcome.error.as_ref().map(|e| e.code.to_owned()),
            at: Timestamp::now(),
        };
        // Without a request line nothing was built, so nothing was sent: no latency to count.
        let sent = outcome.request.is_some();
        let message = outcome.error.as_ref().map(|e| e.message.as_str());
        HourlyStats::one_call(
            endpoint.id.clone(),
            endpoint.connection_id.clone(),
            summary,
            sent,
            message,
        )
    }

    /// What a call refused before it reached the connector (budget, unverified visitor, …)
    /// adds: an error of the endpoint like any other, so failing lookups show whatever the
    /// cause.
    pub(crate) fn refusal_delta(endpoint: &Endpoint, error: &CallError) -> HourlyStats {
        let summary = TestSummary {
            ok: false,
            status: None,
            latency_ms: 0,
            error_code: Some(error.code.to_owned()),
            at: Timestamp::now(),
        };
        let (id, connection) = (endpoint.id.clone(), endpoint.connection_id.clone());
        HourlyStats::one_call(id, connection, summary, false, Some(&error.message))
    }

    /// Deletes every tenant's buckets past the retention (see `housekeeping` in the API).
    pub async fn prune_call_stats(&self) -> Result<u64, EngineError> {
        let before = window_start(Timestamp::now(), RETENTION_HOURS);
        Ok(self.store.call_stats.prune_call_stats(before).await?)
    }

    pub async fn endpoint_stats(
        &self,
        actor: &Actor,
        id: &EndpointId,
    ) -> Result<EndpointStats, EngineError> {
        actor.require(Role::Admin)?;
        let endpoint = self.store.connections.get_endpoint(&actor.tenant_id, id).await?;
        let now = Timestamp::now();
        let since = window_start(now, RETENTION_HOURS);
        let scope = StatsScope::Endpoints(std::slice::from_ref(&endpoint.id));
        let rows = self.store.call_stats.call_stats(&actor.tenant_id, scope, since).await?;
        Ok(EndpointStats {
            endpoint_id: endpoint.id,
            name: endpoint.name,
            stats: summarize(&rows, now),
        })
    }

    pub async fn connection_stats(
        &self,
        actor: &Actor,
        id: &ConnectionId,
    ) -> Result<ConnectionStats, EngineError> {
        actor.require(Role::Admin)?;
        self.store.connections.get_connection(&actor.tenant_id, id).await?;
        let endpoints = self.store.connections.connection_endpoints(&actor.tenant_id, id).await?;
        let now = Timestamp::now();
        let since = window_start(now, RETENTION_HOURS);
        let scope = StatsScope::Connections(std::slice::from_ref(id));
        let rows = self.store.call_stats.call_stats(&actor.tenant_id, scope, since).await?;
        let endpoints = endpoints
            .into_iter()
            .map(|e| EndpointStats {
                stats: summarize(&of_endpoint(&rows, &e.id), now),
                endpoint_id: e.id,
                name: e.name,
            })
            .collect();
        Ok(ConnectionStats { connection_id: id.clone(), total: summarize(&rows, now), endpoints })
    }

    /// The short health of each of these connections, in one query.
    pub(crate) async fn connections_health(
        &self,
        tenant: &TenantId,
        ids: &[ConnectionId],
    ) -> Result<HashMap<ConnectionId, ConnectionHealth>, EngineError> {
        let now = Timestamp::now();
        let since = window_start(now, 24);
        let rows =
            self.store.call_stats.call_stats(tenant, StatsScope::Connections(ids), since).await?;
        Ok(ids
            .iter()
            .map(|id| {
                let own: Vec<HourlyStats> =
                    rows.iter().filter(|r| r.connection_id == *id).cloned().collect();
                (id.clone(), summarize(&own, now).into())
            })
            .collect())
    }

    /// The last call of each of these endpoints that has one, in one query.
    pub(crate) async fn last_calls(
        &self,
        tenant: &TenantId,
        ids: &[EndpointId],
    ) -> Result<HashMap<EndpointId, TestSummary>, EngineError> {
        // Only the latest bucket of each endpoint is needed, and it always comes back.
        let rows = self
            .store
            .call_stats
            .call_stats(tenant, StatsScope::Endpoints(ids), Timestamp::MAX)
            .await?;
        let mut last: HashMap<EndpointId, TestSummary> = HashMap::new();
        for row in rows {
            let newer = last.get(&row.endpoint_id).is_none_or(|seen| row.last_call.at > seen.at);
            if newer {
                last.insert(row.endpoint_id, row.last_call);
            }
        }
        Ok(last)
    }
}
