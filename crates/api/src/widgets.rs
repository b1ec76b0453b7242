//! `/widgets`: the chat widgets a tenant embeds. `identity_secret` is write-only.

use axum::extract::State;
use sb_domain::WidgetId;
use sb_engine::conversations::widgets::{WidgetDraft, WidgetView};
use sb_secrets::Secret;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, Deleted, List, Paging, present};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Widgets")
        .get("/widgets", "List the widgets", list)
        .post("/widgets", "Create a widget", create)
        .get("/widgets/{id}", "Show a widget", show)
        .patch("/widgets/{id}", "Change a widget; `null` clears the greeting or secret", update)
        .delete("/widgets/{id}", "Delete a widget", remove)
}

/// A widget to create, or the fields to change.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "WidgetInput")]
struct WidgetBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    greeting: Option<Option<String>>,
    active: Option<bool>,
    ai_enabled: Option<bool>,
    translation_enabled: Option<bool>,
    primary_color: Option<String>,
    position: Option<String>,
    allowed_origins: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    identity_secret: Option<Option<Secret<String>>>,
    /// `{time_zone?, days: {mon: [["09:00", "17:00"]], …}, offline_message?, ask_email_offline?}`;
    /// `null` removes them.
    #[serde(default, deserialize_with = "present")]
    office_hours: Option<Option<sb_domain::OfficeHours>>,
}

impl From<WidgetBody> for WidgetDraft {
    fn from(b: WidgetBody) -> Self {
        Self {
            name: b.name,
            greeting: b.greeting,
            active: b.active,
            ai_enabled: b.ai_enabled,
            translation_enabled: b.translation_enabled,
            primary_color: b.primary_color,
            position: b.position,
            allowed_origins: b.allowed_origins,
            identity_secret: b.identity_secret,
            office_hours: b.office_hours,
        }
    }
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<WidgetBody>,
) -> ApiResult<Created<WidgetView>> {
    Ok(Created(state.conversations.create_widget(&actor, body.into()).await?))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Paging(page): Paging,
) -> ApiResult<List<WidgetView>> {
    Ok(List(state.conversations.list_widgets(&actor, &page).await?))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WidgetId>,
) -> ApiResult<Data<WidgetView>> {
    Ok(Data(state.conversations.get_widget(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WidgetId>,
    ApiJson(body): ApiJson<WidgetBody>,
) -> ApiResult<Data<WidgetView>> {
    Ok(Data(state.conversations.update_widget(&actor, &id, body.into()).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WidgetId>,
) -> ApiResult<Data<Deleted>> {
    state.conversations.delete_widget(&actor, &id).await?;
    Ok(Deleted::id(id))
}
