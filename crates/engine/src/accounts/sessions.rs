//! Dashboard sessions: a random token in a cookie and a CSRF token beside it, both stored only
//! as their SHA-256.

use std::time::Duration;

use sb_domain::{SessionId, Tenant, Timestamp, User, random_token};
use sb_secrets::{constant_time_eq, sha256_hex};
use sb_store::NewSession;

use super::AccountsService;
use crate::{Actor, Credential, EngineError};

/// A session just started: the tokens go to the browser once and exist nowhere else.
pub struct NewSessionTokens {
    pub token: String,
    pub csrf: String,
    pub user: User,
    pub tenant: Tenant,
}

/// A live session found by its token.
pub struct SignedIn {
    pub actor: Actor,
    csrf_hash: String,
}

impl SignedIn {
    /// Whether `sent` is this session's CSRF token.
    pub fn csrf_matches(&self, sent: &str) -> bool {
        constant_time_eq(&sha256_hex(sent), &self.csrf_hash)
    }
}

impl AccountsService {
    /// Starts a session of `user` lasting `ttl`.
    pub async fn start_session(
        &self,
        user: User,
        ttl: Duration,
    ) -> Result<NewSessionTokens, EngineError> {
        let token = random_token(32);
        let csrf = random_token(32);
        let now = Timestamp::now();
        let ttl = jiff::SignedDuration::try_from(ttl)
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let session = NewSession {
            id: SessionId::new(),
            tenant_id: user.tenant_id.clone(),
            user_id: user.id.clone(),
            token_hash: sha256_hex(&token),
            csrf_hash: sha256_hex(&csrf),
            created_at: now,
            expires_at: now + ttl,
        };
        self.store.sessions.create_session(&session).await?;
        let tenant = self.store.accounts.get_tenant(&user.tenant_id).await?;
        let actor = Actor {
            tenant_id: user.tenant_id.clone(),
            user_id: Some(user.id.clone()),
            role: user.role,
            credential: crate::actor::Credential::Session(session.id.clone()),
        };
        self.audit(&actor, "session.login", Some(user.id.to_string()), serde_json::json!({})).await;
        Ok(NewSessionTokens { token, csrf, user, tenant })
    }

    /// The session `token` opens, unless it expired or ended.
    pub async fn find_session(&self, token: &str) -> Result<Option<SignedIn>, EngineError> {
        let found = self.store.sessions.find_session(&sha256_hex(token), Timestamp::now()).await?;
        Ok(found.map(|session| SignedIn {
            actor: Actor {
                tenant_id: session.user.tenant_id,
                user_id: Some(session.user.id),
                role: session.user.role,
                credential: Credential::Session(session.id),
            },
            csrf_hash: session.csrf_hash,
        }))
    }

    /// Ends the session `token` opens (logging out).
    pub async fn end_session(&self, token: &str) -> Result<(), EngineError> {
        Ok(self.store.sessions.delete_session(&sha256_hex(token)).await?)
    }

    /// Forgets expired sessions; returns how many.
    pub async fn delete_expired_sessions(&self) -> Result<u64, EngineError> {
        Ok(self.store.sessions.delete_expired_sessions(Timestamp::now()).await?)
    }
}
