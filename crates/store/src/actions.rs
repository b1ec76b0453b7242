//! Safe actions: calls waiting for a visitor's confirmation or an operator's approval.

use async_trait::async_trait;
use sb_domain::action::{ActionState, PendingAction};
use sb_domain::{ActionId, ConversationId, TenantId, Timestamp, UserId};

use crate::{Page, PageRequest, StoreResult};

/// A decision on a pending action, applied only if nobody decided meanwhile.
#[derive(Debug, Clone)]
pub struct ActionDecision<'a> {
    pub tenant: &'a TenantId,
    pub id: &'a ActionId,
    /// The action's `updated_at` as the decider saw it: a decision taken on an older view (a
    /// double click, two operators at once) changes nothing.
    pub seen: Timestamp,
    pub state: ActionState,
    pub visitor_confirmed_at: Option<Timestamp>,
    pub operator_approved_at: Option<Timestamp>,
    pub decided_by: Option<&'a UserId>,
    pub note: Option<&'a str>,
    pub now: Timestamp,
}

#[async_trait]
pub trait ActionStore: Send + Sync {
    async fn get_action(&self, tenant: &TenantId, id: &ActionId) -> StoreResult<PendingAction>;

    /// The tenant's actions, newest first, optionally only those in `state`.
    async fn list_actions(
        &self,
        tenant: &TenantId,
        state: Option<ActionState>,
        page: &PageRequest,
    ) -> StoreResult<Page<PendingAction>>;

    /// The conversation's actions, oldest first.
    async fn conversation_actions(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Vec<PendingAction>>;

    /// Applies `decision` if the action is still as the decider saw it; returns whether it did.
    async fn decide_action(&self, decision: &ActionDecision<'_>) -> StoreResult<bool>;

    /// Pending actions whose time ran out before `now`, at most `limit`.
    async fn expired_actions(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<PendingAction>>;
}
