use async_trait::async_trait;
use sb_domain::{
    ApiKey, ApiKeyId, Email, NewUser, SessionId, Team, TeamId, TeamName, Tenant, TenantId,
    Timestamp, User, UserId,
};

use crate::{Page, PageRequest, StoreResult};

/// What login needs: the user and their password hash.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates a tenant and its first owner atomically: both exist afterwards, or neither.
    async fn create_tenant_with_owner(&self, tenant: &Tenant, owner: &NewUser)
    -> StoreResult<User>;
    async fn get_tenant(&self, tenant: &TenantId) -> StoreResult<Tenant>;
    /// Saves the tenant's name and time zone.
    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
    async fn set_available(
        &self,
        tenant: &TenantId,
        user: &UserId,
        available: bool,
    ) -> StoreResult<()>;
    /// Users who take conversations now, by id.
    async fn available_users(&self, tenant: &TenantId) -> StoreResult<Vec<User>>;
    async fn create_user(&self, tenant: &TenantId, user: &NewUser) -> StoreResult<User>;
    async fn get_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<User>;
    async fn list_users(&self, tenant: &TenantId, page: &PageRequest) -> StoreResult<Page<User>>;
    /// Global lookup used only by login, which is how a person finds their tenant.
    async fn find_credentials_by_email(
        &self,
        email: &Email,
    ) -> StoreResult<Option<UserCredentials>>;

    async fn set_language(
        &self,
        tenant: &TenantId,
        user: &UserId,
        language: &str,
    ) -> StoreResult<()>;
}

/// A dashboard login. The token itself is never stored, only its SHA-256.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub token_hash: String,
    pub csrf_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct SessionWithUser {
    pub id: SessionId,
    pub csrf_hash: String,
    pub expires_at: Timestamp,
    pub user: User,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    /// Global lookup by token hash; expired sessions are not returned.
    async fn find_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<SessionWithUser>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Removes sessions that expired before `now`; returns how many.
    async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64>;
}

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn create_api_key(&self, key: &ApiKey, key_hash: &str) -> StoreResult<()>;
    async fn list_api_keys(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<ApiKey>>;
    async fn delete_api_key(&self, tenant: &TenantId, id: &ApiKeyId) -> StoreResult<()>;
    /// Global lookup by key hash: how an API request finds its tenant.
    async fn find_api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKey>>;
    async fn touch_api_key(&self, id: &ApiKeyId, used_at: Timestamp) -> StoreResult<()>;
}

/// A partial update; `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct TeamUpdate {
    pub name: Option<TeamName>,
    pub member_ids: Option<Vec<UserId>>,
}

#[async_trait]
pub trait TeamStore: Send + Sync {
    /// Members must be users of the same tenant, else [`crate::StoreError::MissingReference`].
    async fn create_team(&self, team: &Team) -> StoreResult<Team>;
    async fn get_team(&self, tenant: &TenantId, id: &TeamId) -> StoreResult<Team>;
    async fn list_teams(&self, tenant: &TenantId, page: &PageRequest) -> StoreResult<Page<Team>>;
    async fn update_team(
        &self,
        tenant: &TenantId,
        id: &TeamId,
        update: &TeamUpdate,
    ) -> StoreResult<Team>;
    async fn delete_team(&self, tenant: &TenantId, id: &TeamId) -> StoreResult<()>;
}
