//! Safe actions, last half: once everyone needed has agreed, the conversation's worker sends
//! the request that was agreed to — rendered again from the conversation as it is now, and sent
//! only if it is byte for byte the same (see `sb_connectors::agreed`) — maps the answer in and
//! lets the rule go on; a refused, expired or failed action runs the rule's `on_error` branch or
//! tells the visitor plainly. It all happens in the conversation's order, like a message.

use sb_connectors::agreed::Agreement;
use sb_connectors::{CallError, CallSink, CallTarget};
use sb_domain::action::{ActionState, PendingAction, ProposedBy};
use sb_domain::analytics::ReplySource;
use sb_domain::template::Variables;
use sb_domain::{ActionId, Message, TenantId, is_built_in};
use serde_json::{Value, json};

use super::action_proposal::Continuation;
use super::actions::Answer;
use super::process::{Run, kept_built_in, persistent};
use super::trace::{Settled, TraceSink, Turn};
use crate::{ConversationsService, EngineError};

impl ConversationsService {
    /// Runs (or, refused, winds up) `action`, proposed while handling `message`; failures are
    /// traced and logged. Returns the replies as stored.
    pub(crate) async fn settle_action(
        &self,
        tenant: &TenantId,
        message: &Message,
        action: &ActionId,
    ) -> Option<Vec<Message>> {
        let turn = Turn::default();
        let variables = match self.settle(tenant, message, action, &turn).await {
            Ok(variables) => variables,
            Err(err) => {
                tracing::error!(%action, error = %err, "settling an action failed");
                let data = json!({"action_id": action, "message": err.to_string()});
                turn.trace_failure(tenant, message, data);
                None
            }
        };
        let replies = self.finish_turn(tenant, message, turn, variables.as_ref(), false).await;
        // Refusals were announced when they were decided; a call's outcome is announced here.
        let ran = [ActionState::Executed, ActionState::Failed, ActionState::Stale];
        match self.store.actions.get_action(tenant, action).await {
            Ok(settled) if ran.contains(&settled.state) => self.announce_action(settled),
            _ => {}
        }
        replies
    }

    async fn settle(
        &self,
        tenant_id: &TenantId,
        message: &Message,
        id: &ActionId,
        turn: &Turn,
    ) -> Result<Option<Variables>, EngineError> {
        let action = self.store.actions.get_action(tenant_id, id).await?;
        let conversation =
            self.store.conversations.get_conversation(tenant_id, &message.conversation_id).await?;
        let config = self.config(tenant_id).await?;
        let tenant = self.cached_tenant(&config, tenant_id).await?;
        // The conversation as it is now; the clock and the message as they were when the
        // action was proposed (they are part of what was agreed to).
        let mut vars = conversation.variables.clone();
        for (name, value) in &action.variables {
            if is_built_in(name) && !kept_built_in(name) {
                vars.insert(name.clone(), value.clone());
            }
        }
        let continuation: Continuation =
            serde_json::from_value(action.continuation.clone()).unwrap_or_default();
        let rule = match &action.proposed_by {
            ProposedBy::Rule { rule_id } => Some(rule_id.clone()),
            ProposedBy::Ai => None,
        };
        let mut run = Run::new(turn, &tenant, config, conversation, message, vars);
        run.rule = rule;
        match action.state {
            ActionState::Confirmed => self.execute_agreed(&mut run, &action, &continuation).await?,
            ActionState::Cancelled | ActionState::Denied | ActionState::Expired => {
                let data = json!({"action_id": action.id, "state": action.state});
                self.note(&run, "action_decided", data).await;
                self.wind_up(&mut run, &action, action.state, &continuation).await?;
            }
            // Still waiting, or settled already (a job run twice): nothing to do.
            _ => return Ok(None),
        }
        Ok(Some(persistent(&run.vars)))
    }

    async fn execute_agreed(
        &self,
        run: &mut Run<'_>,
        action: &PendingAction,
        continuation: &Continuation,
    ) -> Result<(), EngineError> {
        let tenant = run.tenant.id.clone();
        let endpoint = match self.cached_endpoint(&run.config, &tenant, &action.endpoint_id).await {
            Ok(endpoint) => endpoint,
            Err(_) => {
                // Deleted since: what was agreed to can no longer be sent.
                self.record_settlement(run, action, ActionState::Stale, json!({"ok": false, "error": {"code": "stale", "message": "the endpoint no longer exists"}})).await;
                return self.wind_up(run, action, ActionState::Stale, continuation).await;
            }
        };
        let result = self.send_agreed(run, action, &endpoint).await;
        let state = match &result {
            Ok(_) => ActionState::Executed,
            Err(error) if error.code == "stale" => ActionState::Stale,
            Err(_) => ActionState::Failed,
        };
        let outcome = match &result {
            Ok(answer) => json!({"ok": true, "mapped": answer.mapped.keys().collect::<Vec<_>>()}),
            Err(error) => json!({"ok": false, "error": error}),
        };
        self.record_settlement(run, action, state, outcome).await;
        let succeeded = self.take_answer(run, &endpoint, result).await.is_ok();
        if !succeeded {
            return self.wind_up(run, action, state, continuation).await;
        }
        self.map_tool_result(run, &endpoint.id, &continuation.mapping).await;
        match &action.proposed_by {
            ProposedBy::Rule { .. } if !continuation.then.is_empty() => {
                self.run_actions(run, &continuation.then).await
            }
            ProposedBy::Ai => {
                let done = format!(
                    "The visitor confirmed this and it has been done: {}. Tell them briefly, \
                     using the values the call returned.",
                    action.summary
                );
                self.reply_ai(run, Some(&done), Some(&done_text(action))).await
            }
            ProposedBy::Rule { .. } => self.reply(run, &done_text(action), ReplySource::Api).await,
        }
    }

    /// Sends the agreed request, through the same budget and trace as any call.
    async fn send_agreed(
        &self,
        run: &Run<'_>,
        action: &PendingAction,
        endpoint: &sb_domain::Endpoint,
    ) -> Result<Answer, CallError> {
        let (stored, secrets) = match self.call_target_for(run, endpoint).await {
            Ok(found) => found,
            Err(error) => return Err(self.refuse(run, endpoint, error).await),
        };
        if !self.outbound_budget.take(&run.tenant.id) {
            let error = CallError::new(
                "budget_exceeded",
                "this account's backend calls for this minute are used up",
            );
            return Err(self.refuse(run, endpoint, error).await);
        }
        let sink = TraceSink {
            turn: run.turn,
            tenant: &run.tenant.id,
            conversation: &run.conversation.id,
            message: Some(&run.message.id),
        };
        let target = CallTarget { connection: &stored.connection, secrets: &secrets };
        let agreement =
            Agreement { fingerprint: &action.fingerprint, idempotency_key: action.id.as_str() };
        let outcome = match &self.fakes {
            Some(fakes) => {
                let outcome = fakes.answer(target, endpoint, &run.vars, &run.conversation.id).await;
                sink.record(&stored.connection, endpoint, &outcome).await;
                outcome
            }
            None => {
                self.connector.execute_agreed(target, endpoint, &run.vars, &sink, agreement).await
            }
        };
        Answer::of(outcome)
    }

    async fn record_settlement(
        &self,
        run: &Run<'_>,
        action: &PendingAction,
        state: ActionState,
        outcome: Value,
    ) {
        let data = json!({"action_id": action.id, "state": state, "outcome": outcome});
        self.note(run, "action_executed", data).await;
        run.turn.settle(Settled { id: action.id.clone(), state, outcome });
    }

    /// An action that ended without doing what was asked: the rule's `on_error` branch runs, or
    /// the visitor is told what happened.
    async fn wind_up(
        &self,
        run: &mut Run<'_>,
        action: &PendingAction,
        state: ActionState,
        continuation: &Continuation,
    ) -> Result<(), EngineError> {
        if !matches!(state, ActionState::Failed) {
            // A failed call has recorded its own error code; a refusal records why it ended.
            run.vars.insert(format!("api.{}.error", action.endpoint_name), json!(state.as_str()));
        }
        if !continuation.on_error.is_empty() {
            let data = json!({"action_id": action.id, "code": state.as_str()});
            self.note(run, "on_error", data).await;
            return self.run_actions(run, &continuation.on_error).await;
        }
        self.reply(run, ended_text(state), ReplySource::Rule).await
    }
}

/// What the visitor is told when an action was done and the rule says nothing more.
fn done_text(action: &PendingAction) -> String {
    format!("Done: {}", action.summary.trim().trim_end_matches('?'))
}

/// What the visitor is told when an action ended without being done.
fn ended_text(state: ActionState) -> &'static str {
    match state {
        ActionState::Cancelled => "Okay, I haven't done that.",
        ActionState::Denied => "A member of our team declined this request, so nothing was done.",
        ActionState::Expired => {
            "That request expired before it was confirmed, so nothing was done. Ask again if you still want it."
        }
        ActionState::Stale => {
            "Something changed after you were asked, so nothing was done. Please ask again."
        }
        _ => "Sorry, that could not be done right now.",
    }
}
