use sb_domain::call_stats::{HourlyStats, latency_bucket};
use sb_domain::{AuthConfig, ConnectionId, Endpoint, EndpointId, TenantId, TestSummary, Timestamp};

use super::connections::{connection, endpoint};
use crate::{StatsScope, Store, StoreError};

/// A fixed clock hour, so the story does not depend on when it runs.
fn at(minutes_after: i64) -> Timestamp {
    let hour: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
    Timestamp::from_millisecond(hour.as_millisecond() + minutes_after * 60_000).unwrap()
}

fn call(minute: i64, ok: bool, latency_ms: u64) -> TestSummary {
    TestSummary {
        ok,
        status: Some(if ok { 200 } else { 500 }),
        latency_ms,
        error_code: (!ok).then(|| "http_error".into()),
        at: at(minute),
    }
}

fn one(endpoint: &Endpoint, call: TestSummary, sent: bool) -> HourlyStats {
    let message = (!call.ok).then(|| format!("failed at {}", call.at));
    HourlyStats::one_call(
        endpoint.id.clone(),
        endpoint.connection_id.clone(),
        call,
        sent,
        message.as_deref(),
    )
}

async fn of(
    store: &dyn Store,
    tenant: &TenantId,
    scope: StatsScope<'_>,
    since: Timestamp,
) -> Vec<HourlyStats> {
    store.call_stats(tenant, scope, since).await.unwrap()
}

pub(super) async fn call_stats(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let shop = connection(tenant, "Stats shop", AuthConfig::None);
    let crm = connection(tenant, "Stats CRM", AuthConfig::None);
    store.create_connection(&shop, None).await.unwrap();
    store.create_connection(&crm, None).await.unwrap();
    let (lookup, cancel, find) = (
        endpoint(&shop, "stats_lookup"),
        endpoint(&shop, "stats_cancel"),
        endpoint(&crm, "stats_find"),
    );
    for e in [&lookup, &cancel, &find] {
        store.create_endpoint(e).await.unwrap();
    }
    let add = |delta: HourlyStats| async move { store.add_call_stats(tenant, &delta).await };

    // One bucket written by several calls, some recorded out of order (as nodes may).
    add(one(&lookup, call(5, true, 12), true)).await.unwrap();
    add(one(&lookup, call(20, false, 300), true)).await.unwrap();
    add(one(&lookup, call(10, true, 40), true)).await.unwrap();
    let mut refused = call(15, false, 0);
    refused.status = None;
    refused.error_code = Some("missing_variable".into());
    add(one(&lookup, refused, false)).await.unwrap();
    add(one(&lookup, call(-180, true, 8), true)).await.unwrap();
    add(one(&cancel, call(-2 * 24 * 60, false, 4000), true)).await.unwrap();
    let found = one(&find, call(1, false, 60), true);
    add(found.clone()).await.unwrap();

    let lookup_ids = [lookup.id.clone()];
    let rows = of(store, tenant, StatsScope::Endpoints(&lookup_ids), at(0)).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let bucket = &rows[0];
    assert_eq!((bucket.hour, bucket.calls, bucket.errors), (at(0), 4, 2));
    assert_eq!(bucket.connection_id, shop.id);
    let mut latency = [0; sb_domain::call_stats::LATENCY_BUCKETS];
    for ms in [12, 300, 40] {
        latency[latency_bucket(ms)] += 1;
    }
    assert_eq!(bucket.latency, latency, "the refused call has no latency");
    assert_eq!(bucket.last_call, call(20, false, 300), "the latest call, not the last recorded");
    let error = bucket.last_error.clone().unwrap();
    assert_eq!((error.at, error.code.as_str()), (at(20), "http_error"));
    assert_eq!(error.message, format!("failed at {}", at(20)));

    // A later success is the last call; the last error stays.
    add(one(&lookup, call(30, true, 9), true)).await.unwrap();
    let rows = of(store, tenant, StatsScope::Endpoints(&lookup_ids), at(-180)).await;
    assert_eq!(rows.iter().map(|r| r.hour).collect::<Vec<_>>(), [at(-180), at(0)]);
    assert_eq!(rows[1].last_call, call(30, true, 9));
    assert_eq!(rows[1].last_error.as_ref().map(|e| e.at), Some(at(20)));
    assert_eq!((rows[0].calls, rows[0].errors, rows[0].last_error.clone()), (1, 0, None));

    // An endpoint's latest bucket comes back however old, so its last call is known.
    let rows =
        of(store, tenant, StatsScope::Endpoints(std::slice::from_ref(&cancel.id)), at(0)).await;
    assert_eq!(rows.iter().map(|r| r.hour).collect::<Vec<_>>(), [at(-2 * 24 * 60)]);
    let rows =
        of(store, tenant, StatsScope::Connections(std::slice::from_ref(&shop.id)), at(0)).await;
    let mut endpoints: Vec<_> = rows.iter().map(|r| (r.endpoint_id.clone(), r.hour)).collect();
    endpoints.sort();
    let mut expected = vec![(lookup.id.clone(), at(0)), (cancel.id.clone(), at(-2 * 24 * 60))];
    expected.sort();
    assert_eq!(endpoints, expected);
    let both = [shop.id.clone(), crm.id.clone()];
    let rows = of(store, tenant, StatsScope::Connections(&both), at(0)).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows.iter().find(|r| r.endpoint_id == find.id), Some(&found), "stored as given");
    assert!(of(store, tenant, StatsScope::Connections(&[]), at(0)).await.is_empty());

    // Lists longer than one statement takes, with repeats and unknown ids sorting before the
    // real ones (so the real ones may fall into different statements): the same rows, in the
    // same order.
    let all: Vec<EndpointId> = rows.iter().map(|r| r.endpoint_id.clone()).collect();
    for unknown in [1, 31, 49, 50, 99, 150] {
        let filler = |i| format!("0{i:025}");
        let connections: Vec<ConnectionId> = (0..unknown)
            .map(|i| format!("con_{}", filler(i)).parse().unwrap())
            .chain(both.iter().rev().cloned())
            .chain(both.iter().cloned())
            .collect();
        assert_eq!(of(store, tenant, StatsScope::Connections(&connections), at(0)).await, rows);
        let endpoints: Vec<EndpointId> = (0..unknown)
            .map(|i| format!("ep_{}", filler(i)).parse().unwrap())
            .chain(all.iter().rev().cloned())
            .chain(all.iter().cloned())
            .collect();
        assert_eq!(of(store, tenant, StatsScope::Endpoints(&endpoints), at(0)).await, rows);
    }

    // Another tenant sees nothing and cannot count calls on these endpoints.
    assert!(
        store
            .call_stats(other, StatsScope::Connections(&both), at(-10_000))
            .await
            .unwrap()
            .is_empty()
    );
    let stray = store.add_call_stats(other, &one(&lookup, call(2, true, 5), true)).await;
    assert!(matches!(stray, Err(StoreError::MissingReference)), "{stray:?}");

    // Pruning deletes old buckets of every endpoint; deleting endpoints and connections
    // deletes theirs.
    assert_eq!(store.prune_call_stats(at(-24 * 60)).await.unwrap(), 1);
    assert!(
        of(store, tenant, StatsScope::Endpoints(std::slice::from_ref(&cancel.id)), at(-10_000))
            .await
            .is_empty()
    );
    assert_eq!(of(store, tenant, StatsScope::Endpoints(&lookup_ids), at(-10_000)).await.len(), 2);
    store.delete_endpoint(tenant, &lookup.id).await.unwrap();
    assert!(of(store, tenant, StatsScope::Endpoints(&lookup_ids), at(-10_000)).await.is_empty());
    store.delete_connection(tenant, &crm.id).await.unwrap();
    assert!(
        of(store, tenant, StatsScope::Endpoints(std::slice::from_ref(&find.id)), at(-10_000))
            .await
            .is_empty()
    );
    store.delete_connection(tenant, &shop.id).await.unwrap();
}
