//! The audit log: who did what that an owner may have to answer for. Entries name the actor,
//! the action and its target, and what changed in general terms (field names, counts) — never
//! the personal data itself, so an erasure leaves nothing of its contact here.

use sb_domain::{AuditEntry, AuditId, Page, PageRequest, Role, Timestamp};
use serde_json::Value;

use super::AccountsService;
use crate::actor::Credential;
use crate::{Actor, EngineError};

impl AccountsService {
    /// Records `action` by `actor`. A failure to record is logged, not raised: what was done
    /// is done, and the caller's answer should say so.
    pub async fn audit(&self, actor: &Actor, action: &str, target: Option<String>, details: Value) {
        let entry = AuditEntry {
            id: AuditId::new(),
            tenant_id: actor.tenant_id.clone(),
            at: Timestamp::now(),
            actor_user_id: actor.user_id.clone(),
            actor_email: None,
            actor_api_key_id: match &actor.credential {
                Credential::ApiKey(key) => Some(key.clone()),
                _ => None,
            },
            action: action.to_owned(),
            target,
            details,
        };
        if let Err(err) = self.store.privacy.record_audit(&entry).await {
            tracing::error!(error = %err, action, "could not record an audit entry");
        }
    }

    /// The account's audit log, newest first (owners).
    pub async fn audit_log(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, EngineError> {
        actor.require(Role::Owner)?;
        Ok(self.store.privacy.list_audit(&actor.tenant_id, page).await?)
    }
}
