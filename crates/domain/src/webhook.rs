//! Outbound webhooks: a tenant's URL that is sent conversation events, signed per the Standard
//! Webhooks specification, and the log of every delivery and its attempts.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{DeliveryId, TenantId, Timestamp, ValidationError, WebhookId};

/// What a webhook can be sent. The names are what receivers see in the body's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    ConversationCreated,
    MessageCreated,
    ConversationAssigned,
    /// The bot handed the conversation to people, but nobody available took it: it waits.
    ConversationUnattended,
    ConversationClosed,
    ConversationReopened,
    /// A call waits for the visitor's confirmation or a person's approval.
    ActionProposed,
    /// Everyone needed agreed; the call is being made.
    ActionConfirmed,
    /// The agreed call was made (`state`: `executed`, `failed`, or `stale` when what it would
    /// send had changed).
    ActionExecuted,
    /// Refused: cancelled by the visitor or denied by a person.
    ActionDenied,
    ActionExpired,
    /// An operator's private note: a separate event, so systems that forward messages to
    /// visitors never receive one by subscribing to `message.created`.
    NoteCreated,
    /// Sent by "send test event" only; not something to subscribe to.
    WebhookTest,
}

impl WebhookEvent {
    /// The events a webhook may subscribe to.
    pub const SUBSCRIBABLE: [WebhookEvent; 12] = [
        WebhookEvent::ConversationCreated,
        WebhookEvent::MessageCreated,
        WebhookEvent::ConversationAssigned,
        WebhookEvent::ConversationUnattended,
        WebhookEvent::ConversationClosed,
        WebhookEvent::ConversationReopened,
        WebhookEvent::ActionProposed,
        WebhookEvent::ActionConfirmed,
        WebhookEvent::ActionExecuted,
        WebhookEvent::ActionDenied,
        WebhookEvent::ActionExpired,
        WebhookEvent::NoteCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConversationCreated => "conversation.created",
            Self::MessageCreated => "message.created",
            Self::ConversationAssigned => "conversation.assigned",
            Self::ConversationUnattended => "conversation.unattended",
            Self::ConversationClosed => "conversation.closed",
            Self::ConversationReopened => "conversation.reopened",
            Self::ActionProposed => "action.proposed",
            Self::ActionConfirmed => "action.confirmed",
            Self::ActionExecuted => "action.executed",
            Self::ActionDenied => "action.denied",
            Self::ActionExpired => "action.expired",
            Self::NoteCreated => "note.created",
            Self::WebhookTest => "webhook.test",
        }
    }
}

impl std::fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for WebhookEvent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::SUBSCRIBABLE
            .into_iter()
            .chain([Self::WebhookTest])
            .find(|e| e.as_str() == s)
            .ok_or_else(|| format!("unknown event {s:?}"))
    }
}

impl Serialize for WebhookEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for WebhookEvent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <Cow<'de, str>>::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for WebhookEvent {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "WebhookEvent".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> =
            Self::SUBSCRIBABLE.iter().chain(&[Self::WebhookTest]).map(|e| e.as_str()).collect();
        schemars::json_schema!({
            "type": "string",
            "enum": names,
            "description": "An event type (see docs/webhooks.md); `webhook.test` is only sent by the test button.",
        })
    }
}

/// The subscribed events, checked: at least one, each subscribable, no repeats (sorted).
pub fn validate_webhook_events(events: &[String]) -> Result<Vec<WebhookEvent>, ValidationError> {
    if events.is_empty() {
        return Err(ValidationError::new("events", "required", "subscribe to at least one event"));
    }
    let mut parsed = Vec::with_capacity(events.len());
    for (i, name) in events.iter().enumerate() {
        match name.parse::<WebhookEvent>() {
            Ok(event) if event != WebhookEvent::WebhookTest => parsed.push(event),
            _ => {
                let known: Vec<&str> =
                    WebhookEvent::SUBSCRIBABLE.iter().map(|e| e.as_str()).collect();
                return Err(ValidationError::new(
                    format!("events[{i}]"),
                    "unknown_event",
                    format!("{name:?} is not an event; use one of {}", known.join(", ")),
                ));
            }
        }
    }
    parsed.sort();
    parsed.dedup();
    Ok(parsed)
}

/// A webhook as it may be shown: never its signing secret.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Webhook {
    pub id: WebhookId,
    pub tenant_id: TenantId,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The subscribed event types.
    pub events: Vec<WebhookEvent>,
    pub description: String,
    /// Inactive webhooks are sent nothing new; their pending deliveries wait (until the retry
    /// window closes).
    pub active: bool,
    /// Why the server switched the webhook off (a receiver answering 410 Gone), if it did.
    pub disabled_reason: Option<String>,
    /// While set, deliveries are signed with the previous secret as well (after a rotation).
    pub previous_secret_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Webhook {
    pub fn wants(&self, event: WebhookEvent) -> bool {
        self.active && self.events.contains(&event)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt (or being attempted).
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// Given up: the retry window closed, or the receiver answered 410 Gone.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

impl std::str::FromStr for DeliveryState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(Self::Pending),
            "delivered" => Ok(Self::Delivered),
            "failed" => Ok(Self::Failed),
            _ => Err(format!("unknown delivery state {s:?}")),
        }
    }
}

/// Why an attempt failed, with the outbound client's stable codes (`timeout`, `ssrf_blocked`,
/// `connect_failed`, …) or `http_error` for a non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AttemptError {
    pub code: String,
    pub message: String,
}

/// One try at sending a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DeliveryAttempt {
    /// 1 for the first try.
    pub attempt: u32,
    pub at: Timestamp,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<AttemptError>,
    /// The start of the receiver's answer (at most 1 KiB).
    pub response_excerpt: Option<String>,
}

/// One event on its way to one webhook, with every attempt so far.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Delivery {
    /// Also the `webhook-id` header: the same on every attempt, so receivers can drop repeats.
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    #[serde(rename = "type")]
    pub event: WebhookEvent,
    pub state: DeliveryState,
    pub attempt_count: u32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// When it was delivered or given up.
    pub finished_at: Option<Timestamp>,
    /// The body sent: `{"type", "timestamp", "data"}`.
    pub payload: Value,
    /// Oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}
