//! The visitor API the widget uses: no tenant credentials; a visitor token opens exactly one
//! conversation. Browsers are held to the widget's allowed origins.

use std::time::Duration;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::options;
use sb_domain::{
    Conversation, ConversationId, ConversationStatus, Visitor, VisitorMessage, WidgetId,
    WidgetPosition,
};
use sb_engine::conversations::VisitorStart;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::client_ip::ClientIp;
use crate::conversations::{After, TextBody, after_id};
use crate::error::{ApiError, ApiResult};
use crate::json::{ApiJson, Created, Data, List, OptionalJson};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

/// Longest a caller may wait for replies (`?wait_ms=`).
const MAX_WAIT_MS: u64 = 30_000;

pub fn router() -> ApiRouter {
    let paths = [
        "/widget/{id}/config",
        "/widget/{id}/conversations",
        "/widget/conversations/{id}",
        "/widget/conversations/{id}/messages",
    ];
    let routes = ApiRouter::new("Visitors")
        .get(paths[0], "The widget's public settings", config)
        .post(paths[1], "Start a conversation; answers with its visitor token", start)
        .get(paths[2], "The visitor's conversation", show)
        .get(paths[3], "Read the conversation's messages", messages)
        .post(paths[3], "Send a message, optionally waiting for the replies", send);
    let routes = crate::ratings::visitor_routes(crate::actions::visitor_routes(routes));
    let routes = crate::attachments::visitor_routes(routes);
    paths
        .into_iter()
        .chain(crate::actions::VISITOR_PATHS)
        .chain(crate::ratings::VISITOR_PATHS)
        .chain(crate::attachments::VISITOR_PATHS)
        .fold(routes, |routes, path| routes.undocumented(path, options(preflight)))
        .map_router(|router| router.layer(axum::middleware::from_fn(cors)))
}

/// Lets the widget's page call this API from another origin. Whether that origin may is
/// decided per widget by the handlers (403 `origin_not_allowed`).
async fn cors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut response = next.run(req).await;
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS".parse().unwrap());
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "authorization, content-type".parse().unwrap(),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, "600".parse().unwrap());
        headers.append(header::VARY, "Origin".parse().unwrap());
    }
    response
}

/// Answers CORS preflights; the `cors` layer adds the headers.
async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// The `Origin` a browser sent, if any: the page a widget is used from.
///
/// Switchboard's own pages (the dashboard's "try it as a customer", the demo page) count as no
/// other site: a widget limited to the shop's origins can still be tried from the dashboard.
pub(crate) fn origin(headers: &HeaderMap) -> Option<&str> {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let own = host.is_some_and(|host| {
        origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
    });
    (!own).then_some(origin)
}

async fn config(
    State(state): State<AppState>,
    PathId(id): PathId<WidgetId>,
    headers: HeaderMap,
) -> ApiResult<Data<WidgetConfig>> {
    let widget = state.conversations.visitor_widget(&id, origin(&headers)).await?.widget;
    let office_hours = state.conversations.hours_now(&widget).await?;
    Ok(Data(WidgetConfig {
        office_hours,
        id: widget.id,
        name: widget.name,
        greeting: widget.greeting,
        primary_color: widget.primary_color,
        position: widget.position,
        ai_enabled: widget.ai_enabled,
    }))
}

/// What the widget shows before a conversation starts.
#[derive(Serialize, JsonSchema)]
struct WidgetConfig {
    id: WidgetId,
    name: String,
    greeting: Option<String>,
    primary_color: String,
    position: WidgetPosition,
    ai_enabled: bool,
    /// Whether the team is there now and when it is back (null: the widget has no hours).
    office_hours: Option<sb_engine::conversations::HoursNow>,
}

/// What the tenant's site knows about the visitor. `user_hash` (an HMAC of `user_id`, or of
/// `email` when there is no `user_id`, with the widget's identity secret) marks the identity as
/// verified; `email_hash` (an HMAC of `email`) verifies the e-mail beside a `user_id`. What no
/// signature covers stays unverified. `time_zone` only names an anonymous visitor in the inbox.
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "VisitorInput")]
struct VisitorBody {
    name: Option<String>,
    email: Option<String>,
    language: Option<String>,
    user_id: Option<String>,
    user_hash: Option<String>,
    email_hash: Option<String>,
    /// The browser's IANA time zone, e.g. `Europe/Berlin` (what
    /// `Intl.DateTimeFormat().resolvedOptions().timeZone` gives); at most 64 characters.
    time_zone: Option<String>,
    /// A random id the widget keeps in the browser (16–64 letters, digits, `-`, `_`): the same
    /// browser seen again is the same contact. Stored only as a hash.
    browser_id: Option<String>,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ConversationStart")]
struct StartBody {
    #[serde(default)]
    visitor: Option<VisitorBody>,
}

async fn start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    PathId(id): PathId<WidgetId>,
    headers: HeaderMap,
    // Optional: an anonymous visitor may start with nothing to say about themselves.
    OptionalJson(body): OptionalJson<StartBody>,
) -> ApiResult<Created<Started>> {
    let widget = state.conversations.visitor_widget(&id, origin(&headers)).await?;
    state.visitor_limits.check_start(ip, &id)?;
    let visitor = body.visitor.unwrap_or_default();
    let input = VisitorStart {
        name: visitor.name,
        email: visitor.email,
        language: visitor.language,
        user_id: visitor.user_id,
        user_hash: visitor.user_hash,
        email_hash: visitor.email_hash,
        time_zone: visitor.time_zone,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        browser_id: visitor.browser_id,
    };
    let started = state.conversations.start_conversation(&widget, input).await?;
    Ok(Created(Started {
        conversation_id: started.conversation.id,
        visitor_token: started.visitor_token,
        verified: started.conversation.visitor.verified,
        email_verified: started.conversation.visitor.email_verified,
    }))
}

#[derive(Serialize, JsonSchema)]
struct Started {
    conversation_id: ConversationId,
    /// Opens this conversation only: send it as `Authorization: Bearer sbv_…`.
    visitor_token: String,
    /// Whether the tenant's site signed the visitor's identity.
    verified: bool,
    /// Whether a signature covers the e-mail address itself.
    email_verified: bool,
}

/// The visitor's conversation, from `Authorization: Bearer sbv_…` and the id in the path.
pub(crate) struct VisitorConversation(pub(crate) Conversation);

impl FromRequestParts<AppState> for VisitorConversation {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let PathId(id) = PathId::<ConversationId>::from_request_parts(parts, state).await?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or_else(|| {
                ApiError::unauthenticated("send the visitor token as Authorization: Bearer sbv_…")
            })?;
        let origin = origin(&parts.headers);
        let conversation =
            state.conversations.visitor_conversation(token.trim(), &id, origin).await?;
        Ok(VisitorConversation(conversation))
    }
}

/// The conversation as its visitor may see it.
#[derive(Serialize, JsonSchema)]
struct VisitorView {
    id: ConversationId,
    status: ConversationStatus,
    /// Whether a person has taken it over.
    assigned: bool,
    visitor: Visitor,
}

async fn show(VisitorConversation(conversation): VisitorConversation) -> Data<VisitorView> {
    Data(VisitorView {
        id: conversation.id,
        status: conversation.status,
        assigned: conversation.assigned_to.is_some(),
        visitor: conversation.visitor,
    })
}

async fn messages(
    State(state): State<AppState>,
    VisitorConversation(conversation): VisitorConversation,
    Query(after): Query<After>,
) -> ApiResult<List<VisitorMessage>> {
    let after = after_id(after.after)?;
    let items = state.conversations.messages_after(&conversation, after.as_ref()).await?;
    let items = items.into_iter().map(VisitorMessage::from).collect();
    Ok(List(sb_domain::Page { items, next: None }))
}

#[derive(Deserialize, JsonSchema)]
struct Wait {
    /// Wait up to this many milliseconds (at most 30000) for the engine to finish with the
    /// message, and answer with its replies.
    #[schemars(with = "Option<u32>")]
    wait_ms: Option<String>,
}

fn wait_duration(raw: Option<String>) -> ApiResult<Option<Duration>> {
    raw.map(|raw| {
        raw.parse::<u64>()
            .ok()
            .filter(|ms| *ms <= MAX_WAIT_MS)
            .map(Duration::from_millis)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    format!("wait_ms must be from 0 to {MAX_WAIT_MS}"),
                )
                .with_field("wait_ms")
            })
    })
    .transpose()
}

async fn send(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    VisitorConversation(conversation): VisitorConversation,
    Query(wait): Query<Wait>,
    ApiJson(body): ApiJson<TextBody>,
) -> ApiResult<Sent> {
    let wait = wait_duration(wait.wait_ms)?;
    state.visitor_limits.check_message(ip, &conversation)?;
    let posted = state.conversations.post_visitor_message(&conversation, &body.text, wait).await?;
    if wait.is_none() {
        return Ok(Sent::Queued(posted.message.into()));
    }
    let handled = Handled {
        message: posted.message.into(),
        replies: posted.replies.into_iter().map(VisitorMessage::from).collect(),
        finished: posted.finished,
    };
    Ok(Sent::Waited(handled))
}

/// The visitor's message and the replies to it so far.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Handled {
    pub(crate) message: VisitorMessage,
    pub(crate) replies: Vec<VisitorMessage>,
    /// Whether the engine has finished with the message (rules, API calls, AI).
    pub(crate) finished: bool,
}

/// 202 with the message when nobody waits; with `wait_ms`, 200 once handled, or 202 with the
/// replies so far when the wait runs out.
pub(crate) enum Sent {
    Queued(VisitorMessage),
    Waited(Handled),
}

impl IntoResponse for Sent {
    fn into_response(self) -> Response {
        match self {
            Sent::Queued(message) => (StatusCode::ACCEPTED, Data(message)).into_response(),
            Sent::Waited(handled) if handled.finished => Data(handled).into_response(),
            Sent::Waited(handled) => (StatusCode::ACCEPTED, Data(handled)).into_response(),
        }
    }
}
