//! What other services read of accounts while handling a conversation (no caller to check: the
//! conversation's tenant is already established). Errors are the store's, as a direct read's.

use sb_domain::{Team, TeamId, Tenant, TenantId, User, UserId};
use sb_store::StoreResult;

use super::AccountsService;

impl AccountsService {
    pub(crate) async fn tenant_by_id(&self, tenant: &TenantId) -> StoreResult<Tenant> {
        self.store.accounts.get_tenant(tenant).await
    }

    pub(crate) async fn user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<User> {
        self.store.accounts.get_user(tenant, id).await
    }

    /// The people who take conversations now.
    pub(crate) async fn available_users(&self, tenant: &TenantId) -> StoreResult<Vec<User>> {
        self.store.accounts.available_users(tenant).await
    }

    pub(crate) async fn team(&self, tenant: &TenantId, id: &TeamId) -> StoreResult<Team> {
        self.store.teams.get_team(tenant, id).await
    }
}
