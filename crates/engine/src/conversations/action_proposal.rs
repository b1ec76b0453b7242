//! Safe actions, first half: a call to an endpoint that needs agreement is not sent. Its request
//! is rendered and fingerprinted, stored as a pending action with the turn, and the visitor is
//! asked with the action's summary (see `action_decisions` and `action_execution` for the rest).

use sb_connectors::{AuthSecrets, CallError, CallTarget};
use sb_domain::action::{ACTION_LIFETIME_S, ActionState, PendingAction, ProposedBy, ShownRequest};
use sb_domain::template::Template;
use sb_domain::{Action, ActionId, Endpoint};
use sb_store::StoredConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::process::Run;
use crate::ConversationsService;

/// What a rule does once its waiting call has an answer, or has none.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Continuation {
    /// The rule's actions after the call.
    #[serde(default)]
    pub then: Vec<Action>,
    /// The call's `on_error` branch: runs instead when the call fails, is refused or expires.
    #[serde(default)]
    pub on_error: Vec<Action>,
    /// `CALL_TOOL`'s mapping over the tool's result, applied when the agreed call answers.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub mapping: std::collections::BTreeMap<String, String>,
}

impl ConversationsService {
    /// The connection of `endpoint` and its opened secrets, or why no call can be made.
    pub(crate) async fn call_target_for(
        &self,
        run: &Run<'_>,
        endpoint: &Endpoint,
    ) -> Result<(StoredConnection, AuthSecrets), CallError> {
        let tenant = &run.tenant.id;
        let stored = self
            .cached_connection(&run.config, tenant, &endpoint.connection_id)
            .await
            .map_err(|err| CallError::new("connection_not_found", err.to_string()))?;
        sb_domain::verified_calls::check_verified_call(&stored.connection, endpoint).map_err(
            |refused| {
                CallError::new(refused.code, format!("{}: {}", refused.field, refused.message))
            },
        )?;
        let secrets = self
            .connections
            .open_secrets(&stored)
            .map_err(|err| CallError::new("credentials_unavailable", err.to_string()))?;
        Ok((stored, secrets))
    }

    /// Stores a pending action for a call to `endpoint` with the session's variables and asks
    /// for agreement; nothing is sent. Fails (and nothing is proposed) when the request cannot
    /// be made at all.
    pub(crate) async fn propose_action(
        &self,
        run: &mut Run<'_>,
        endpoint: &Endpoint,
        proposed_by: ProposedBy,
        continuation: &Continuation,
    ) -> Result<ActionId, CallError> {
        let (stored, secrets) = self.call_target_for(run, endpoint).await?;
        let target = CallTarget { connection: &stored.connection, secrets: &secrets };
        let proposal = sb_connectors::agreed::propose(target, endpoint, &run.vars)?;
        let now = sb_domain::Timestamp::now();
        let action = PendingAction {
            id: ActionId::new(),
            tenant_id: run.tenant.id.clone(),
            conversation_id: run.conversation.id.clone(),
            message_id: run.message.id.clone(),
            endpoint_id: endpoint.id.clone(),
            endpoint_name: endpoint.name.clone(),
            proposed_by,
            summary: summary(endpoint, &run.vars),
            request: ShownRequest {
                method: proposal.shown.method,
                url: proposal.shown.url,
                headers: proposal.shown.headers,
                body: proposal.shown.body,
            },
            fingerprint: proposal.fingerprint,
            variables: run.vars.clone(),
            continuation: serde_json::to_value(continuation).unwrap_or_default(),
            approval: endpoint.approval,
            state: ActionState::Pending,
            visitor_confirmed_at: None,
            operator_approved_at: None,
            decided_by: None,
            note: None,
            outcome: None,
            expires_at: now
                + jiff::SignedDuration::try_from(self.action_lifetime)
                    .unwrap_or(jiff::SignedDuration::from_secs(ACTION_LIFETIME_S)),
            created_at: now,
            updated_at: now,
        };
        let id = action.id.clone();
        let data = json!({
            "action_id": id,
            "endpoint_id": endpoint.id,
            "endpoint": endpoint.name,
            "summary": action.summary,
            "request": action.request,
            "needs": action.needs(),
            "expires_at": action.expires_at,
        });
        self.note(run, "action_proposed", data).await;
        let source = match action.proposed_by {
            ProposedBy::Ai => sb_domain::analytics::ReplySource::Ai,
            ProposedBy::Rule { .. } => sb_domain::analytics::ReplySource::Rule,
        };
        let message = run.turn.propose(action, source);
        self.note(run, "reply", json!({"message_id": message, "action_id": id})).await;
        run.replied = true;
        run.waiting_for_agreement = true;
        Ok(id)
    }
}

/// The question put to the visitor: the endpoint's `approval_summary` rendered with the
/// session's variables, or a plain sentence naming what would be done.
pub(crate) fn summary(endpoint: &Endpoint, vars: &sb_domain::template::Variables) -> String {
    let template = endpoint.approval_summary.trim();
    if !template.is_empty()
        && let Ok(parsed) = Template::parse("approval_summary", template)
    {
        return parsed.render_text(vars).0;
    }
    let what = if endpoint.description.trim().is_empty() {
        endpoint.name.replace(['_', '-'], " ")
    } else {
        endpoint.description.trim().trim_end_matches('.').to_owned()
    };
    format!("Shall I go ahead? {what}")
}
