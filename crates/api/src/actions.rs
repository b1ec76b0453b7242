//! Safe actions: the visitor confirms or cancels an action in the chat, a person of the tenant
//! approves or denies one in the inbox. Only these calls decide an action.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use sb_domain::action::{ActionState, PendingAction};
use sb_domain::{ActionId, VisitorMessage};
use sb_engine::conversations::Decided;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::json::{Data, List, OptionalJson, page_request};
use crate::openapi::ApiRouter;
use crate::path::{ActionPathId, PathId};
use crate::state::AppState;
use crate::visitor::VisitorConversation;

/// The visitor's side, under the visitor API's CORS and origin rules.
pub(crate) const VISITOR_PATHS: [&str; 2] = [
    "/widget/conversations/{id}/actions/{action_id}/confirm",
    "/widget/conversations/{id}/actions/{action_id}/cancel",
];

pub(crate) fn visitor_routes(routes: ApiRouter) -> ApiRouter {
    routes
        .post(
            VISITOR_PATHS[0],
            "Confirm an action the assistant proposed; answers once it has run (waits up to 5 s)",
            confirm,
        )
        .post(VISITOR_PATHS[1], "Cancel an action the assistant proposed", cancel)
}

pub fn router() -> ApiRouter {
    ApiRouter::new("Actions")
        .get("/actions", "List actions, e.g. those waiting for approval (`state=pending`)", list)
        .get("/actions/{id}", "Show an action with its exact request (credentials redacted)", show)
        .post("/actions/{id}/approve", "Approve an action that needs a person's approval", approve)
        .post("/actions/{id}/deny", "Deny an action; nothing is sent", deny)
}

/// An action as a decision left it, and what it led to.
#[derive(Serialize, JsonSchema)]
struct DecidedView {
    action: PendingAction,
    replies: Vec<VisitorMessage>,
    /// Whether the engine finished with what the decision set off within the wait.
    finished: bool,
}

impl From<Decided> for DecidedView {
    fn from(decided: Decided) -> Self {
        Self {
            action: decided.action,
            replies: decided.replies.into_iter().map(VisitorMessage::from).collect(),
            finished: decided.finished,
        }
    }
}

async fn confirm(
    State(state): State<AppState>,
    VisitorConversation(conversation): VisitorConversation,
    ActionPathId(action): ActionPathId<ActionId>,
) -> ApiResult<Data<DecidedView>> {
    visitor_decides(&state, &conversation, &action, true).await
}

async fn cancel(
    State(state): State<AppState>,
    VisitorConversation(conversation): VisitorConversation,
    ActionPathId(action): ActionPathId<ActionId>,
) -> ApiResult<Data<DecidedView>> {
    visitor_decides(&state, &conversation, &action, false).await
}

async fn visitor_decides(
    state: &AppState,
    conversation: &sb_domain::Conversation,
    action: &ActionId,
    confirm: bool,
) -> ApiResult<Data<DecidedView>> {
    let decided = state.conversations.visitor_decides(conversation, action, confirm).await?;
    Ok(Data(decided.into()))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Items per page (1 to 200, default 50).
    #[schemars(with = "Option<u32>")]
    limit: Option<String>,
    /// The `next` value of the previous page.
    cursor: Option<String>,
    /// Only actions in this state: `pending`, `confirmed`, `executed`, `failed`, `cancelled`,
    /// `denied`, `expired` or `stale`.
    state: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<List<PendingAction>> {
    let Query(query) = query
        .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text()))?;
    let page = page_request(query.limit, query.cursor)?;
    let filter = match query.state.as_deref() {
        None | Some("") => None,
        Some(name) => Some(name.parse::<ActionState>().map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "state must be pending, confirmed, executed, failed, cancelled, denied, expired or stale",
            )
            .with_field("state")
        })?),
    };
    Ok(List(state.conversations.list_actions(&actor, filter, &page).await?))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ActionId>,
) -> ApiResult<Data<PendingAction>> {
    Ok(Data(state.conversations.get_action(&actor, &id).await?))
}

/// A note with a decision, kept with the action.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ActionDecisionInput")]
struct NoteBody {
    note: Option<String>,
}

async fn approve(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ActionId>,
    OptionalJson(body): OptionalJson<NoteBody>,
) -> ApiResult<Data<DecidedView>> {
    operator_decides(&state, &actor, &id, true, body).await
}

async fn deny(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ActionId>,
    OptionalJson(body): OptionalJson<NoteBody>,
) -> ApiResult<Data<DecidedView>> {
    operator_decides(&state, &actor, &id, false, body).await
}

async fn operator_decides(
    state: &AppState,
    actor: &sb_engine::Actor,
    id: &ActionId,
    approve: bool,
    body: NoteBody,
) -> ApiResult<Data<DecidedView>> {
    let decided =
        state.conversations.operator_decides(actor, id, approve, body.note.as_deref()).await?;
    Ok(Data(decided.into()))
}
