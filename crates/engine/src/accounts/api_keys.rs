//! API keys: created with the creator's role, shown once, stored as their SHA-256.

use sb_domain::{ApiKey, ApiKeyId, Role, Timestamp, random_token};
use sb_secrets::{Secret, sha256_hex};
use sb_store::{Page, PageRequest};

use super::AccountsService;
use crate::{Actor, Credential, EngineError};

/// API keys are `sbk_` followed by 256 random bits; the first characters identify a key in lists.
pub const API_KEY_PREFIX: &str = "sbk_";
const API_KEY_VISIBLE_CHARS: usize = 12;

/// `last_used_at` is refreshed at most this often, so that API-key requests stay reads.
const TOUCH_INTERVAL: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

impl AccountsService {
    /// Creates an API key acting with the creator's role (admins). Returns the key's record and
    /// the key itself, which exists nowhere else afterwards: only its SHA-256 is stored.
    pub async fn create_api_key(
        &self,
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
        self.store.api_keys.create_api_key(&key, &sha256_hex(&plaintext)).await?;
        let details = serde_json::json!({"name": key.name});
        self.audit(actor, "api_key.created", Some(key.id.to_string()), details).await;
        Ok((key, Secret::new(plaintext)))
    }

    /// The tenant's keys (admins).
    pub async fn list_api_keys(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<ApiKey>, EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.api_keys.list_api_keys(&actor.tenant_id, page).await?)
    }

    /// Revokes a key (admins).
    pub async fn revoke_api_key(&self, actor: &Actor, id: &ApiKeyId) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        self.store.api_keys.delete_api_key(&actor.tenant_id, id).await?;
        self.audit(actor, "api_key.revoked", Some(id.to_string()), serde_json::json!({})).await;
        Ok(())
    }

    /// Who `key` acts as, or `None` for a key that is malformed, unknown or revoked. Its last
    /// use is recorded in the background, at most once a minute.
    pub async fn authenticate_api_key(&self, key: &str) -> Result<Option<Actor>, EngineError> {
        if !key.starts_with(API_KEY_PREFIX) {
            return Ok(None);
        }
        let Some(record) = self.store.api_keys.find_api_key(&sha256_hex(key)).await? else {
            return Ok(None);
        };
        let now = Timestamp::now();
        if record.last_used_at.is_none_or(|at| now.duration_since(at) > TOUCH_INTERVAL) {
            let store = self.store.api_keys.clone();
            let id = record.id.clone();
            tokio::spawn(async move {
                if let Err(err) = store.touch_api_key(&id, now).await {
                    tracing::warn!(api_key = %id, error = %err, "could not record API key use");
                }
            });
        }
        Ok(Some(Actor {
            tenant_id: record.tenant_id,
            user_id: record.created_by,
            role: record.role,
            credential: Credential::ApiKey(record.id),
        }))
    }
}
