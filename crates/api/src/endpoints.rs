//! `/connections/{id}/endpoints` and `/endpoints/{id}`: request templates and their test.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use sb_connectors::{CallOutcome, Variables};
use sb_domain::call_stats::WindowStats;
use sb_domain::{ConnectionId, EndpointId, Timestamp, ValidationError, VariableSpec};
use sb_engine::connections::{
    EndpointDraft, EndpointStats, EndpointTest, EndpointView, MappingPreview,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
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
        .get("/endpoints/{id}/stats", "Call health of the endpoint: 1 h, 24 h and 7 d", stats)
        .post(
            "/endpoints/preview-mapping",
            "Apply a response mapping to a sample answer, as a call would",
            preview_mapping,
        )
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
    /// Seconds to reuse a successful answer to the same request (GET, 1–86400); `null` turns
    /// caching off.
    #[serde(default, deserialize_with = "present")]
    cache_ttl_s: Option<Option<u32>>,
    /// Who must agree before a call is sent: `none`, `visitor`, `operator` or
    /// `visitor_and_operator`. Default: `visitor` for POST, PUT, PATCH and DELETE, else `none`.
    approval: Option<String>,
    /// What the visitor is asked, a template such as `Cancel order {orderId}?`.
    approval_summary: Option<String>,
    /// Statuses besides 2xx that are normal answers (the call found nothing, which is not a
    /// failure). Default: `[404]` for GET and HEAD, `[]` for other methods.
    expected_statuses: Option<Vec<u16>>,
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
            cache_ttl_s: b.cache_ttl_s,
            approval: b.approval,
            approval_summary: b.approval_summary,
            expected_statuses: b.expected_statuses,
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

/// A response mapping and an answer to try it on.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "MappingPreviewInput")]
struct PreviewBody {
    /// Variable name → path into the answer, as in an endpoint.
    response_mapping: BTreeMap<String, String>,
    /// Any JSON, e.g. the `body_json` of the endpoint's last test.
    sample: Value,
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(connection): PathId<ConnectionId>,
    ApiJson(body): ApiJson<EndpointBody>,
) -> ApiResult<Created<EndpointView>> {
    Ok(Created(state.connections.create_endpoint(&actor, &connection, body.into()).await?))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(connection): PathId<ConnectionId>,
    Paging(page): Paging,
) -> ApiResult<List<EndpointView>> {
    Ok(List(state.connections.list_endpoints(&actor, &connection, &page).await?))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<EndpointId>,
) -> ApiResult<Data<EndpointView>> {
    Ok(Data(state.connections.get_endpoint(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<EndpointId>,
    ApiJson(body): ApiJson<EndpointBody>,
) -> ApiResult<Data<EndpointView>> {
    Ok(Data(state.connections.update_endpoint(&actor, &id, body.into()).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<EndpointId>,
) -> ApiResult<Data<Deleted>> {
    state.connections.delete_endpoint(&actor, &id).await?;
    Ok(Deleted::id(id))
}

async fn test(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<EndpointId>,
    ApiJson(body): ApiJson<TestBody>,
) -> ApiResult<Data<CallOutcome>> {
    let outcome = state
        .connections
        .test_endpoint(
            &actor,
            &id,
            EndpointTest { variables: body.variables, confirm: body.confirm },
        )
        .await?;
    Ok(Data(outcome))
}

#[derive(Deserialize, JsonSchema)]
struct StatsQuery {
    /// The window the top-level figures cover: `1h`, `24h` (default) or `7d`. All three are
    /// always in `windows`.
    window: Option<String>,
}

/// The contract's flat figures for one window, with every window and the last call beside them.
#[derive(Serialize, JsonSchema)]
struct StatsAnswer {
    window: &'static str,
    #[serde(flatten)]
    selected: WindowStats,
    /// When the endpoint was last called for a conversation (null if not in the last 8 days).
    last_called_at: Option<Timestamp>,
    #[serde(flatten)]
    stats: EndpointStats,
}

async fn stats(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<EndpointId>,
    Query(query): Query<StatsQuery>,
) -> ApiResult<Data<StatsAnswer>> {
    let stats = state.connections.endpoint_stats(&actor, &id).await?;
    let windows = &stats.stats.windows;
    let (window, selected) = match query.window.as_deref().unwrap_or("24h") {
        "1h" => ("1h", windows.hour.clone()),
        "24h" => ("24h", windows.day.clone()),
        "7d" => ("7d", windows.week.clone()),
        _ => {
            return Err(ValidationError::new(
                "window",
                "invalid_window",
                "window must be 1h, 24h or 7d",
            )
            .into());
        }
    };
    let last_called_at = stats.stats.last_call.as_ref().map(|call| call.at);
    Ok(Data(StatsAnswer { window, selected, last_called_at, stats }))
}

/// The body is capped like every request's (`server.max_body_bytes`, 1 MiB by default — the
/// size of the largest backend answer too).
async fn preview_mapping(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<PreviewBody>,
) -> ApiResult<Data<MappingPreview>> {
    Ok(Data(state.connections.preview_mapping(&actor, &body.response_mapping, &body.sample)?))
}
