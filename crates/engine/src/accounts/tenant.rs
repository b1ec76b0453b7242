//! The tenant's own settings, and what each person says about themselves (availability,
//! language).

use sb_domain::{Role, Tenant, TenantName, UserId, ValidationError, validate_time_zone};

use super::AccountsService;
use crate::{Actor, EngineError};

/// What `PATCH /tenant` changes; `None` leaves a setting as it is.
#[derive(Debug, Default)]
pub struct TenantUpdate<'a> {
    pub name: Option<&'a str>,
    pub time_zone: Option<&'a str>,
    pub retention_days: Option<Option<u32>>,
    pub attachments: Option<sb_domain::attachment::AttachmentPolicy>,
}

impl AccountsService {
    pub async fn tenant(&self, actor: &Actor) -> Result<Tenant, EngineError> {
        Ok(self.store.accounts.get_tenant(&actor.tenant_id).await?)
    }

    /// Renames the tenant, changes its time zone or which files it takes (admins) or its
    /// retention period (owners).
    pub async fn update_tenant(
        &self,
        actor: &Actor,
        update: TenantUpdate<'_>,
    ) -> Result<Tenant, EngineError> {
        let TenantUpdate { name, time_zone, retention_days, attachments } = update;
        actor.require(Role::Admin)?;
        let mut tenant = self.store.accounts.get_tenant(&actor.tenant_id).await?;
        let attachments_given = attachments.is_some();
        if let Some(policy) = attachments {
            tenant.attachments = policy.validated()?;
        }
        if let Some(days) = retention_days {
            // How long data is kept is the owner's decision.
            actor.require(Role::Owner)?;
            if days.is_some_and(|d| !(1..=36_500).contains(&d)) {
                let message = "keep closed conversations 1–36500 days, or null to keep them";
                return Err(ValidationError::new("retention_days", "out_of_range", message).into());
            }
            tenant.retention_days = days;
        }
        if let Some(name) = name {
            tenant.name = TenantName::parse(name)
                .map_err(|e| ValidationError { field: "name".into(), ..e })?;
        }
        if let Some(zone) = time_zone {
            tenant.time_zone = validate_time_zone(zone)?;
        }
        self.store.accounts.update_tenant(&tenant).await?;
        let changed: Vec<&str> = [("name", name.is_some()), ("time_zone", time_zone.is_some())]
            .into_iter()
            .chain([("retention_days", retention_days.is_some())])
            .chain([("attachments", attachments_given)])
            .filter_map(|(field, given)| given.then_some(field))
            .collect();
        let details =
            serde_json::json!({"changed": changed, "retention_days": tenant.retention_days});
        self.audit(actor, "tenant.updated", None, details).await;
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
