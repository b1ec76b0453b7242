//! `/widgets`: the chat widgets a tenant embeds. `identity_secret` is write-only.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use sb_domain::WidgetId;
use sb_engine::widgets::WidgetDraft;
use sb_secrets::Secret;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, List, Paging};
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/widgets", get(list).post(create))
        .route("/widgets/{id}", get(show).patch(update).delete(remove))
}

/// Tells "absent" (keep) from `null` (clear) in a PATCH.
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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
        }
    }
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<WidgetBody>,
) -> ApiResult<Created<Value>> {
    Ok(Created(state.engine.create_widget(&actor, body.into()).await?.to_json()))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Paging(page): Paging,
) -> ApiResult<List<Value>> {
    let page = state.engine.list_widgets(&actor, &page).await?;
    Ok(List(sb_store::Page {
        items: page.items.iter().map(|w| w.to_json()).collect(),
        next: page.next,
    }))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WidgetId>,
) -> ApiResult<Data<Value>> {
    Ok(Data(state.engine.get_widget(&actor, &id).await?.to_json()))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WidgetId>,
    ApiJson(body): ApiJson<WidgetBody>,
) -> ApiResult<Data<Value>> {
    Ok(Data(state.engine.update_widget(&actor, &id, body.into()).await?.to_json()))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WidgetId>,
) -> ApiResult<Data<Value>> {
    state.engine.delete_widget(&actor, &id).await?;
    Ok(Data(json!({ "id": id, "deleted": true })))
}
