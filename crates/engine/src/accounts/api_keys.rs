//! API keys: created with the creator's role, shown once, stored as their SHA-256.

use sb_domain::{ApiKey, ApiKeyId, ApiKeyScope, Role, Timestamp, random_token};
use sb_secrets::{Secret, sha256_hex};
use sb_store::{Page, PageRequest};

use super::AccountsService;
use crate::{Actor, Credential, EngineError};

/// API keys are `sbk_` followed by 256 random bits; the first characters identify a key in lists.
pub const API_KEY_PREFIX: &str = "sbk_";
const API_KEY_VISIBLE_CHARS: usize = 12;

/// `last_used_at` is refreshed at most this often, so that API-key requests stay reads.
const TOUCH_INTERVAL: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// A request's API key: who it acts as, and the key's record (its scopes, its name).
#[derive(Debug, Clone)]
pub struct AuthenticatedKey {
    pub actor: Actor,
    pub key: ApiKey,
}

impl AuthenticatedKey {
    /// Fails unless the key has one of `scopes` (each opens what is asked), naming the first.
    pub fn require_one_of(&self, scopes: &[ApiKeyScope]) -> Result<(), EngineError> {
        match scopes.first() {
            Some(first) if !scopes.iter().any(|scope| self.key.allows(*scope)) => {
                Err(scope_missing(*first))
            }
            _ => Ok(()),
        }
    }
}

fn scope_missing(scope: ApiKeyScope) -> EngineError {
    EngineError::Refused {
        code: "scope_missing",
        message: match scope {
            ApiKeyScope::Api => "this API key has no `api` scope: it reaches only the MCP server",
            ApiKeyScope::McpRead => "this API key lacks the scope mcp:read",
            ApiKeyScope::McpWrite => "this API key lacks the scope mcp:write",
            ApiKeyScope::McpAssistant => "this API key lacks the scope mcp:assistant",
        },
    }
}

impl AccountsService {
    /// Creates an API key acting with the creator's role (admins), reaching what `scopes`
    /// names (none named: the HTTP API). Returns the key's record and the key itself, which
    /// exists nowhere else afterwards: only its SHA-256 is stored.
    pub async fn create_api_key(
        &self,
        actor: &Actor,
        name: &str,
        scopes: Option<&[String]>,
    ) -> Result<(ApiKey, Secret<String>), EngineError> {
        actor.require(Role::Admin)?;
        let name = ApiKey::parse_name(name)?;
        let scopes = ApiKeyScope::parse_list(scopes)?;
        let plaintext = format!("{API_KEY_PREFIX}{}", random_token(32));
        let key = ApiKey {
            id: ApiKeyId::new(),
            tenant_id: actor.tenant_id.clone(),
            name,
            prefix: plaintext[..API_KEY_VISIBLE_CHARS].to_owned(),
            role: actor.role,
            scopes,
            created_by: actor.user_id.clone(),
            created_at: Timestamp::now(),
            last_used_at: None,
        };
        self.store.api_keys.create_api_key(&key, &sha256_hex(&plaintext)).await?;
        let details = serde_json::json!({"name": key.name, "scopes": key.scopes});
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

    /// Who `key` acts as on the HTTP API (keys with the `api` scope), or `None` for a key that is
    /// malformed, unknown or revoked.
    pub async fn api_key_actor(&self, key: &str) -> Result<Option<Actor>, EngineError> {
        let Some(holder) = self.authenticate_api_key(key).await? else { return Ok(None) };
        holder.require_one_of(&[ApiKeyScope::Api])?;
        Ok(Some(holder.actor))
    }

    /// The key of a request to the MCP server (keys with at least one `mcp:` scope), or `None`
    /// for a key that is malformed, unknown or revoked.
    pub async fn mcp_key(&self, key: &str) -> Result<Option<AuthenticatedKey>, EngineError> {
        let Some(holder) = self.authenticate_api_key(key).await? else { return Ok(None) };
        if !holder.key.scopes.iter().any(|scope| scope.is_mcp()) {
            return Err(EngineError::Refused {
                code: "scope_missing",
                message: "this API key has no MCP scope (mcp:read, mcp:write or mcp:assistant)",
            });
        }
        Ok(Some(holder))
    }

    /// Who `key` acts as and what it reaches, or `None` for a key that is malformed, unknown or
    /// revoked. Its last use is recorded in the background, at most once a minute.
    async fn authenticate_api_key(
        &self,
        key: &str,
    ) -> Result<Option<AuthenticatedKey>, EngineError> {
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
        let actor = Actor {
            tenant_id: record.tenant_id.clone(),
            user_id: record.created_by.clone(),
            role: record.role,
            credential: Credential::ApiKey(record.id.clone()),
        };
        Ok(Some(AuthenticatedKey { actor, key: record }))
    }
}
