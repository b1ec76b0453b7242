//! Which webhook events a conversation event is, and the bodies sent for them:
//! `{"type": "message.created", "timestamp": "<RFC 3339>", "data": {...}}`. The data is the
//! tenant's own conversation data — ids, status, owners, the visitor as they introduced
//! themselves, the message — never credentials, variables or internal state.

use sb_domain::webhook::WebhookEvent;
use sb_domain::{Conversation, ConversationStatus, Timestamp};
use serde_json::{Value, json};

use sb_domain::events::ConversationEvent;

/// The webhook events `event` stands for (none for a translation being added).
pub(crate) fn webhook_events(event: &ConversationEvent) -> Vec<WebhookEvent> {
    match event {
        ConversationEvent::ConversationCreated { .. } => vec![WebhookEvent::ConversationCreated],
        ConversationEvent::MessageCreated { .. } => vec![WebhookEvent::MessageCreated],
        ConversationEvent::MessageUpdated { .. } | ConversationEvent::LabelsChanged { .. } => {
            Vec::new()
        }
        ConversationEvent::NoteCreated { .. } => vec![WebhookEvent::NoteCreated],
        // The assignment itself is `conversation.assigned` (from the state change).
        ConversationEvent::HandedOver { attended, .. } => {
            if *attended {
                Vec::new()
            } else {
                vec![WebhookEvent::ConversationUnattended]
            }
        }
        ConversationEvent::ActionChanged { action, .. } => {
            use sb_domain::action::ActionState as S;
            let kind = match action.state {
                // A visitor's confirmation while a person still has to approve is not news.
                S::Pending if action.visitor_confirmed_at.is_some() => return Vec::new(),
                S::Pending if action.operator_approved_at.is_some() => return Vec::new(),
                S::Pending => WebhookEvent::ActionProposed,
                S::Confirmed => WebhookEvent::ActionConfirmed,
                S::Executed | S::Failed | S::Stale => WebhookEvent::ActionExecuted,
                S::Cancelled | S::Denied => WebhookEvent::ActionDenied,
                S::Expired => WebhookEvent::ActionExpired,
            };
            vec![kind]
        }
        ConversationEvent::ConversationUpdated {
            status,
            assigned_to,
            assigned_team,
            before,
            ..
        } => {
            // Without the state before (an event relayed from another node), nothing can be
            // told apart: the node that made the change queues its deliveries.
            let Some(before) = before else { return Vec::new() };
            let mut events = Vec::new();
            let closed = ConversationStatus::Closed;
            if *status == closed && before.status != closed {
                events.push(WebhookEvent::ConversationClosed);
            }
            if before.status == closed && *status != closed {
                events.push(WebhookEvent::ConversationReopened);
            }
            // Handed from the bot to people (perhaps to nobody yet: waiting for anyone
            // available), or to another owner.
            let handed_over =
                *status == ConversationStatus::Pending && before.status == ConversationStatus::Open;
            let owner_changed =
                (assigned_to, assigned_team) != (&before.assigned_to, &before.assigned_team);
            if handed_over || (owner_changed && (assigned_to.is_some() || assigned_team.is_some()))
            {
                events.push(WebhookEvent::ConversationAssigned);
            }
            events
        }
    }
}

/// The conversation as webhooks show it, with the status and owners the event reports (the
/// stored row may have moved on since).
fn conversation(event: &ConversationEvent, stored: &Conversation) -> Value {
    let (status, assigned_to, assigned_team) = match event {
        ConversationEvent::ConversationUpdated { status, assigned_to, assigned_team, .. } => {
            (*status, assigned_to.clone(), assigned_team.clone())
        }
        _ => (stored.status, stored.assigned_to.clone(), stored.assigned_team.clone()),
    };
    json!({
        "id": stored.id,
        "widget_id": stored.widget_id,
        "status": status,
        "assigned_to": assigned_to,
        "assigned_team": assigned_team,
        "visitor": stored.visitor,
        "created_at": stored.created_at,
    })
}

/// `data` for an event of a stored conversation, and when the event happened.
pub(crate) fn data(event: &ConversationEvent, stored: &Conversation) -> (Value, Timestamp) {
    let mut data = json!({ "conversation": conversation(event, stored) });
    let at = match event {
        ConversationEvent::MessageCreated { message, .. } => {
            data["message"] = json!(message);
            message.created_at
        }
        ConversationEvent::NoteCreated { note, .. } => {
            data["note"] = json!(note);
            note.created_at
        }
        ConversationEvent::ConversationCreated { .. } => stored.created_at,
        ConversationEvent::ActionChanged { action, .. } => {
            data["action"] = json!(action);
            action.updated_at
        }
        _ => Timestamp::now(),
    };
    (data, at)
}

/// The body, serialised once: every attempt sends (and signs) exactly these bytes.
pub(crate) fn body(event: WebhookEvent, at: Timestamp, data: Value) -> String {
    json!({ "type": event, "timestamp": at, "data": data }).to_string()
}

#[cfg(test)]
mod tests {
    use sb_domain::{ConversationId, TeamId, TenantId, UserId};

    use super::*;
    use sb_domain::events::Before;

    fn updated(
        status: ConversationStatus,
        to: Option<UserId>,
        before: Option<Before>,
    ) -> ConversationEvent {
        ConversationEvent::ConversationUpdated {
            tenant_id: TenantId::new(),
            conversation_id: ConversationId::new(),
            status,
            assigned_to: to,
            assigned_team: None,
            before,
        }
    }

    fn before(status: ConversationStatus, to: Option<UserId>) -> Option<Before> {
        Some(Before { status, assigned_to: to, assigned_team: None })
    }

    #[test]
    fn state_changes_map_to_their_events() {
        use ConversationStatus::*;
        use WebhookEvent::*;
        let (ann, bob) = (UserId::new(), UserId::new());
        let cases = [
            // An operator takes over an open conversation.
            (updated(Pending, Some(ann.clone()), before(Open, None)), vec![ConversationAssigned]),
            // Reassigned.
            (
                updated(Pending, Some(bob.clone()), before(Pending, Some(ann.clone()))),
                vec![ConversationAssigned],
            ),
            // Closed, keeping its operator.
            (
                updated(Closed, Some(ann.clone()), before(Pending, Some(ann.clone()))),
                vec![ConversationClosed],
            ),
            // Reopened to its operator.
            (
                updated(Pending, Some(ann.clone()), before(Closed, Some(ann.clone()))),
                vec![ConversationReopened],
            ),
            // The visitor wrote again: reopened, back to the bot (no one assigned).
            (updated(Open, None, before(Closed, Some(ann.clone()))), vec![ConversationReopened]),
            // Handed over with nobody available yet: waiting in the queue.
            (updated(Pending, None, before(Open, None)), vec![ConversationAssigned]),
            // Relayed from another node: unknown.
            (updated(Closed, None, None), vec![]),
        ];
        for (event, expected) in cases {
            assert_eq!(webhook_events(&event), expected, "{event:?}");
        }
        let to_team = ConversationEvent::ConversationUpdated {
            tenant_id: TenantId::new(),
            conversation_id: ConversationId::new(),
            status: Pending,
            assigned_to: None,
            assigned_team: Some(TeamId::new()),
            before: before(Open, None),
        };
        assert_eq!(webhook_events(&to_team), [ConversationAssigned]);
    }

    #[test]
    fn bodies_carry_type_timestamp_and_data() {
        let at: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let body = body(WebhookEvent::MessageCreated, at, json!({"x": 1}));
        assert_eq!(
            body,
            r#"{"type":"message.created","timestamp":"2026-03-01T10:00:00Z","data":{"x":1}}"#
        );
    }
}
