//! One story that calls every store method and checks the results, run by each backend crate
//! against its own real database. Both backends passing the same story is what keeps them equal.

mod accounts;
mod ai;
mod analytics;
mod attachments;
mod call_stats;
mod canned;
mod channels;
mod config_revision;
mod connections;
mod contacts;
mod conversations;
mod credentials;
mod inbox;
mod kb;
mod notes;
mod privacy;
mod test_cases;
mod webhooks;

use sb_domain::{Email, NewUser, Role, Tenant, TenantId, TenantName, Timestamp, UserId};

use crate::{Constraint, Store, StoreError};

pub(crate) fn new_user(email: &str, role: Role) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: Email::parse(email).unwrap(),
        role,
        password_hash: format!("hash-of-{email}"),
        available: false,
    }
}

pub(crate) fn new_tenant(name: &str) -> Tenant {
    Tenant {
        id: TenantId::new(),
        name: TenantName::parse(name).unwrap(),
        time_zone: "UTC".into(),
        created_at: now(),
        retention_days: None,
        attachments: Default::default(),
    }
}

/// Millisecond precision: what both backends store.
pub(crate) fn now() -> Timestamp {
    Timestamp::from_millisecond(Timestamp::now().as_millisecond()).unwrap()
}

pub(crate) fn assert_conflict<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    expected: Constraint,
) {
    match result {
        Err(StoreError::Conflict(found)) => assert_eq!(found, expected),
        other => panic!("expected a conflict on {}, got {other:?}", expected.name()),
    }
}

pub(crate) fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::NotFound)), "expected NotFound, got {result:?}");
}

pub async fn run(store: &dyn Store) {
    store.ping().await.unwrap();
    // Only a server database can be shared by several nodes; a SQLite file belongs to one.
    let expected_shared = match store.backend() {
        "sqlite" => false,
        "postgres" => true,
        other => panic!("unknown backend {other}"),
    };
    assert_eq!(store.shared_across_nodes(), expected_shared);
    let (acme, other) = accounts::accounts(store).await;
    accounts::sessions(store, &acme).await;
    accounts::api_keys(store, &acme, &other).await;
    accounts::teams(store, &acme, &other).await;
    credentials::credentials(store, &acme, &other).await;
    connections::connections_and_endpoints(store, &acme, &other).await;
    connections::sealed_secrets(store, &acme).await;
    connections::endpoint_batches(store, &acme, &other).await;
    call_stats::call_stats(store, &acme, &other).await;
    ai::ai(store, &acme, &other).await;
    kb::kb(store, &acme, &other).await;
    webhooks::webhooks(store, &acme, &other).await;
    test_cases::test_cases(store, &acme, &other).await;
    test_cases::test_runs(store, &acme, &other).await;
    inbox::inbox(store, &acme, &other).await;
    conversations::widgets_conversations_and_rules(store, &acme, &other).await;
    notes::notes(store, &acme, &other).await;
    attachments::attachments(store, &acme, &other).await;
    analytics::analytics(store, &acme, &other).await;
    canned::canned_replies(store, &acme, &other).await;
    contacts::contacts(store, &acme, &other).await;
    privacy::privacy(store, &acme, &other).await;
    config_revision::config_revision(store, &acme, &other).await;
    channels::channels(store, &acme, &other).await;
}
