//! `/connections`: a tenant's backends. Credentials are write-only: answers carry
//! `<field>_set: true` instead of the value.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use sb_connectors::CallOutcome;
use sb_domain::ConnectionId;
use sb_engine::connections::{AuthInput, ConnectionDraft};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, List, Paging};
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/connections", get(list).post(create))
        .route("/connections/{id}", get(show).patch(update).delete(remove))
        .route("/connections/{id}/test", post(test))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionBody {
    name: Option<String>,
    base_url: Option<String>,
    auth: Option<AuthInput>,
    headers: Option<BTreeMap<String, String>>,
    timeout_ms: Option<u32>,
}

impl From<ConnectionBody> for ConnectionDraft {
    fn from(body: ConnectionBody) -> Self {
        Self {
            name: body.name,
            base_url: body.base_url,
            auth: body.auth,
            headers: body.headers,
            timeout_ms: body.timeout_ms,
        }
    }
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<ConnectionBody>,
) -> ApiResult<Created<Value>> {
    Ok(Created(state.engine.create_connection(&actor, body.into()).await?.to_json()))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Paging(page): Paging,
) -> ApiResult<List<Value>> {
    let page = state.engine.list_connections(&actor, &page).await?;
    Ok(List(sb_store::Page {
        items: page.items.iter().map(|c| c.to_json()).collect(),
        next: page.next,
    }))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Data<Value>> {
    Ok(Data(state.engine.get_connection(&actor, &id).await?.to_json()))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
    ApiJson(body): ApiJson<ConnectionBody>,
) -> ApiResult<Data<Value>> {
    Ok(Data(state.engine.update_connection(&actor, &id, body.into()).await?.to_json()))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Data<Value>> {
    state.engine.delete_connection(&actor, &id).await?;
    Ok(Data(json!({ "id": id, "deleted": true })))
}

/// `{ok, status?, latency_ms, error?: {code, message}}` plus the request line shown.
pub(crate) fn probe_json(outcome: &CallOutcome) -> Value {
    let mut answer =
        json!({ "ok": outcome.ok, "latency_ms": outcome.latency_ms, "request": outcome.request });
    if let Some(status) = outcome.status {
        answer["status"] = json!(status);
    }
    if let Some(error) = &outcome.error {
        answer["error"] = json!(error);
    }
    answer
}

async fn test(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Data<Value>> {
    Ok(Data(probe_json(&state.engine.test_connection(&actor, &id).await?)))
}
