//! WebSockets: the visitor's feed of their conversation and the operators' feed of their tenant.
//! See docs/realtime.md for the protocol.

use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sb_domain::events::ConversationEvent;
use sb_domain::{ConversationId, TenantId, VisitorMessage};
use sb_engine::Actor;
use sb_realtime::{ConnectionPermit, Event, Subscription};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{Auth, check_same_origin};
use crate::client_ip::ClientIp;
use crate::conversations::after_id;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;
use crate::typing_gate::{FloodGate, TypingCoalescer};

pub fn router() -> ApiRouter {
    ApiRouter::new("Realtime")
        .get("/ws", "The operators' live feed (WebSocket, see docs/realtime.md)", operator)
        .get("/widget/conversations/{id}/ws", "A visitor's live conversation (WebSocket)", visitor)
}

/// A WebSocket handshake's answer.
pub(crate) struct Upgraded(Response);

impl IntoResponse for Upgraded {
    fn into_response(self) -> Response {
        self.0
    }
}

fn over_capacity() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_connections",
        "too many open realtime connections; close some and retry",
    )
}

/// Who is on the other end, which decides what they may see and send.
#[derive(Clone)]
enum Audience {
    Visitor { tenant: TenantId, conversation: ConversationId },
    Operators(Actor),
}

/// What a visitor is shown of an event: their conversation's messages, its status, and the
/// operator typing — no internal ids.
fn for_visitor(event: &Event) -> Option<Value> {
    match event {
        Event::Typing(t) if t.author == "operator" => {
            Some(json!({"type": "typing", "typing": t.typing}))
        }
        Event::Typing(_) => None,
        Event::Conversation(ConversationEvent::MessageCreated { message, .. }) => {
            Some(json!({"type": "message", "message": VisitorMessage::from(message.clone())}))
        }
        Event::Conversation(ConversationEvent::MessageUpdated { message, .. }) => Some(
            json!({"type": "message_updated", "message": VisitorMessage::from(message.clone())}),
        ),
        Event::Conversation(ConversationEvent::ConversationUpdated {
            status, assigned_to, ..
        }) => Some(
            json!({"type": "conversation_updated", "status": status, "assigned": assigned_to.is_some()}),
        ),
        // Notes are for the account's people: never a visitor's.
        Event::Conversation(
            ConversationEvent::ConversationCreated { .. }
            | ConversationEvent::HandedOver { .. }
            | ConversationEvent::NoteCreated { .. }
            | ConversationEvent::LabelsChanged { .. },
        ) => None,
        // The card's new state, for the Confirm and Cancel buttons; never the request itself.
        Event::Conversation(ConversationEvent::ActionChanged { action, .. }) => Some(
            json!({"type": "action_updated", "action": sb_domain::action::ActionCard::from(action.as_ref())}),
        ),
    }
}

fn for_operators(event: &Event) -> Option<Value> {
    match event {
        Event::Typing(t) if t.author == "operator" => None,
        other => serde_json::to_value(other).ok(),
    }
}

#[derive(Deserialize, JsonSchema)]
struct VisitorParams {
    /// The visitor token (browsers cannot set headers on WebSockets).
    token: String,
    /// Replay only the messages after this message id.
    after: Option<String>,
}

/// `GET /widget/conversations/{id}/ws?token=sbv_…&after=msg_…`: browsers cannot set headers on
/// WebSockets, so the visitor token comes as a query parameter.
async fn visitor(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    PathId(id): PathId<ConversationId>,
    Query(params): Query<VisitorParams>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Upgraded> {
    let origin = crate::visitor::origin(&headers);
    let conversation = state.conversations.visitor_conversation(&params.token, &id, origin).await?;
    let after = after_id(params.after)?;
    let permit =
        state.connection_caps.admit(ip, &conversation.tenant_id).ok_or_else(over_capacity)?;
    // Subscribe before reading the backlog, so nothing stored in between is missed.
    let subscription = state.hub.subscribe_conversation(conversation.id.clone());
    let backlog = state.conversations.messages_after(&conversation, after.as_ref()).await?;
    Ok(Upgraded(sized(upgrade).on_upgrade(move |socket| {
        let backlog = backlog
            .into_iter()
            .map(|m| json!({"type": "message", "message": VisitorMessage::from(m)}))
            .collect();
        let audience =
            Audience::Visitor { tenant: conversation.tenant_id, conversation: conversation.id };
        serve(socket, state, audience, subscription, backlog, permit)
    })))
}

/// `GET /ws`: the operators' feed, authenticated like the API. A browser must come from our
/// own origin (cookies would otherwise let another site listen in).
async fn operator(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Auth(actor): Auth,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Upgraded> {
    check_same_origin(&headers, &state)?;
    let permit = state.connection_caps.admit(ip, &actor.tenant_id).ok_or_else(over_capacity)?;
    let subscription = state.hub.subscribe_tenant(actor.tenant_id.clone());
    let hello = vec![json!({"type": "ready"})];
    Ok(Upgraded(sized(upgrade).on_upgrade(move |socket| {
        serve(socket, state, Audience::Operators(actor), subscription, hello, permit)
    })))
}

/// A typing signal from the client, relayed to the other side.
/// Clients only send small control frames (typing indicators); the library's defaults — a
/// 128 KiB read buffer per connection, messages up to 64 MiB — would make each idle
/// connection cost over 130 KiB and let one client make the server buffer a huge frame.
const READ_BUFFER_BYTES: usize = 4 * 1024;
const MAX_INCOMING_BYTES: usize = 16 * 1024;

fn sized(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(MAX_INCOMING_BYTES)
        .max_frame_size(MAX_INCOMING_BYTES)
}

/// The typing signal a client frame carries, for a conversation this client may type into.
async fn typing_signal(
    state: &AppState,
    audience: &Audience,
    text: &str,
) -> Option<(ConversationId, bool)> {
    let message = serde_json::from_str::<Value>(text).ok()?;
    if message["type"] != "typing" {
        return None;
    }
    let typing = message["typing"].as_bool().unwrap_or(false);
    match audience {
        Audience::Visitor { conversation, .. } => Some((conversation.clone(), typing)),
        Audience::Operators(actor) => {
            let id = message["conversation_id"].as_str()?.parse::<ConversationId>().ok()?;
            // Only into the operator's own tenant's conversations.
            state.conversations.get_conversation(actor, &id).await.ok()?;
            Some((id, typing))
        }
    }
}

fn relay_typing(
    state: &AppState,
    audience: &Audience,
    conversation: &ConversationId,
    typing: bool,
) {
    match audience {
        Audience::Visitor { tenant, .. } => {
            state.hub.typing(tenant, conversation, "visitor", typing)
        }
        Audience::Operators(actor) => {
            state.hub.typing(&actor.tenant_id, conversation, "operator", typing)
        }
    }
}

/// Waits until the coalescer holds a change that is due, or forever.
async fn typing_due(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

async fn serve(
    mut socket: WebSocket,
    state: AppState,
    audience: Audience,
    mut subscription: Subscription,
    first: Vec<Value>,
    _permit: ConnectionPermit,
) {
    metrics::gauge!("realtime_connections").increment(1.0);
    for value in first {
        if socket.send(Frame::Text(value.to_string().into())).await.is_err() {
            metrics::gauge!("realtime_connections").decrement(1.0);
            return;
        }
    }
    let heartbeat = state.config.realtime_heartbeat;
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut last_heard = Instant::now();
    let mut flood = FloodGate::new(last_heard);
    let mut typing = TypingCoalescer::default();
    loop {
        tokio::select! {
            event = subscription.receiver().recv() => {
                let value = match event {
                    Ok(event) => match &audience {
                        Audience::Visitor { .. } => for_visitor(&event),
                        Audience::Operators(_) => for_operators(&event),
                    },
                    // Fell behind: the client fetches what it missed (docs/realtime.md).
                    Err(RecvError::Lagged(_)) => Some(json!({"type": "resync"})),
                    Err(RecvError::Closed) => break,
                };
                if let Some(value) = value
                    && socket.send(Frame::Text(value.to_string().into())).await.is_err() {
                        break;
                    }
            }
            incoming = socket.recv() => {
                match incoming {
                    Some(Ok(Frame::Text(text))) => {
                        last_heard = Instant::now();
                        if !flood.admit(last_heard) {
                            metrics::counter!("realtime_flood_closed_total").increment(1);
                            let close = CloseFrame { code: close_code::POLICY, reason: "too many frames".into() };
                            let _ = socket.send(Frame::Close(Some(close))).await;
                            break;
                        }
                        if let Some((conversation, signal)) = typing_signal(&state, &audience, &text).await
                            && let Some(signal) = typing.offer(&conversation, signal, last_heard) {
                                relay_typing(&state, &audience, &conversation, signal);
                            }
                    }
                    Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => last_heard = Instant::now(),
                }
            }
            () = typing_due(typing.next_due()) => {
                for (conversation, signal) in typing.due(Instant::now()) {
                    relay_typing(&state, &audience, &conversation, signal);
                }
            }
            _ = ticker.tick() => {
                // A peer silent for three heartbeats is gone (half-open TCP): free its place.
                if last_heard.elapsed() > heartbeat * 3 {
                    break;
                }
                if socket.send(Frame::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
        }
    }
    metrics::gauge!("realtime_connections").decrement(1.0);
}
