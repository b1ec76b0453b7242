//! Safe actions: a call that changes the tenant's data waits for the people it affects. The
//! server, not the model, decides which calls wait and executes only what was agreed to: the
//! request is rendered when the action is proposed, and a confirmation executes that request or
//! nothing.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    ActionId, ConversationId, EndpointId, HttpMethod, MessageId, TenantId, Timestamp, UserId,
};

/// How long a proposed action may be confirmed, unless the endpoint says otherwise.
pub const ACTION_LIFETIME_S: i64 = 600;

/// Who must agree before an endpoint is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// Called as soon as a rule or the AI asks.
    None,
    /// The visitor confirms in the chat (a button, never a typed "yes").
    Visitor,
    /// An operator of the tenant approves in the inbox.
    Operator,
    /// Both: the visitor confirms and an operator approves, in either order.
    VisitorAndOperator,
}

impl Approval {
    /// The default for a method: anything that changes data waits for the visitor.
    pub fn default_for(method: HttpMethod) -> Self {
        if method.changes_data() { Approval::Visitor } else { Approval::None }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Approval::None => "none",
            Approval::Visitor => "visitor",
            Approval::Operator => "operator",
            Approval::VisitorAndOperator => "visitor_and_operator",
        }
    }

    pub fn needs_visitor(self) -> bool {
        matches!(self, Approval::Visitor | Approval::VisitorAndOperator)
    }

    pub fn needs_operator(self) -> bool {
        matches!(self, Approval::Operator | Approval::VisitorAndOperator)
    }
}

impl std::str::FromStr for Approval {
    type Err = crate::ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
            crate::ValidationError::new(
                "approval",
                "invalid_approval",
                "must be none, visitor, operator or visitor_and_operator",
            )
        })
    }
}

/// Where an action stands. `pending` until everyone needed has agreed (or one refused), then
/// `executed` or `failed`; or it ends without a call: `cancelled` (the visitor), `denied` (an
/// operator), `expired`, or `stale` (what it would send changed since it was proposed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionState {
    Pending,
    /// Agreed to by everyone needed; the call is under way.
    Confirmed,
    Executed,
    Failed,
    Cancelled,
    Denied,
    Expired,
    Stale,
}

impl ActionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionState::Pending => "pending",
            ActionState::Confirmed => "confirmed",
            ActionState::Executed => "executed",
            ActionState::Failed => "failed",
            ActionState::Cancelled => "cancelled",
            ActionState::Denied => "denied",
            ActionState::Expired => "expired",
            ActionState::Stale => "stale",
        }
    }

    /// Nothing more can happen to it.
    pub fn is_final(self) -> bool {
        !matches!(self, ActionState::Pending | ActionState::Confirmed)
    }
}

impl std::str::FromStr for ActionState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| format!("unknown action state {s:?}"))
    }
}

/// The request an action will send, as shown to people: credentials are never part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShownRequest {
    pub method: String,
    pub url: String,
    /// Headers the endpoint and connection set, credentials as `***`.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// Who proposed the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProposedBy {
    /// A rule's `CALL_API`; the rule's later actions wait with it.
    Rule { rule_id: crate::RuleId },
    /// The AI, calling the endpoint as a tool.
    Ai,
}

/// A call that waits for agreement. What it was rendered from is never serialized: events and
/// answers carry the request as shown, not the session's variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PendingAction {
    pub id: ActionId,
    pub tenant_id: TenantId,
    pub conversation_id: ConversationId,
    /// The visitor message whose handling proposed it.
    pub message_id: MessageId,
    pub endpoint_id: EndpointId,
    pub endpoint_name: String,
    pub proposed_by: ProposedBy,
    /// Rendered from the endpoint's `approval_summary`: what the visitor is asked.
    pub summary: String,
    pub request: ShownRequest,
    /// Hash of the exact request (credentials excluded) and of the endpoint and connection as
    /// they were: a confirmation executes only a request with the same fingerprint.
    #[serde(skip, default)]
    pub fingerprint: String,
    /// The variables the request was rendered from.
    #[serde(skip, default)]
    pub variables: crate::template::Variables,
    /// The rule's actions that run once the call has an answer (or fails), as JSON.
    #[serde(skip, default)]
    pub continuation: serde_json::Value,
    pub approval: Approval,
    pub state: ActionState,
    pub visitor_confirmed_at: Option<Timestamp>,
    pub operator_approved_at: Option<Timestamp>,
    pub decided_by: Option<UserId>,
    pub note: Option<String>,
    /// What the call answered, or why it did not happen.
    pub outcome: Option<serde_json::Value>,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl PendingAction {
    /// Who still has to agree: `visitor`, `operator`.
    pub fn needs(&self) -> Vec<String> {
        needs(
            self.approval,
            self.visitor_confirmed_at.is_some(),
            self.operator_approved_at.is_some(),
        )
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.state == ActionState::Pending && now >= self.expires_at
    }
}

/// Who still has to agree under `approval`, given who has.
pub fn needs(approval: Approval, visitor_agreed: bool, operator_agreed: bool) -> Vec<String> {
    let mut needs = Vec::new();
    if approval.needs_visitor() && !visitor_agreed {
        needs.push("visitor".to_owned());
    }
    if approval.needs_operator() && !operator_agreed {
        needs.push("operator".to_owned());
    }
    needs
}

/// What a message shows of its action: enough for the widget's Confirm and Cancel buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionCard {
    pub id: ActionId,
    pub summary: String,
    pub state: ActionState,
    pub expires_at: Timestamp,
    /// Who still has to agree: `visitor`, `operator`.
    pub needs: Vec<String>,
}

impl From<&PendingAction> for ActionCard {
    fn from(action: &PendingAction) -> Self {
        Self {
            id: action.id.clone(),
            summary: action.summary.clone(),
            state: action.state,
            expires_at: action.expires_at,
            needs: action.needs(),
        }
    }
}
