use sb_domain::{ApiKeyId, Role, SessionId, TenantId, UserId};

use crate::EngineError;

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session(SessionId),
    ApiKey(ApiKeyId),
    /// Someone with access to the server's machine, running `switchboard` commands.
    CommandLine,
}

/// Who is acting, inside which tenant, with which role. Every tenant-scoped use-case takes one,
/// so the tenant always comes from authentication, never from the request body.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant_id: TenantId,
    /// The person acting; for an API key, the user who created it (if they still exist).
    pub user_id: Option<UserId>,
    pub role: Role,
    pub credential: Credential,
}

impl Actor {
    /// Fails unless the actor holds at least `role`.
    pub fn require(&self, role: Role) -> Result<(), EngineError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(EngineError::Forbidden(match role {
                Role::Owner => "only owners may do this",
                Role::Admin => "only owners and admins may do this",
                Role::Operator => "not allowed",
            }))
        }
    }
}
