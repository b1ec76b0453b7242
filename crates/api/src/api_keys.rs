//! `/api-keys`: keys for scripts and integrations. The key is shown once, at creation.

use axum::extract::State;
use sb_domain::{ApiKey, ApiKeyId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, Deleted, List, Paging};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("API keys")
        .get("/api-keys", "List the API keys (admins)", list)
        .post("/api-keys", "Create an API key; the key is shown only in this answer", create)
        .delete("/api-keys/{id}", "Revoke an API key (admins)", remove)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ApiKeyCreate")]
struct CreateBody {
    name: String,
    /// What the key reaches: `api` (this HTTP API, with your role), `mcp:read`, `mcp:write`,
    /// `mcp:assistant` (tools of the MCP server at `/mcp`). Default `["api"]`.
    scopes: Option<Vec<String>>,
}

/// A new API key, with the key itself: store it now, it is never shown again.
#[derive(Serialize, JsonSchema)]
struct NewApiKey {
    #[serde(flatten)]
    api_key: ApiKey,
    key: String,
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Created<NewApiKey>> {
    let (api_key, plaintext) =
        state.accounts.create_api_key(&actor, &body.name, body.scopes.as_deref()).await?;
    Ok(Created(NewApiKey { api_key, key: plaintext.expose().clone() }))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Paging(page): Paging,
) -> ApiResult<List<ApiKey>> {
    Ok(List(state.accounts.list_api_keys(&actor, &page).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ApiKeyId>,
) -> ApiResult<Data<Deleted>> {
    state.accounts.revoke_api_key(&actor, &id).await?;
    Ok(Deleted::id(id))
}
