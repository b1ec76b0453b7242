//! Accounts: tenants and their settings, users, sessions, API keys, teams, passwords and
//! invitations. Every permission of this aggregate is decided here (see the tests at the end).

mod api_keys;
mod audit;
mod lookups;
mod passwords;
mod sessions;
mod teams;
mod tenant;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use sb_domain::{
    Email, NewUser, Role, Tenant, TenantId, TenantName, Timestamp, User, UserId, validate_password,
};
use sb_secrets::Secret;
use sb_store::{Page, PageRequest};

pub use api_keys::{API_KEY_PREFIX, AuthenticatedKey};
pub use passwords::{INVITATION_LIFETIME, Links, Mailer, RESET_LINK_LIFETIME};
pub use sb_store::Invitation;
pub use sessions::{NewSessionTokens, SignedIn};
pub use tenant::TenantUpdate;

use crate::{Actor, EngineError};

stores!(AccountStores {
    accounts: AccountStore,
    sessions: SessionStore,
    api_keys: ApiKeyStore,
    teams: TeamStore,
    credentials: CredentialStore,
    privacy: PrivacyStore,
});

/// The accounts aggregate's use-cases.
pub struct AccountsService {
    store: AccountStores,
}

impl AccountsService {
    pub fn new(store: &Arc<dyn sb_store::Store>) -> Arc<Self> {
        Arc::new(Self { store: AccountStores::of(store) })
    }
}

/// Argon2 is deliberately slow: run it off the async executor.
pub(crate) async fn hash_password(password: Secret<String>) -> Result<String, EngineError> {
    tokio::task::spawn_blocking(move || sb_secrets::hash_password(password.expose()))
        .await
        .map_err(|err| EngineError::Internal(err.to_string()))?
        .map_err(|err| EngineError::Internal(err.to_string()))
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

pub struct SignUp {
    pub tenant_name: String,
    pub email: String,
    pub password: Secret<String>,
}

pub struct CreateUser {
    pub email: String,
    pub password: Secret<String>,
    pub role: Role,
}

impl AccountsService {
    /// Creates a tenant and its owner. Validation errors name the request field.
    pub async fn sign_up(&self, input: SignUp) -> Result<(Tenant, User), EngineError> {
        let name = TenantName::parse(&input.tenant_name)?;
        let email = Email::parse(&input.email)?;
        validate_password(input.password.expose())?;
        let tenant = Tenant {
            id: TenantId::new(),
            name,
            time_zone: "UTC".into(),
            created_at: Timestamp::now(),
            retention_days: None,
            attachments: Default::default(),
        };
        let owner = NewUser {
            id: UserId::new(),
            email,
            role: Role::Owner,
            password_hash: hash_password(input.password).await?,
            available: true,
        };
        let user = self.store.accounts.create_tenant_with_owner(&tenant, &owner).await?;
        Ok((tenant, user))
    }

    /// The user whose e-mail and password match, or `None`. Unknown e-mails take as long as
    /// wrong passwords, so timing does not reveal which accounts exist.
    pub async fn verify_login(
        &self,
        email: &str,
        password: Secret<String>,
    ) -> Result<Option<User>, EngineError> {
        let credentials = match Email::parse(email) {
            Ok(email) => self.store.accounts.find_credentials_by_email(&email).await?,
            Err(_) => None,
        };
        let hash = credentials.as_ref().map(|c| c.password_hash.clone());
        let matches = password_matches(password, hash).await?;
        Ok(credentials.filter(|_| matches).map(|c| c.user))
    }

    /// The person with this e-mail address, for the command line and the demo, which act on
    /// the operator's behalf (there is no caller to check).
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, EngineError> {
        let email = Email::parse(email)?;
        let found = self.store.accounts.find_credentials_by_email(&email).await?;
        Ok(found.map(|credentials| credentials.user))
    }

    /// Adds a person (admins); only owners may make owners.
    pub async fn create_user(&self, actor: &Actor, input: CreateUser) -> Result<User, EngineError> {
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
            available: true,
        };
        let created = self.store.accounts.create_user(&actor.tenant_id, &user).await?;
        let details = serde_json::json!({"role": created.role});
        self.audit(actor, "user.created", Some(created.id.to_string()), details).await;
        Ok(created)
    }

    /// The tenant's people; anyone of the tenant may see them (routing picks among them).
    pub async fn list_users(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<User>, EngineError> {
        Ok(self.store.accounts.list_users(&actor.tenant_id, page).await?)
    }

    pub async fn get_user(&self, actor: &Actor, id: &UserId) -> Result<User, EngineError> {
        Ok(self.store.accounts.get_user(&actor.tenant_id, id).await?)
    }
}
