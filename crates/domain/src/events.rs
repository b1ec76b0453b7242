//! What happens in conversations, announced to whoever listens (the realtime hub).

use crate::{ConversationId, ConversationStatus, Message, TeamId, TenantId, UserId, WidgetId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConversationEvent {
    ConversationCreated {
        tenant_id: TenantId,
        conversation_id: ConversationId,
        widget_id: WidgetId,
    },
    MessageCreated {
        tenant_id: TenantId,
        conversation_id: ConversationId,
        message: Message,
    },
    /// A message gained a translation.
    MessageUpdated {
        tenant_id: TenantId,
        conversation_id: ConversationId,
        message: Message,
    },
    ConversationUpdated {
        tenant_id: TenantId,
        conversation_id: ConversationId,
        status: ConversationStatus,
        assigned_to: Option<UserId>,
        assigned_team: Option<TeamId>,
        /// Who owned the conversation before the change. Known on the node that made it (the
        /// outbound webhooks tell assignments, closing and reopening apart with it); not sent
        /// to realtime clients or other nodes.
        #[serde(skip)]
        before: Option<Before>,
    },
    /// The bot handed the conversation to people. `attended`: someone available took it; if
    /// not, it waits for whoever comes back (and the team is told).
    HandedOver {
        tenant_id: TenantId,
        conversation_id: ConversationId,
        assigned_to: Option<UserId>,
        assigned_team: Option<TeamId>,
        attended: bool,
    },
    /// A safe action was proposed, decided, or settled (`action.state` says which).
    ActionChanged {
        tenant_id: TenantId,
        conversation_id: ConversationId,
        action: Box<crate::action::PendingAction>,
    },
    /// The conversation's labels changed (an operator or a rule): for the account's people.
    LabelsChanged {
        tenant_id: TenantId,
        conversation_id: ConversationId,
        labels: Vec<String>,
    },
    /// An operator wrote a private note: for the account's people only.
    NoteCreated {
        tenant_id: TenantId,
        conversation_id: ConversationId,
        note: crate::Note,
    },
}

/// A conversation's status and owners before a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Before {
    pub status: ConversationStatus,
    pub assigned_to: Option<UserId>,
    pub assigned_team: Option<TeamId>,
}

impl ConversationEvent {
    pub fn tenant_id(&self) -> &TenantId {
        match self {
            Self::ConversationCreated { tenant_id, .. }
            | Self::MessageCreated { tenant_id, .. }
            | Self::MessageUpdated { tenant_id, .. }
            | Self::ConversationUpdated { tenant_id, .. }
            | Self::HandedOver { tenant_id, .. }
            | Self::ActionChanged { tenant_id, .. }
            | Self::NoteCreated { tenant_id, .. }
            | Self::LabelsChanged { tenant_id, .. } => tenant_id,
        }
    }

    pub fn conversation_id(&self) -> &ConversationId {
        match self {
            Self::ConversationCreated { conversation_id, .. }
            | Self::MessageCreated { conversation_id, .. }
            | Self::MessageUpdated { conversation_id, .. }
            | Self::ConversationUpdated { conversation_id, .. }
            | Self::HandedOver { conversation_id, .. }
            | Self::ActionChanged { conversation_id, .. }
            | Self::NoteCreated { conversation_id, .. }
            | Self::LabelsChanged { conversation_id, .. } => conversation_id,
        }
    }
}

/// Receives events after they are stored. Must not block.
pub trait EventSink: Send + Sync {
    fn publish(&self, event: ConversationEvent);
}

/// Drops every event (no realtime listeners).
pub struct NoEvents;

impl EventSink for NoEvents {
    fn publish(&self, _: ConversationEvent) {}
}
