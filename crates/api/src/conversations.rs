//! `/conversations`: the operator side — list, read, reply, assign, close, and the trace.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use sb_domain::{
    Conversation, ConversationId, ConversationStatus, LastMessage, ListedConversation, MessageId,
    StaffMessage, TeamId, TraceEvent, UserId, WidgetId,
};
use sb_engine::conversations::AssignTarget;
use sb_engine::conversations::ConversationFilter;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::json::{ApiJson, Created, Data, List, NoContent, page_request};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Conversations")
        .get("/conversations", "List conversations, newest activity first", list)
        .get("/conversations/{id}", "Show a conversation, its variables and AI usage", show)
        .get("/conversations/{id}/messages", "Read the messages", messages)
        .post("/conversations/{id}/read", "Mark the conversation read for you", read)
        .post("/conversations/{id}/messages", "Reply as an operator", reply)
        .post("/conversations/{id}/assign", "Hand to a person, a team, or whoever is free", assign)
        .post("/conversations/{id}/close", "Close the conversation", close)
        .post("/conversations/{id}/reopen", "Reopen the conversation", reopen)
        .get("/conversations/{id}/trace", "What the engine did, step by step", trace)
}

/// A conversation as the API shows it (with `visitor_language` at the top, as the inbox needs).
#[derive(Serialize, JsonSchema)]
pub(crate) struct ConversationView {
    #[serde(flatten)]
    conversation: Conversation,
    visitor_language: Option<String>,
}

impl From<Conversation> for ConversationView {
    fn from(conversation: Conversation) -> Self {
        Self { visitor_language: conversation.visitor.language.clone(), conversation }
    }
}

/// A conversation as the inbox lists it for the person asking.
#[derive(Serialize, JsonSchema)]
struct ConversationListItem {
    #[serde(flatten)]
    view: ConversationView,
    /// The newest message (its first line), or null before the first one.
    last_message: Option<LastMessage>,
    /// Whether a visitor wrote something after you last read the conversation
    /// (`POST /conversations/{id}/read`). Always false for an API key that belongs to nobody.
    unread: bool,
}

impl From<ListedConversation> for ConversationListItem {
    fn from(listed: ListedConversation) -> Self {
        Self {
            view: listed.conversation.into(),
            last_message: listed.last_message,
            unread: listed.unread,
        }
    }
}

/// A conversation with the AI it has used so far and what the visitor thought of it.
#[derive(Serialize, JsonSchema)]
struct ConversationDetail {
    #[serde(flatten)]
    view: ConversationView,
    ai_usage: UsageTotals,
    /// The visitor's rating, once the conversation was closed and they gave one.
    rating: Option<sb_domain::Rating>,
    /// The visitor's helpful / not helpful marks on the bot's replies.
    feedback: Vec<sb_domain::Feedback>,
}

#[derive(Serialize, JsonSchema)]
struct UsageTotals {
    /// Model calls.
    calls: i64,
    input_tokens: i64,
    output_tokens: i64,
}

#[derive(Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListFilter {
    /// Items per page (1 to 200, default 50).
    #[schemars(with = "Option<u32>")]
    pub(crate) limit: Option<String>,
    /// The `next` value of the previous page.
    pub(crate) cursor: Option<String>,
    /// `open`, `pending` or `closed`.
    pub(crate) status: Option<String>,
    pub(crate) widget_id: Option<String>,
    /// `me`, `unassigned`, or a user id.
    pub(crate) assigned_to: Option<String>,
    /// The same as `assigned_to` (its earlier name).
    pub(crate) assigned: Option<String>,
    /// Only conversations carrying this label.
    pub(crate) label: Option<String>,
    /// Search: conversations holding every word (in messages, notes, file names, the
    /// visitor's name and e-mail, variables' values, labels, the contact's name and e-mail),
    /// in any language's word forms. At most 200 characters; up to 6 words count.
    pub(crate) q: Option<String>,
    /// Only conversations started on or after this day (`YYYY-MM-DD`, the account's time
    /// zone) or instant (RFC 3339).
    pub(crate) from: Option<String>,
    /// Only conversations started on or before this day (`YYYY-MM-DD`, the whole day) or
    /// before this instant (RFC 3339).
    pub(crate) to: Option<String>,
}

/// A day in `zone` (its start; with `end`, the next day's start) or an RFC 3339 instant.
fn time_bound(
    field: &str,
    raw: Option<String>,
    zone: &jiff::tz::TimeZone,
    end: bool,
) -> ApiResult<Option<sb_domain::Timestamp>> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return Ok(None) };
    if let Ok(instant) = raw.parse::<sb_domain::Timestamp>() {
        return Ok(Some(instant));
    }
    let day = raw
        .parse::<jiff::civil::Date>()
        .map_err(|_| invalid_query(field, "use a day (YYYY-MM-DD) or an instant (RFC 3339)"))?;
    let day =
        if end { day.tomorrow().map_err(|_| invalid_query(field, "out of range"))? } else { day };
    let start = day.to_zoned(zone.clone()).map_err(|_| invalid_query(field, "out of range"))?;
    Ok(Some(start.timestamp()))
}

fn invalid_query(field: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message.to_owned())
        .with_field(field)
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<ListFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<List<ConversationListItem>> {
    let Query(filter) = query
        .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text()))?;
    let page = find_conversations(&state, &actor, filter).await?;
    Ok(List(sb_domain::Page {
        items: page.items.into_iter().map(ConversationListItem::from).collect(),
        next: page.next,
    }))
}

/// The conversations `filter` picks, one page of them (the list's and the MCP tool's search).
pub(crate) async fn find_conversations(
    state: &AppState,
    actor: &sb_engine::Actor,
    filter: ListFilter,
) -> ApiResult<sb_domain::Page<ListedConversation>> {
    let page = page_request(filter.limit, filter.cursor)?;
    let status = filter
        .status
        .map(|s| {
            s.parse::<ConversationStatus>()
                .map_err(|_| invalid_query("status", "must be open, pending or closed"))
        })
        .transpose()?;
    let widget_id = filter
        .widget_id
        .map(|w| w.parse::<WidgetId>().map_err(|_| invalid_query("widget_id", "not a widget id")))
        .transpose()?;
    let assigned_to = match filter.assigned_to.as_deref().or(filter.assigned.as_deref()) {
        None => None,
        Some("unassigned") => Some(None),
        Some("me") => Some(Some(
            actor
                .user_id
                .clone()
                .ok_or_else(|| invalid_query("assigned_to", "an API key has no \"me\""))?,
        )),
        Some(other) => Some(Some(
            other
                .parse::<UserId>()
                .map_err(|_| invalid_query("assigned_to", "use me, unassigned or a user id"))?,
        )),
    };
    let label = filter
        .label
        .filter(|l| !l.is_empty())
        .map(|l| sb_domain::label_name(&l, "label").map_err(ApiError::from))
        .transpose()?;
    let q = filter.q.unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(invalid_query("q", "search for at most 200 characters"));
    }
    let words = sb_engine::conversations::search_words(&q);
    let (from, to) = match (&filter.from, &filter.to) {
        (None, None) => (None, None),
        _ => {
            let zone = jiff::tz::TimeZone::get(&state.accounts.tenant(actor).await?.time_zone)
                .unwrap_or(jiff::tz::TimeZone::UTC);
            let from = time_bound("from", filter.from, &zone, false)?;
            (from, time_bound("to", filter.to, &zone, true)?)
        }
    };
    // Something typed that holds no word to look for (`?!`) finds nothing, not everything.
    if words.is_empty() && !q.trim().is_empty() {
        return Ok(sb_domain::Page { items: Vec::new(), next: None });
    }
    let filter = ConversationFilter { status, widget_id, assigned_to, label, words, from, to };
    Ok(state.conversations.list_conversations(actor, &filter, &page).await?)
}

async fn read(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
) -> ApiResult<NoContent> {
    state.conversations.mark_read(&actor, &id).await?;
    Ok(NoContent)
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
) -> ApiResult<Data<ConversationDetail>> {
    let conversation = state.conversations.get_conversation(&actor, &id).await?;
    let usage = state.ai.usage(&actor, Some(&id), jiff::Timestamp::UNIX_EPOCH).await?;
    let ai_usage = UsageTotals {
        calls: usage.calls,
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
    };
    let (rating, feedback) = state.conversations.opinions(&actor, &id).await?;
    Ok(Data(ConversationDetail { view: conversation.into(), ai_usage, rating, feedback }))
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct After {
    /// Only messages after this message id.
    pub(crate) after: Option<String>,
}

/// Parses `?after=msg_…`; an id that is not a message id cannot be in the conversation.
pub(crate) fn after_id(after: Option<String>) -> ApiResult<Option<MessageId>> {
    after
        .filter(|a| !a.is_empty())
        .map(|a| a.parse().map_err(|_| invalid_query("after", "not a message id")))
        .transpose()
}

async fn messages(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    Query(after): Query<After>,
) -> ApiResult<List<StaffMessage>> {
    let conversation = state.conversations.get_conversation(&actor, &id).await?;
    let after = after_id(after.after)?;
    let items = state.conversations.staff_messages_after(&conversation, after.as_ref()).await?;
    Ok(List(sb_domain::Page { items, next: None }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "MessageInput")]
pub(crate) struct TextBody {
    pub(crate) text: String,
}

/// An operator's reply, or (`private`) a note for the account's people only.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "OperatorMessageInput")]
struct ReplyBody {
    text: String,
    /// A private note: never sent to the visitor; the conversation's status and owner stay.
    #[serde(default)]
    private: bool,
}

async fn reply(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    ApiJson(body): ApiJson<ReplyBody>,
) -> ApiResult<Created<StaffMessage>> {
    let conversations = &state.conversations;
    Ok(Created(if body.private {
        StaffMessage::Note(conversations.add_note(&actor, &id, &body.text).await?)
    } else {
        StaffMessage::Message(conversations.operator_reply(&actor, &id, &body.text).await?)
    }))
}

/// Whom to hand the conversation to: a person, a team, or (neither) whoever is free.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "AssignInput")]
struct AssignBody {
    user_id: Option<UserId>,
    team_id: Option<TeamId>,
}

async fn assign(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    ApiJson(body): ApiJson<AssignBody>,
) -> ApiResult<Data<ConversationView>> {
    let target = assign_target(body.user_id, body.team_id)?;
    Ok(Data(state.conversations.assign(&actor, &id, target).await?.into()))
}

/// A person, a team, or (neither) whoever is free; not both.
pub(crate) fn assign_target(user: Option<UserId>, team: Option<TeamId>) -> ApiResult<AssignTarget> {
    Ok(match (user, team) {
        (Some(_), Some(_)) => {
            return Err(invalid_query("team_id", "assign to a user or to a team, not both"));
        }
        (Some(user), None) => AssignTarget::User(user),
        (None, Some(team)) => AssignTarget::Team(team),
        (None, None) => AssignTarget::AnyAvailable,
    })
}

async fn close(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
) -> ApiResult<Data<ConversationView>> {
    Ok(Data(state.conversations.close(&actor, &id).await?.into()))
}

async fn reopen(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
) -> ApiResult<Data<ConversationView>> {
    Ok(Data(state.conversations.reopen(&actor, &id).await?.into()))
}

async fn trace(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
) -> ApiResult<List<TraceEvent>> {
    Ok(List(sb_domain::Page {
        items: state.conversations.conversation_trace(&actor, &id).await?,
        next: None,
    }))
}
