//! `/api-keys`: keys for scripts and integrations. The key is shown once, at creation.

use axum::Router;
use axum::extract::State;
use axum::routing::{delete, get};
use sb_domain::{ApiKey, ApiKeyId, Role};
use sb_engine::accounts;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, List, Paging};
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api-keys", get(list).post(create)).route("/api-keys/{id}", delete(remove))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Created<serde_json::Value>> {
    let (key, plaintext) =
        accounts::create_api_key(state.store.as_ref(), &actor, &body.name).await?;
    let mut shown = serde_json::to_value(&key).map_err(crate::error::ApiError::internal)?;
    shown["key"] = json!(plaintext.expose());
    Ok(Created(shown))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Paging(page): Paging,
) -> ApiResult<List<ApiKey>> {
    actor.require(Role::Admin)?;
    Ok(List(state.store.list_api_keys(&actor.tenant_id, &page).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ApiKeyId>,
) -> ApiResult<Data<serde_json::Value>> {
    actor.require(Role::Admin)?;
    state.store.delete_api_key(&actor.tenant_id, &id).await?;
    Ok(Data(json!({ "id": id, "deleted": true })))
}
