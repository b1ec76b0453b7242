use sb_domain::{
    ApiKey, ApiKeyId, ApiKeyScope, Email, Role, SessionId, Team, TeamId, TeamName, TenantId,
    Timestamp, UserId,
};

use super::{assert_conflict, assert_not_found, new_tenant, new_user, now};
use crate::{Constraint, NewSession, PageRequest, Store, StoreError, TeamUpdate};

/// Returns the ids of two tenants with users: (acme, other).
pub(super) async fn accounts(store: &dyn Store) -> (TenantId, TenantId) {
    let acme = new_tenant("Acme");
    let owner = new_user("owner@acme.test", Role::Owner);
    let created = store.create_tenant_with_owner(&acme, &owner).await.unwrap();
    assert_eq!(created.id, owner.id);
    assert_eq!(created.tenant_id, acme.id);
    assert_eq!(created.role, Role::Owner);
    assert_eq!(store.get_tenant(&acme.id).await.unwrap(), acme);

    // A taken e-mail rolls the whole signup back: no half-created tenant.
    let clash = new_tenant("Clash");
    let taken = new_user("owner@acme.test", Role::Owner);
    assert_conflict(store.create_tenant_with_owner(&clash, &taken).await, Constraint::UserEmail);
    assert_not_found(store.get_tenant(&clash.id).await);

    let other = new_tenant("Other");
    store
        .create_tenant_with_owner(&other, &new_user("boss@other.test", Role::Owner))
        .await
        .unwrap();

    let operator = new_user("op@acme.test", Role::Operator);
    let stored = store.create_user(&acme.id, &operator).await.unwrap();
    assert_eq!(store.get_user(&acme.id, &operator.id).await.unwrap(), stored);
    assert_not_found(store.get_user(&other.id, &operator.id).await);
    assert_conflict(
        store.create_user(&other.id, &new_user("OP@acme.test", Role::Admin)).await,
        Constraint::UserEmail,
    );

    let first = store.list_users(&acme.id, &PageRequest::first(1)).await.unwrap();
    assert_eq!(first.items.len(), 1);
    let cursor = first.next.clone().expect("a second page exists");
    let second =
        store.list_users(&acme.id, &PageRequest { after: Some(cursor), limit: 1 }).await.unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.next, None);
    let mut ids = vec![first.items[0].id.clone(), second.items[0].id.clone()];
    ids.sort();
    let mut expected = vec![owner.id.clone(), operator.id.clone()];
    expected.sort();
    assert_eq!(ids, expected, "each user appears once, none from the other tenant");

    let creds = store.find_credentials_by_email(&owner.email).await.unwrap().unwrap();
    assert_eq!(creds.user.id, owner.id);
    assert_eq!(creds.password_hash, owner.password_hash);
    let nobody = Email::parse("nobody@acme.test").unwrap();
    assert!(store.find_credentials_by_email(&nobody).await.unwrap().is_none());
    (acme.id, other.id)
}

pub(super) async fn sessions(store: &dyn Store, tenant: &TenantId) {
    let user = store.list_users(tenant, &PageRequest::default()).await.unwrap().items[0].clone();
    let session = |token: &str, expires_at: Timestamp| NewSession {
        id: SessionId::new(),
        tenant_id: tenant.clone(),
        user_id: user.id.clone(),
        token_hash: format!("token-{token}"),
        csrf_hash: format!("csrf-{token}"),
        created_at: now(),
        expires_at,
    };
    let live = session("live", now() + jiff::SignedDuration::from_hours(1));
    let stale = session("stale", now() - jiff::SignedDuration::from_hours(1));
    store.create_session(&live).await.unwrap();
    store.create_session(&stale).await.unwrap();

    let found = store.find_session("token-live", now()).await.unwrap().unwrap();
    assert_eq!(found.id, live.id);
    assert_eq!(found.csrf_hash, "csrf-live");
    assert_eq!(found.expires_at, live.expires_at);
    assert_eq!(found.user, user);
    assert!(store.find_session("token-stale", now()).await.unwrap().is_none());
    assert!(store.find_session("token-unknown", now()).await.unwrap().is_none());

    assert_eq!(store.delete_expired_sessions(now()).await.unwrap(), 1);
    store.delete_session("token-live").await.unwrap();
    assert!(store.find_session("token-live", now()).await.unwrap().is_none());
}

pub(super) async fn api_keys(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let key = ApiKey {
        id: ApiKeyId::new(),
        tenant_id: tenant.clone(),
        name: "ci".into(),
        prefix: "sbk_abcd".into(),
        role: Role::Admin,
        scopes: vec![ApiKeyScope::McpRead, ApiKeyScope::McpAssistant],
        created_by: None,
        created_at: now(),
        last_used_at: None,
    };
    store.create_api_key(&key, "hash-1").await.unwrap();
    let twin = ApiKey { id: ApiKeyId::new(), ..key.clone() };
    assert_conflict(store.create_api_key(&twin, "hash-2").await, Constraint::ApiKeyName);
    let same_hash = ApiKey { id: ApiKeyId::new(), name: "other".into(), ..key.clone() };
    assert_conflict(store.create_api_key(&same_hash, "hash-1").await, Constraint::ApiKeyHash);

    assert_eq!(store.find_api_key("hash-1").await.unwrap().unwrap(), key);
    assert!(store.find_api_key("hash-unknown").await.unwrap().is_none());
    let used = now();
    store.touch_api_key(&key.id, used).await.unwrap();
    let listed = store.list_api_keys(tenant, &PageRequest::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].last_used_at, Some(used));
    assert!(store.list_api_keys(other, &PageRequest::default()).await.unwrap().items.is_empty());

    assert_not_found(store.delete_api_key(other, &key.id).await);
    store.delete_api_key(tenant, &key.id).await.unwrap();
    assert_not_found(store.delete_api_key(tenant, &key.id).await);
    assert!(store.find_api_key("hash-1").await.unwrap().is_none());
}

pub(super) async fn teams(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let users = store.list_users(tenant, &PageRequest::default()).await.unwrap().items;
    let outsider = store.list_users(other, &PageRequest::default()).await.unwrap().items[0].clone();
    let team = Team {
        id: TeamId::new(),
        tenant_id: tenant.clone(),
        name: TeamName::parse("Support").unwrap(),
        member_ids: vec![users[0].id.clone()],
        created_at: now(),
    };
    assert_eq!(store.create_team(&team).await.unwrap(), team);

    let sneaky = Team {
        id: TeamId::new(),
        name: TeamName::parse("Sneaky").unwrap(),
        member_ids: vec![outsider.id.clone()],
        ..team.clone()
    };
    let result = store.create_team(&sneaky).await;
    assert!(matches!(result, Err(StoreError::MissingReference)), "got {result:?}");
    assert_not_found(store.get_team(tenant, &sneaky.id).await);
    let twin = Team { id: TeamId::new(), member_ids: vec![], ..team.clone() };
    assert_conflict(store.create_team(&twin).await, Constraint::TeamName);

    let mut all_ids: Vec<UserId> = users.iter().map(|u| u.id.clone()).collect();
    all_ids.sort();
    let update = TeamUpdate {
        name: Some(TeamName::parse("Tier 2").unwrap()),
        member_ids: Some(all_ids.clone()),
    };
    let updated = store.update_team(tenant, &team.id, &update).await.unwrap();
    assert_eq!(updated.name.as_str(), "Tier 2");
    assert_eq!(updated.member_ids, all_ids);
    assert_not_found(store.update_team(other, &team.id, &update).await);
    let only_name = TeamUpdate { name: Some(TeamName::parse("Tier 3").unwrap()), member_ids: None };
    let renamed = store.update_team(tenant, &team.id, &only_name).await.unwrap();
    assert_eq!(renamed.member_ids, all_ids, "members survive a rename");
    assert_eq!(store.get_team(tenant, &team.id).await.unwrap(), renamed);
    assert_not_found(store.get_team(other, &team.id).await);

    let empty = Team {
        id: TeamId::new(),
        name: TeamName::parse("Empty").unwrap(),
        member_ids: vec![],
        ..team.clone()
    };
    store.create_team(&empty).await.unwrap();
    let page = store.list_teams(tenant, &PageRequest::first(1)).await.unwrap();
    assert_eq!(page.items, vec![renamed.clone()]);
    let rest = store
        .list_teams(tenant, &PageRequest { after: page.next.clone(), limit: 10 })
        .await
        .unwrap();
    assert_eq!(rest.items, vec![empty.clone()]);
    assert!(store.list_teams(other, &PageRequest::default()).await.unwrap().items.is_empty());

    assert_not_found(store.delete_team(other, &team.id).await);
    store.delete_team(tenant, &team.id).await.unwrap();
    assert_not_found(store.get_team(tenant, &team.id).await);
}
