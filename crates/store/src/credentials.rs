//! Passwords after sign-up: changing and resetting them, single-use reset tokens, and
//! invitations that let a new team member choose their own password. Tokens are stored only as
//! SHA-256 digests, like sessions and API keys.

use async_trait::async_trait;
use sb_domain::{Email, InvitationId, Role, SessionId, TenantId, Timestamp, User, UserId};

use crate::StoreResult;

/// A pending invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub tenant_id: TenantId,
    pub email: Email,
    pub role: Role,
    pub invited_by: Option<UserId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait CredentialStore: Send + Sync {
    async fn password_hash(&self, tenant: &TenantId, user: &UserId) -> StoreResult<String>;
    /// Replaces the password and, in the same transaction, ends every session of the user
    /// except `keep` (the one that changed it).
    async fn set_password(
        &self,
        tenant: &TenantId,
        user: &UserId,
        password_hash: &str,
        keep: Option<&SessionId>,
    ) -> StoreResult<()>;
    async fn create_password_reset(
        &self,
        tenant: &TenantId,
        user: &UserId,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Uses a reset token: marks it used and answers its user, if it was unused and unexpired.
    async fn use_password_reset(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(TenantId, UserId)>>;
    async fn create_invitation(&self, invitation: &Invitation, token_hash: &str)
    -> StoreResult<()>;
    /// Invitations not yet accepted nor expired.
    async fn list_invitations(
        &self,
        tenant: &TenantId,
        now: Timestamp,
    ) -> StoreResult<Vec<Invitation>>;
    async fn delete_invitation(&self, tenant: &TenantId, id: &InvitationId) -> StoreResult<()>;
    /// Accepts an invitation once: creates its user with `password_hash` and marks it accepted,
    /// both or neither. `None` for an unknown, used or expired token.
    async fn accept_invitation(
        &self,
        token_hash: &str,
        user: &UserId,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<User>>;
}
