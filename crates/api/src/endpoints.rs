//! `/connections/{id}/endpoints` and `/endpoints/{id}`: request templates and their test.

use std::collections::BTreeMap;

use axum::extract::State;
use sb_connectors::{CallOutcome, Variables};
use sb_domain::{ConnectionId, Endpoint, EndpointId, VariableSpec};
use sb_engine::connections::{EndpointDraft, EndpointTest};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, Deleted, List, Paging, present};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Endpoints")
        .get("/connections/{id}/endpoints", "List a connection's endpoints", list)
        .post("/connections/{id}/endpoints", "Add an endpoint (a request template)", create)
        .get("/endpoints/{id}", "Show an endpoint", show)
        .patch(
            "/endpoints/{id}",
            "Change an endpoint; `null` clears `body` or `timeout_ms`",
            update,
        )
        .delete("/endpoints/{id}", "Delete an endpoint", remove)
        .post("/endpoints/{id}/test", "Call the endpoint with sample variables", test)
}

/// An endpoint to create, or the fields to change.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "EndpointInput")]
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

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "EndpointTestInput")]
struct TestBody {
    /// Values for the endpoint's variables.
    #[serde(default)]
    variables: Variables,
    /// Required to call an endpoint that is not idempotent (POST, PUT, …).
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
) -> ApiResult<Data<Deleted>> {
    state.engine.delete_endpoint(&actor, &id).await?;
    Ok(Deleted::id(id))
}

async fn test(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<EndpointId>,
    ApiJson(body): ApiJson<TestBody>,
) -> ApiResult<Data<CallOutcome>> {
    let outcome = state
        .engine
        .test_endpoint(
            &actor,
            &id,
            EndpointTest { variables: body.variables, confirm: body.confirm },
        )
        .await?;
    Ok(Data(outcome))
}
