//! `/labels` and `PUT /conversations/{id}/labels`: the account's tags for conversations
//! (docs/inbox.md#labels).

use axum::extract::State;
use sb_domain::{ConversationId, Label, LabelId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, Deleted, List};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Labels")
        .get("/labels", "List the account's labels", list)
        .post("/labels", "Create a label (admins)", create)
        .delete("/labels/{id}", "Delete a label; it comes off every conversation (admins)", remove)
        .put("/conversations/{id}/labels", "Set the conversation's labels", set)
}

/// A label to create.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "LabelInput")]
struct CreateBody {
    /// Letters, digits, `-` and `_` (stored lowercase).
    name: String,
    /// `#rrggbb`; a blue by default.
    color: Option<String>,
}

async fn list(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<List<Label>> {
    let items = state.conversations.list_labels(&actor).await?;
    Ok(List(sb_domain::Page { items, next: None }))
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Created<Label>> {
    let label = state.conversations.create_label(&actor, &body.name, body.color.as_deref()).await?;
    Ok(Created(label))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<LabelId>,
) -> ApiResult<Data<Deleted>> {
    state.conversations.delete_label(&actor, &id).await?;
    Ok(Deleted::id(id))
}

/// The conversation's labels: every one named here, and no other.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ConversationLabelsInput")]
struct SetBody {
    labels: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
struct ConversationLabels {
    labels: Vec<String>,
}

async fn set(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    ApiJson(body): ApiJson<SetBody>,
) -> ApiResult<Data<ConversationLabels>> {
    let labels = state.conversations.set_labels(&actor, &id, &body.labels).await?;
    Ok(Data(ConversationLabels { labels }))
}
