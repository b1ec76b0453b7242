//! `/connections/{id}/endpoints` and `/endpoints/{id}`: request templates and their test.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use sb_connectors::Variables;
use sb_domain::{ConnectionId, Endpoint, EndpointId, VariableSpec};
use sb_engine::connections::{EndpointDraft, EndpointTest};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::connections::probe_json;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, List, Paging};
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/connections/{id}/endpoints", get(list).post(create))
        .route("/endpoints/{id}", get(show).patch(update).delete(remove))
        .route("/endpoints/{id}/test", post(test))
}

/// Tells "absent" (keep) from `null` (clear) in a PATCH.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointBody {
    name: Option<String>,
    description: Option<String>,
    method: Option<String>,
    path: Option<String>,
    query: Option<BTreeMap<String, String>>,
    headers: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "present")]
    body: Option<Option<Value>>,
    variables: Option<Vec<VariableSpec>>,
    response_mapping: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "present")]
    timeout_ms: Option<Option<u32>>,
    ai_tool: Option<bool>,
    idempotent: Option<bool>,
    requires_verified_visitor: Option<bool>,
}

impl From<EndpointBody> for EndpointDraft {
    fn from(b: EndpointBody) -> Self {
        Self {
            name: b.name,
            description: b.description,
            method: b.method,
            path: b.path,
            query: b.query,
            headers: b.headers,
            body: b.body,
            variables: b.variables,
            response_mapping: b.response_mapping,
            timeout_ms: b.timeout_ms,
            ai_tool: b.ai_tool,
            idempotent: b.idempotent,
            requires_verified_visitor: b.requires_verified_visitor,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestBody {
    #[serde(default)]
    variables: Variables,
    #[serde(default)]
    confirm: bool,
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(connection): PathId<ConnectionId>,
    ApiJson(body): ApiJson<EndpointBody>,
) -> ApiResult<Created<Endpoint>> {
    Ok(Created(state.engine.create_endpoint(&actor, &connection, body.into()).await?))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(connection): PathId<ConnectionId>,
    Paging(page): Paging,
) -> ApiResult<List<Endpoint>> {
    Ok(List(state.engine.list_endpoints(&actor, &connection, &page).await?))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<EndpointId>,
) -> ApiResult<Data<Endpoint>> {
    Ok(Data(state.engine.get_endpoint(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<EndpointId>,
    ApiJson(body): ApiJson<EndpointBody>,
) -> ApiResult<Data<Endpoint>> {
    Ok(Data(state.engine.update_endpoint(&actor, &id, body.into()).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<EndpointId>,
) -> ApiResult<Data<Value>> {
    state.engine.delete_endpoint(&actor, &id).await?;
    Ok(Data(json!({ "id": id, "deleted": true })))
}

async fn test(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<EndpointId>,
    ApiJson(body): ApiJson<TestBody>,
) -> ApiResult<Data<Value>> {
    let outcome = state
        .engine
        .test_endpoint(
            &actor,
            &id,
            EndpointTest { variables: body.variables, confirm: body.confirm },
        )
        .await?;
    let mut answer = probe_json(&outcome);
    answer["mapped"] = json!(outcome.mapped);
    answer["missing"] = json!(outcome.missing);
    answer["notes"] = json!(outcome.notes);
    answer["body_preview"] = json!(outcome.body_preview);
    answer["attempts"] = json!(outcome.attempts);
    answer["token_refreshed"] = json!(outcome.token_refreshed);
    Ok(Data(answer))
}
