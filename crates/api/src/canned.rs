//! `/canned-replies` and `GET /conversations/{id}/canned-replies`: the account's saved answers,
//! and each filled in for a conversation (docs/inbox.md#canned-replies).

use axum::extract::State;
use sb_domain::{CannedReply, CannedReplyId, ConversationId};
use sb_engine::conversations::FilledReply;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, Deleted, List};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Canned replies")
        .get("/canned-replies", "List the account's canned replies", list)
        .post("/canned-replies", "Create a canned reply (admins)", create)
        .patch("/canned-replies/{id}", "Change a canned reply (admins)", update)
        .delete("/canned-replies/{id}", "Delete a canned reply (admins)", remove)
        .get(
            "/conversations/{id}/canned-replies",
            "Every canned reply, filled in for this conversation",
            filled,
        )
}

/// A canned reply to create.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CannedReplyInput")]
struct CreateBody {
    /// Typed after `/` in the reply box: letters, digits, `-`, `_` (stored lowercase, without `/`).
    shortcut: String,
    /// The reply; `{visitor.name}`, `{order_id}`… are filled from the conversation.
    text: String,
}

/// The fields to change.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CannedReplyUpdate")]
struct UpdateBody {
    shortcut: Option<String>,
    text: Option<String>,
}

async fn list(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<List<CannedReply>> {
    let items = state.conversations.list_canned_replies(&actor).await?;
    Ok(List(sb_domain::Page { items, next: None }))
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Created<CannedReply>> {
    let reply = state.conversations.create_canned_reply(&actor, &body.shortcut, &body.text).await?;
    Ok(Created(reply))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<CannedReplyId>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Data<CannedReply>> {
    let (shortcut, text) = (body.shortcut.as_deref(), body.text.as_deref());
    Ok(Data(state.conversations.update_canned_reply(&actor, &id, shortcut, text).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<CannedReplyId>,
) -> ApiResult<Data<Deleted>> {
    state.conversations.delete_canned_reply(&actor, &id).await?;
    Ok(Deleted::id(id))
}

async fn filled(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
) -> ApiResult<List<FilledReply>> {
    let items = state.conversations.filled_canned_replies(&actor, &id).await?;
    Ok(List(sb_domain::Page { items, next: None }))
}
