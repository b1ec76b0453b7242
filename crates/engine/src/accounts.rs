//! Signing up, logging in, users, API keys and teams.

use sb_domain::{
    ApiKey, ApiKeyId, Email, NewUser, Role, Team, TeamId, TeamName, Tenant, TenantId, TenantName,
    Timestamp, User, UserId, ValidationError, random_token, validate_password,
};
use sb_secrets::{Secret, sha256_hex};
use sb_store::{Store, StoreError, TeamUpdate};

use crate::{Actor, EngineError};

/// API keys are `sbk_` followed by 256 random bits; the first characters identify a key in lists.
pub const API_KEY_PREFIX: &str = "sbk_";
const API_KEY_VISIBLE_CHARS: usize = 12;

/// Argon2 is deliberately slow: run it off the async executor.
pub(crate) async fn hash_password(password: Secret<String>) -> Result<String, EngineError> {
    tokio::task::spawn_blocking(move || sb_secrets::hash_password(password.expose()))
        .await
        .map_err(|err| EngineError::Internal(err.to_string()))?
        .map_err(|err| EngineError::Internal(err.to_string()))
}

pub struct SignUp {
    pub tenant_name: String,
    pub email: String,
    pub password: Secret<String>,
}

/// Creates a tenant and its owner. Validation errors name the request field.
pub async fn sign_up(store: &dyn Store, input: SignUp) -> Result<(Tenant, User), EngineError> {
    let name = TenantName::parse(&input.tenant_name)?;
    let email = Email::parse(&input.email)?;
    validate_password(input.password.expose())?;
    let tenant =
        Tenant { id: TenantId::new(), name, time_zone: "UTC".into(), created_at: Timestamp::now() };
    let owner = NewUser {
        id: UserId::new(),
        email,
        role: Role::Owner,
        password_hash: hash_password(input.password).await?,
    };
    let user = store.create_tenant_with_owner(&tenant, &owner).await?;
    Ok((tenant, user))
}

/// The user whose e-mail and password match, or `None`. Unknown e-mails take as long as wrong
/// passwords, so timing does not reveal which accounts exist.
pub async fn verify_login(
    store: &dyn Store,
    email: &str,
    password: Secret<String>,
) -> Result<Option<User>, EngineError> {
    let credentials = match Email::parse(email) {
        Ok(email) => store.find_credentials_by_email(&email).await?,
        Err(_) => None,
    };
    let hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let matches = password_matches(password, hash).await?;
    Ok(credentials.filter(|_| matches).map(|c| c.user))
}

/// Argon2 verification off the async executor; without a hash it takes as long and fails.
pub(crate) async fn password_matches(
    password: Secret<String>,
    hash: Option<String>,
) -> Result<bool, EngineError> {
    tokio::task::spawn_blocking(move || {
        sb_secrets::verify_password(password.expose(), hash.as_deref())
    })
    .await
    .map_err(|err| EngineError::Internal(err.to_string()))
}

pub struct CreateUser {
    pub email: String,
    pub password: Secret<String>,
    pub role: Role,
}

pub async fn create_user(
    store: &dyn Store,
    actor: &Actor,
    input: CreateUser,
) -> Result<User, EngineError> {
    actor.require(Role::Admin)?;
    if !actor.role.can_grant(input.role) {
        return Err(EngineError::Forbidden("only owners may create owners"));
    }
    let email = Email::parse(&input.email)?;
    validate_password(input.password.expose())?;
    let user = NewUser {
        id: UserId::new(),
        email,
        role: input.role,
        password_hash: hash_password(input.password).await?,
    };
    Ok(store.create_user(&actor.tenant_id, &user).await?)
}

/// Creates an API key acting with the creator's role. Returns the key's record and the key
/// itself, which exists nowhere else afterwards: only its SHA-256 is stored.
pub async fn create_api_key(
    store: &dyn Store,
    actor: &Actor,
    name: &str,
) -> Result<(ApiKey, Secret<String>), EngineError> {
    actor.require(Role::Admin)?;
    let name = ApiKey::parse_name(name)?;
    let plaintext = format!("{API_KEY_PREFIX}{}", random_token(32));
    let key = ApiKey {
        id: ApiKeyId::new(),
        tenant_id: actor.tenant_id.clone(),
        name,
        prefix: plaintext[..API_KEY_VISIBLE_CHARS].to_owned(),
        role: actor.role,
        created_by: actor.user_id.clone(),
        created_at: Timestamp::now(),
        last_used_at: None,
    };
    store.create_api_key(&key, &sha256_hex(&plaintext)).await?;
    Ok((key, Secret::new(plaintext)))
}

/// Checks that every id names a user of the actor's tenant, reporting the first that does not
/// as `member_ids[i]`. Repeated ids are folded into one.
async fn tenant_members(
    store: &dyn Store,
    tenant: &TenantId,
    ids: Vec<UserId>,
) -> Result<Vec<UserId>, EngineError> {
    let mut members: Vec<UserId> = Vec::with_capacity(ids.len());
    for (index, id) in ids.into_iter().enumerate() {
        match store.get_user(tenant, &id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ValidationError::new(
                    format!("member_ids[{index}]"),
                    "unknown_user",
                    format!("no user {id} in this tenant"),
                )
                .into());
            }
            Err(other) => return Err(other.into()),
        }
        if !members.contains(&id) {
            members.push(id);
        }
    }
    Ok(members)
}

pub async fn create_team(
    store: &dyn Store,
    actor: &Actor,
    name: &str,
    member_ids: Vec<UserId>,
) -> Result<Team, EngineError> {
    actor.require(Role::Admin)?;
    let team = Team {
        id: TeamId::new(),
        tenant_id: actor.tenant_id.clone(),
        name: TeamName::parse(name)?,
        member_ids: tenant_members(store, &actor.tenant_id, member_ids).await?,
        created_at: Timestamp::now(),
    };
    Ok(store.create_team(&team).await?)
}

pub async fn update_team(
    store: &dyn Store,
    actor: &Actor,
    id: &TeamId,
    name: Option<&str>,
    member_ids: Option<Vec<UserId>>,
) -> Result<Team, EngineError> {
    actor.require(Role::Admin)?;
    let members = match member_ids {
        Some(ids) => Some(tenant_members(store, &actor.tenant_id, ids).await?),
        None => None,
    };
    let update = TeamUpdate { name: name.map(TeamName::parse).transpose()?, member_ids: members };
    Ok(store.update_team(&actor.tenant_id, id, &update).await?)
}
