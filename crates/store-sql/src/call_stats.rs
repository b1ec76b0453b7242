use std::sync::LazyLock;

use async_trait::async_trait;
use sb_domain::call_stats::{HourlyStats, LATENCY_BOUNDS_MS, LATENCY_BUCKETS, LastError};
use sb_domain::{TenantId, TestSummary, Timestamp};
use sb_store::{CallStatsStore, StatsScope, StoreError, StoreResult};

use crate::lists::{IN_LIST, in_runs, placeholders};
use crate::{Db, Query, Row, SqlStore, q};

/// The histogram's columns, in bucket order: `ms_le_5`, `ms_le_10`, ….
fn latency_columns() -> impl Iterator<Item = String> {
    LATENCY_BOUNDS_MS.iter().map(|bound| format!("ms_le_{bound}"))
}

const LAST_CALL_COLUMNS: [&str; 5] = [
    "last_call_at",
    "last_call_ok",
    "last_call_status",
    "last_call_latency_ms",
    "last_call_error_code",
];
const LAST_ERROR_COLUMNS: [&str; 3] = ["last_error_at", "last_error_code", "last_error_message"];

/// Every column, in the order the upsert binds them. (The statements are computed once, from
/// these constants: the histogram's columns follow `LATENCY_BOUNDS_MS`.)
static COLUMNS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ["tenant_id", "endpoint_id", "connection_id", "hour_start", "calls", "errors"]
        .into_iter()
        .map(str::to_owned)
        .chain(latency_columns())
        .chain(LAST_CALL_COLUMNS.into_iter().chain(LAST_ERROR_COLUMNS).map(str::to_owned))
        .collect()
});

/// Adds a bucket to the stored one. Counts add up. The last call and the last error are each
/// taken as a whole from whichever row has the later one: nodes may record calls out of order.
/// (Every right-hand side sees the stored row as it was before the update, in both databases.)
static UPSERT: LazyLock<String> = LazyLock::new(|| {
    let mut sets: Vec<String> = ["calls", "errors"]
        .into_iter()
        .map(str::to_owned)
        .chain(latency_columns())
        .map(|c| format!("{c} = endpoint_stats.{c} + excluded.{c}"))
        .collect();
    let newer_call = "excluded.last_call_at >= endpoint_stats.last_call_at";
    let newer_error = "excluded.last_error_at IS NOT NULL AND (endpoint_stats.last_error_at IS NULL \
                       OR excluded.last_error_at >= endpoint_stats.last_error_at)";
    for (columns, newer) in
        [(&LAST_CALL_COLUMNS[..], newer_call), (&LAST_ERROR_COLUMNS[..], newer_error)]
    {
        sets.extend(columns.iter().map(|c| {
            format!("{c} = CASE WHEN {newer} THEN excluded.{c} ELSE endpoint_stats.{c} END")
        }));
    }
    format!(
        "INSERT INTO endpoint_stats ({}) VALUES ({}) \
         ON CONFLICT (tenant_id, endpoint_id, hour_start) DO UPDATE SET {}",
        COLUMNS.join(", "),
        placeholders(1, COLUMNS.len()),
        sets.join(", ")
    )
});

/// The buckets of the endpoints (or connections) in `$3 …`, an `IN_LIST` of them: those since
/// `$2`, and each endpoint's latest one. The latest bucket of an endpoint is found through the
/// primary key, one index probe per older row at most; rows are bounded by pruning (8 days of
/// hours per endpoint).
fn select_by(column: &'static str) -> String {
    format!(
        "SELECT {} FROM endpoint_stats s WHERE s.tenant_id = $1 AND s.{column} IN ({}) \
         AND (s.hour_start >= $2 OR s.hour_start = (SELECT MAX(l.hour_start) FROM endpoint_stats l \
              WHERE l.tenant_id = s.tenant_id AND l.endpoint_id = s.endpoint_id)) \
         ORDER BY s.endpoint_id, s.hour_start",
        COLUMNS.iter().map(|c| format!("s.{c} AS {c}")).collect::<Vec<_>>().join(", "),
        placeholders(3, IN_LIST)
    )
}

static BY_ENDPOINT: LazyLock<String> = LazyLock::new(|| select_by("endpoint_id"));
static BY_CONNECTION: LazyLock<String> = LazyLock::new(|| select_by("connection_id"));

fn count(row: &Row, column: &str) -> StoreResult<u64> {
    u64::try_from(row.int(column)?)
        .map_err(|_| StoreError::Internal(format!("column {column}: negative count")))
}

fn stats_from_row(row: &Row) -> StoreResult<HourlyStats> {
    let mut latency = [0; LATENCY_BUCKETS];
    for (slot, column) in latency.iter_mut().zip(latency_columns()) {
        *slot = count(row, &column)?;
    }
    let last_error = match row.opt_ts("last_error_at")? {
        None => None,
        Some(at) => Some(LastError {
            at,
            code: row.text("last_error_code")?,
            message: row.opt_text("last_error_message")?.unwrap_or_default(),
        }),
    };
    Ok(HourlyStats {
        endpoint_id: row.parse("endpoint_id")?,
        connection_id: row.parse("connection_id")?,
        hour: row.ts("hour_start")?,
        calls: count(row, "calls")?,
        errors: count(row, "errors")?,
        latency,
        last_call: TestSummary {
            ok: row.boolean("last_call_ok")?,
            status: row.opt_int("last_call_status")?.and_then(|s| u16::try_from(s).ok()),
            latency_ms: count(row, "last_call_latency_ms")?,
            error_code: row.opt_text("last_call_error_code")?,
            at: row.ts("last_call_at")?,
        },
        last_error,
    })
}

/// The upsert that adds `delta` to its endpoint's hour.
pub(crate) fn add_call_stats(tenant: &TenantId, delta: &HourlyStats) -> Query {
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let mut query = q(UPSERT.as_str())
        .text(tenant.as_str())
        .text(delta.endpoint_id.as_str())
        .text(delta.connection_id.as_str())
        .ts(delta.hour)
        .int(clamp(delta.calls))
        .int(clamp(delta.errors));
    for n in delta.latency {
        query = query.int(clamp(n));
    }
    let call = &delta.last_call;
    let error = delta.last_error.as_ref();
    query
        .ts(call.at)
        .boolean(call.ok)
        .opt_int(call.status.map(i64::from))
        .int(clamp(call.latency_ms))
        .opt_text(call.error_code.as_deref())
        .opt_ts(error.map(|e| e.at))
        .opt_text(error.map(|e| e.code.as_str()))
        .opt_text(error.map(|e| e.message.as_str()))
}

#[async_trait]
impl<D: Db> CallStatsStore for SqlStore<D> {
    async fn add_call_stats(&self, tenant: &TenantId, delta: &HourlyStats) -> StoreResult<()> {
        self.db.execute(add_call_stats(tenant, delta)).await.map(drop)
    }

    async fn call_stats(
        &self,
        tenant: &TenantId,
        scope: StatsScope<'_>,
        since: Timestamp,
    ) -> StoreResult<Vec<HourlyStats>> {
        let (sql, ids): (&'static str, Vec<&str>) = match scope {
            StatsScope::Endpoints(ids) => {
                (BY_ENDPOINT.as_str(), ids.iter().map(|i| i.as_str()).collect())
            }
            StatsScope::Connections(ids) => {
                (BY_CONNECTION.as_str(), ids.iter().map(|i| i.as_str()).collect())
            }
        };
        let runs = in_runs(ids);
        let mut stats = Vec::new();
        for run in &runs {
            let query = q(sql).text(tenant.as_str()).ts(since).texts(*run);
            for row in self.db.fetch_all(query).await? {
                stats.push(stats_from_row(&row)?);
            }
        }
        if runs.len() > 1 {
            // Each statement's rows come in (endpoint, hour) order; so do those of all of them.
            stats.sort_by(|a, b| (&a.endpoint_id, a.hour).cmp(&(&b.endpoint_id, b.hour)));
        }
        Ok(stats)
    }

    async fn prune_call_stats(&self, before: Timestamp) -> StoreResult<u64> {
        self.db.execute(q("DELETE FROM endpoint_stats WHERE hour_start < $1").ts(before)).await
    }
}
