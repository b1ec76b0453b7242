//! Who may do what with accounts: one test per permission rule.

use sb_domain::{ApiKeyId, InvitationId, PageRequest, Role, TeamId};
use sb_secrets::Secret;

use super::{CreateUser, Links};
use crate::testing::{assert_forbidden, assert_not_found, assert_permitted, world};
use crate::{Actor, Credential};

fn new_person(email: &str, role: Role) -> CreateUser {
    CreateUser { email: email.into(), password: Secret::new("a long enough password".into()), role }
}

fn no_mail() -> Links<'static> {
    Links { mailer: None, public_url: None }
}

#[tokio::test]
async fn only_admins_add_people() {
    let w = world().await;
    let accounts = &w.services.accounts;
    assert_forbidden(
        accounts.create_user(&w.operator, new_person("a@acme.test", Role::Operator)).await,
    );
    assert_permitted(
        accounts.create_user(&w.admin, new_person("b@acme.test", Role::Operator)).await,
    );
}

#[tokio::test]
async fn only_owners_make_owners() {
    let w = world().await;
    let accounts = &w.services.accounts;
    assert_forbidden(accounts.create_user(&w.admin, new_person("a@acme.test", Role::Owner)).await);
    assert_permitted(accounts.create_user(&w.owner, new_person("b@acme.test", Role::Owner)).await);
    assert_forbidden(accounts.invite(&w.admin, no_mail(), "c@acme.test", Role::Owner).await);
    assert_permitted(accounts.invite(&w.owner, no_mail(), "d@acme.test", Role::Owner).await);
}

#[tokio::test]
async fn only_admins_manage_api_keys() {
    let w = world().await;
    let accounts = &w.services.accounts;
    let page = PageRequest::first(10);
    assert_forbidden(accounts.create_api_key(&w.operator, "script", None).await);
    assert_forbidden(accounts.list_api_keys(&w.operator, &page).await);
    let (key, _) = accounts.create_api_key(&w.admin, "script", None).await.unwrap();
    assert_forbidden(accounts.revoke_api_key(&w.operator, &key.id).await);
    assert_permitted(accounts.list_api_keys(&w.admin, &page).await);
    assert_not_found(accounts.revoke_api_key(&w.stranger, &key.id).await);
    assert_permitted(accounts.revoke_api_key(&w.admin, &key.id).await);
    assert_not_found(accounts.revoke_api_key(&w.admin, &ApiKeyId::new()).await);
}

/// A refusal for want of a scope.
fn scope_missing<T>(result: Result<T, crate::EngineError>) -> bool {
    matches!(result, Err(crate::EngineError::Refused { code: "scope_missing", .. }))
}

#[tokio::test]
async fn keys_reach_only_what_their_scopes_name() {
    use sb_domain::ApiKeyScope::{McpAssistant, McpRead, McpWrite};
    let w = world().await;
    let accounts = &w.services.accounts;
    let (rest, rest_key) = accounts.create_api_key(&w.admin, "scripts", None).await.unwrap();
    assert_eq!(rest.scopes, [sb_domain::ApiKeyScope::Api]);
    let scopes = ["mcp:read".to_owned()];
    let (_, agent_key) = accounts.create_api_key(&w.admin, "agent", Some(&scopes)).await.unwrap();
    let (rest_key, agent_key) = (rest_key.expose(), agent_key.expose());

    assert!(accounts.api_key_actor(rest_key).await.unwrap().is_some());
    assert!(scope_missing(accounts.mcp_key(rest_key).await), "no MCP scope, no MCP");
    assert!(scope_missing(accounts.api_key_actor(agent_key).await), "no api scope, no API");
    let agent = accounts.mcp_key(agent_key).await.unwrap().unwrap();
    assert!(agent.require_one_of(&[McpRead]).is_ok());
    assert!(agent.require_one_of(&[McpAssistant, McpRead]).is_ok());
    assert!(scope_missing(agent.require_one_of(&[McpWrite])));
    assert!(accounts.mcp_key("sbk_unknown").await.unwrap().is_none());
    assert!(accounts.api_key_actor("not a key").await.unwrap().is_none());
}

#[tokio::test]
async fn only_admins_change_teams_and_everyone_sees_them() {
    let w = world().await;
    let accounts = &w.services.accounts;
    let members = vec![w.operator.user_id.clone().unwrap()];
    assert_forbidden(accounts.create_team(&w.operator, "Support", members.clone()).await);
    let team = accounts.create_team(&w.admin, "Support", members).await.unwrap();
    assert_forbidden(accounts.update_team(&w.operator, &team.id, Some("Help"), None).await);
    assert_forbidden(accounts.delete_team(&w.operator, &team.id).await);
    assert_permitted(accounts.get_team(&w.operator, &team.id).await);
    assert_permitted(accounts.list_teams(&w.operator, &PageRequest::first(10)).await);
    assert_not_found(accounts.get_team(&w.stranger, &team.id).await);
    assert_not_found(accounts.update_team(&w.stranger, &team.id, Some("Help"), None).await);
    assert_not_found(accounts.delete_team(&w.admin, &TeamId::new()).await);
    assert_permitted(accounts.delete_team(&w.admin, &team.id).await);
}

#[tokio::test]
async fn teams_take_only_the_tenants_own_people() {
    let w = world().await;
    let outsider = vec![w.stranger.user_id.clone().unwrap()];
    let result = w.services.accounts.create_team(&w.admin, "Support", outsider).await;
    assert!(matches!(result, Err(crate::EngineError::Invalid(e)) if e.field == "member_ids[0]"));
}

#[tokio::test]
async fn only_admins_change_the_tenants_settings() {
    let w = world().await;
    let accounts = &w.services.accounts;
    assert_forbidden(accounts.update_tenant(&w.operator, renamed("Renamed", None)).await);
    assert_permitted(accounts.tenant(&w.operator).await);
    let renamed = accounts.update_tenant(&w.admin, renamed("Renamed", Some("Europe/Berlin"))).await;
    assert_eq!(renamed.unwrap().name.as_str(), "Renamed");
    assert_eq!(accounts.tenant(&w.stranger).await.unwrap().name.as_str(), "Other");
}

#[tokio::test]
async fn people_set_only_their_own_availability_and_language() {
    let w = world().await;
    let accounts = &w.services.accounts;
    let me = w.operator.user_id.clone();
    assert_eq!(accounts.set_availability(&w.operator, true).await.ok(), me);
    assert_eq!(accounts.set_language(&w.operator, " DE ").await.unwrap().1, "de");
    let key = Actor { user_id: None, credential: Credential::ApiKey(ApiKeyId::new()), ..w.admin };
    assert!(accounts.set_availability(&key, true).await.is_err());
    assert!(accounts.set_language(&key, "de").await.is_err());
}

#[tokio::test]
async fn an_api_key_without_a_person_has_no_password() {
    let w = world().await;
    let key = Actor { user_id: None, credential: Credential::ApiKey(ApiKeyId::new()), ..w.admin };
    let password = || Secret::new("a long enough password".to_owned());
    let result = w.services.accounts.change_password(&key, None, password(), password()).await;
    assert_forbidden(result);
}

#[tokio::test]
async fn admins_set_members_passwords_but_not_owners_nor_their_own() {
    let w = world().await;
    let accounts = &w.services.accounts;
    let password = || Secret::new("another long password".to_owned());
    let operator = w.operator.user_id.clone().unwrap();
    let owner = w.owner.user_id.clone().unwrap();
    let admin = w.admin.user_id.clone().unwrap();
    assert_forbidden(accounts.set_member_password(&w.operator, &admin, password()).await);
    assert_forbidden(accounts.set_member_password(&w.admin, &owner, password()).await);
    assert_forbidden(accounts.set_member_password(&w.admin, &admin, password()).await);
    assert_permitted(accounts.set_member_password(&w.admin, &operator, password()).await);
    assert_permitted(accounts.set_member_password(&w.owner, &admin, password()).await);
    assert_not_found(accounts.set_member_password(&w.stranger, &operator, password()).await);
}

#[tokio::test]
async fn only_admins_handle_invitations() {
    let w = world().await;
    let accounts = &w.services.accounts;
    assert_forbidden(
        accounts.invite(&w.operator, no_mail(), "new@acme.test", Role::Operator).await,
    );
    assert_forbidden(accounts.list_invitations(&w.operator).await);
    assert_forbidden(accounts.revoke_invitation(&w.operator, &InvitationId::new()).await);
    let (invitation, _) =
        accounts.invite(&w.admin, no_mail(), "new@acme.test", Role::Operator).await.unwrap();
    assert!(accounts.list_invitations(&w.stranger).await.unwrap().is_empty());
    assert_not_found(accounts.revoke_invitation(&w.stranger, &invitation.id).await);
    assert_permitted(accounts.revoke_invitation(&w.admin, &invitation.id).await);
}

#[tokio::test]
async fn another_tenants_people_do_not_exist() {
    let w = world().await;
    let operator = w.operator.user_id.clone().unwrap();
    assert_permitted(w.services.accounts.get_user(&w.admin, &operator).await);
    assert_not_found(w.services.accounts.get_user(&w.stranger, &operator).await);
    let people = w.services.accounts.list_users(&w.stranger, &PageRequest::first(10)).await;
    assert_eq!(people.unwrap().items.len(), 1);
}

fn renamed<'a>(name: &'a str, time_zone: Option<&'a str>) -> super::TenantUpdate<'a> {
    super::TenantUpdate { name: Some(name), time_zone, ..Default::default() }
}
