//! The tenant's own settings, and what each person says about themselves (availability,
//! language).

use sb_domain::{Role, Tenant, TenantName, UserId, ValidationError, validate_time_zone};

use super::AccountsService;
use crate::{Actor, EngineError};

impl AccountsService {
    pub async fn tenant(&self, actor: &Actor) -> Result<Tenant, EngineError> {
        Ok(self.store.accounts.get_tenant(&actor.tenant_id).await?)
    }

    /// Renames the tenant or changes its time zone (admins).
    pub async fn update_tenant(
        &self,
        actor: &Actor,
        name: Option<&str>,
        time_zone: Option<&str>,
    ) -> Result<Tenant, EngineError> {
        actor.require(Role::Admin)?;
        let mut tenant = self.store.accounts.get_tenant(&actor.tenant_id).await?;
        if let Some(name) = name {
            tenant.name = TenantName::parse(name)
                .map_err(|e| ValidationError { field: "name".into(), ..e })?;
        }
        if let Some(zone) = time_zone {
            tenant.time_zone = validate_time_zone(zone)?;
        }
        self.store.accounts.update_tenant(&tenant).await?;
        Ok(tenant)
    }

    /// Whether the caller takes conversations now (routing picks only available people).
    pub async fn set_availability(
        &self,
        actor: &Actor,
        available: bool,
    ) -> Result<UserId, EngineError> {
        let user = actor.user_id.clone().ok_or_else(|| {
            ValidationError::new(
                "available",
                "no_user",
                "an API key without a user has no availability",
            )
        })?;
        self.store.accounts.set_available(&actor.tenant_id, &user, available).await?;
        Ok(user)
    }

    /// The language the caller reads and writes (`de`, `pt-br`); with translation on, visitors'
    /// messages are translated into it. Returns the person and the language as stored.
    pub async fn set_language(
        &self,
        actor: &Actor,
        language: &str,
    ) -> Result<(UserId, String), EngineError> {
        let user = actor.user_id.clone().ok_or_else(|| {
            ValidationError::new("language", "no_user", "an API key without a user has no language")
        })?;
        let language = language.trim().to_ascii_lowercase();
        let valid = (2..=12).contains(&language.len())
            && language.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(ValidationError::new(
                "language",
                "invalid_language",
                "use a language code such as de or pt-br",
            )
            .into());
        }
        self.store.accounts.set_language(&actor.tenant_id, &user, &language).await?;
        Ok((user, language))
    }
}
