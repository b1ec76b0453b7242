//! Safe actions, the middle: agreeing or refusing. Only these calls decide an action — never a
//! message's text, whatever it says — and each decision is a compare-and-set on the action as
//! the decider saw it, so a double click or two operators at once decide once. The decision
//! that completes the agreement (or refuses it) hands the action to the conversation's worker.

use std::sync::Arc;
use std::time::Duration;

use sb_domain::action::{ActionState, PendingAction};
use sb_domain::{ActionId, Conversation, Message, Role, Timestamp};
use sb_store::{ActionDecision, Page, PageRequest, StoreError};

use super::worker::Job;
use crate::{Actor, ConversationsService, EngineError};

/// How long a decision waits for what it led to (the contract's `wait_ms=5000`).
const DECISION_WAIT: Duration = Duration::from_secs(5);
/// Longest note an operator may leave with a decision.
const MAX_NOTE_CHARS: usize = 1000;

/// An action as it stands after a decision, and the replies the decision led to.
#[derive(Debug)]
pub struct Decided {
    pub action: PendingAction,
    pub replies: Vec<Message>,
    /// Whether the engine finished with what the decision set off within the wait.
    pub finished: bool,
}

/// Who decides, and how.
enum Decision<'a> {
    Visitor { confirm: bool },
    Operator { actor: &'a Actor, approve: bool, note: Option<&'a str> },
}

impl ConversationsService {
    /// The visitor of `conversation` confirms (or cancels) one of its actions.
    pub async fn visitor_decides(
        self: &Arc<Self>,
        conversation: &Conversation,
        id: &ActionId,
        confirm: bool,
    ) -> Result<Decided, EngineError> {
        let action = self.action(&conversation.tenant_id, id).await?;
        if action.conversation_id != conversation.id {
            return Err(EngineError::NotFound("action"));
        }
        if confirm && !conversation.visitor.verified {
            let endpoint =
                self.connections.endpoint(&conversation.tenant_id, &action.endpoint_id).await;
            if endpoint.is_ok_and(|e| e.requires_verified_visitor) {
                return Err(EngineError::Refused {
                    code: "visitor_not_verified",
                    message: "this action needs a visitor whose identity the site signed",
                });
            }
        }
        self.decide(action, Decision::Visitor { confirm }).await
    }

    /// The tenant's pending (or other) actions, oldest first: the approval queue.
    pub async fn list_actions(
        &self,
        actor: &Actor,
        state: Option<ActionState>,
        page: &PageRequest,
    ) -> Result<Page<PendingAction>, EngineError> {
        actor.require(Role::Operator)?;
        Ok(self.store.actions.list_actions(&actor.tenant_id, state, page).await?)
    }

    pub async fn get_action(
        &self,
        actor: &Actor,
        id: &ActionId,
    ) -> Result<PendingAction, EngineError> {
        actor.require(Role::Operator)?;
        self.action(&actor.tenant_id, id).await
    }

    /// A person of the tenant approves (or denies) an action.
    pub async fn operator_decides(
        self: &Arc<Self>,
        actor: &Actor,
        id: &ActionId,
        approve: bool,
        note: Option<&str>,
    ) -> Result<Decided, EngineError> {
        actor.require(Role::Operator)?;
        if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
            return Err(sb_domain::ValidationError::new(
                "note",
                "too_long",
                format!("at most {MAX_NOTE_CHARS} characters"),
            )
            .into());
        }
        let action = self.action(&actor.tenant_id, id).await?;
        let decided = self.decide(action, Decision::Operator { actor, approve, note }).await?;
        let kind = if approve { "action.approved" } else { "action.denied" };
        let details = serde_json::json!({"state": decided.action.state});
        self.accounts.audit(actor, kind, Some(id.to_string()), details).await;
        Ok(decided)
    }

    async fn action(
        &self,
        tenant: &sb_domain::TenantId,
        id: &ActionId,
    ) -> Result<PendingAction, EngineError> {
        match self.store.actions.get_action(tenant, id).await {
            Err(StoreError::NotFound) => Err(EngineError::NotFound("action")),
            other => Ok(other?),
        }
    }

    async fn decide(
        self: &Arc<Self>,
        action: PendingAction,
        decision: Decision<'_>,
    ) -> Result<Decided, EngineError> {
        let now = Timestamp::now();
        self.check_open(&action, now).await?;
        let (mut visitor_at, mut operator_at) =
            (action.visitor_confirmed_at, action.operator_approved_at);
        let (agrees, refused, decided_by, note) = match decision {
            Decision::Visitor { confirm } => {
                if !action.approval.needs_visitor() {
                    return Err(EngineError::Refused {
                        code: "operator_decides",
                        message: "a member of the team decides on this action",
                    });
                }
                if visitor_at.is_some() {
                    return Err(already_decided());
                }
                visitor_at = confirm.then_some(now);
                (confirm, ActionState::Cancelled, None, None)
            }
            Decision::Operator { actor, approve, note } => {
                if !action.approval.needs_operator() {
                    return Err(EngineError::Refused {
                        code: "visitor_decides",
                        message: "the visitor decides on this action",
                    });
                }
                if operator_at.is_some() {
                    return Err(already_decided());
                }
                operator_at = approve.then_some(now);
                (approve, ActionState::Denied, actor.user_id.as_ref(), note)
            }
        };
        let everyone =
            sb_domain::action::needs(action.approval, visitor_at.is_some(), operator_at.is_some())
                .is_empty();
        let state = match (agrees, everyone) {
            (false, _) => refused,
            (true, true) => ActionState::Confirmed,
            (true, false) => ActionState::Pending,
        };
        let decided = ActionDecision {
            tenant: &action.tenant_id,
            id: &action.id,
            seen: action.updated_at,
            state,
            visitor_confirmed_at: visitor_at,
            operator_approved_at: operator_at,
            decided_by,
            note,
            // Strictly later than what was seen, so the next decision sees a change.
            now: now.max(action.updated_at + jiff::SignedDuration::from_millis(1)),
        };
        if !self.store.actions.decide_action(&decided).await? {
            return Err(already_decided());
        }
        self.announce_action(PendingAction {
            state,
            visitor_confirmed_at: visitor_at,
            operator_approved_at: operator_at,
            decided_by: decided_by.cloned().or(action.decided_by.clone()),
            note: note.map(str::to_owned).or(action.note.clone()),
            updated_at: decided.now,
            ..action.clone()
        });
        let (replies, finished) = if state == ActionState::Pending {
            (Vec::new(), true)
        } else {
            self.hand_to_worker(&action, DECISION_WAIT).await?
        };
        let action = self.action(&action.tenant_id, &action.id).await?;
        Ok(Decided { action, replies, finished })
    }

    /// Refuses a decision on an action that can no longer take one; expires it on the way.
    async fn check_open(
        self: &Arc<Self>,
        action: &PendingAction,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        match action.state {
            ActionState::Pending if action.is_expired(now) => {
                self.expire(action, now).await?;
                Err(expired())
            }
            ActionState::Pending => Ok(()),
            ActionState::Expired => Err(expired()),
            ActionState::Stale => Err(EngineError::Conflict {
                code: "stale",
                message: "what this action would send has changed since it was proposed; ask again",
            }),
            _ => Err(already_decided()),
        }
    }

    /// Expires pending actions whose time ran out (each visitor is told); how many.
    pub async fn expire_actions(self: &Arc<Self>) -> Result<usize, EngineError> {
        let now = Timestamp::now();
        let due = self.store.actions.expired_actions(now, 200).await?;
        for action in &due {
            self.expire(action, now).await?;
        }
        Ok(due.len())
    }

    /// Marks a pending action expired (once) and lets its worker tell the visitor.
    pub(crate) async fn expire(
        self: &Arc<Self>,
        action: &PendingAction,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let decided = ActionDecision {
            tenant: &action.tenant_id,
            id: &action.id,
            seen: action.updated_at,
            state: ActionState::Expired,
            visitor_confirmed_at: action.visitor_confirmed_at,
            operator_approved_at: action.operator_approved_at,
            decided_by: None,
            note: None,
            now: now.max(action.updated_at + jiff::SignedDuration::from_millis(1)),
        };
        if self.store.actions.decide_action(&decided).await? {
            let state = ActionState::Expired;
            self.announce_action(PendingAction {
                state,
                updated_at: decided.now,
                ..action.clone()
            });
            // The visitor is told by the worker; nobody here waits for it.
            self.hand_to_worker(action, Duration::ZERO).await?;
        }
        Ok(())
    }

    /// Tells realtime listeners and webhooks what became of an action (after it is stored).
    pub(crate) fn announce_action(&self, action: PendingAction) {
        self.events.publish(sb_domain::events::ConversationEvent::ActionChanged {
            tenant_id: action.tenant_id.clone(),
            conversation_id: action.conversation_id.clone(),
            action: Box::new(action),
        });
    }

    /// Queues the decided action behind the conversation's messages and waits up to `wait`
    /// for what it leads to.
    async fn hand_to_worker(
        self: &Arc<Self>,
        action: &PendingAction,
        wait: Duration,
    ) -> Result<(Vec<Message>, bool), EngineError> {
        let message =
            self.store.conversations.get_message(&action.tenant_id, &action.message_id).await?;
        let (done, finished) = tokio::sync::oneshot::channel();
        let job = Job {
            tenant: action.tenant_id.clone(),
            message,
            action: Some(action.id.clone()),
            done: Some(done),
        };
        self.workers.enqueue(self, job);
        Ok(match tokio::time::timeout(wait, finished).await {
            Ok(Ok(Some(replies))) => (replies, true),
            Ok(Ok(None)) => (Vec::new(), true),
            Ok(Err(_)) | Err(_) => (Vec::new(), false),
        })
    }
}

fn already_decided() -> EngineError {
    EngineError::Conflict { code: "already_decided", message: "this action has been decided" }
}

fn expired() -> EngineError {
    EngineError::Gone {
        code: "expired",
        message: "this action expired before it was confirmed; ask again",
    }
}
