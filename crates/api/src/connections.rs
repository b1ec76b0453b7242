//! `/connections`: a tenant's backends. Credentials are write-only: answers carry
//! `<field>_set: true` instead of the value.

use std::collections::BTreeMap;

use axum::extract::State;
use sb_connectors::{CallError, CallOutcome, RequestLine};
use sb_domain::ConnectionId;
use sb_engine::connections::{AuthInput, ConnectionDraft, ConnectionStats, ConnectionView};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, Deleted, List, OptionalJson, Paging};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Connections")
        .get("/connections", "List the connections", list)
        .post("/connections", "Connect a backend: base URL, authentication, headers", create)
        .get("/connections/{id}", "Show a connection (credentials only as `*_set` flags)", show)
        .patch("/connections/{id}", "Change a connection; credentials left out are kept", update)
        .delete("/connections/{id}", "Delete a connection and its endpoints", remove)
        .post("/connections/{id}/test", "Check that the backend answers (fetches a token)", test)
        .get(
            "/connections/{id}/stats",
            "Call health of the connection's endpoints: in total and per endpoint",
            stats,
        )
}

/// A connection to create, or the fields to change. Credentials are write-only.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ConnectionInput")]
struct ConnectionBody {
    name: Option<String>,
    base_url: Option<String>,
    auth: Option<AuthInput>,
    headers: Option<BTreeMap<String, String>>,
    timeout_ms: Option<u32>,
    /// `http` (default) or `mcp`: an MCP server over streamable HTTP at `base_url`, whose
    /// tools are listed from it. Set at creation only.
    kind: Option<sb_domain::ConnectionKind>,
    /// MCP only: the header that carries a verified visitor's `user_id` to the server (`""`
    /// for none).
    identity_header: Option<String>,
}

impl From<ConnectionBody> for ConnectionDraft {
    fn from(body: ConnectionBody) -> Self {
        Self {
            name: body.name,
            base_url: body.base_url,
            auth: body.auth,
            headers: body.headers,
            timeout_ms: body.timeout_ms,
            kind: body.kind,
            identity_header: body.identity_header,
        }
    }
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<ConnectionBody>,
) -> ApiResult<Created<ConnectionView>> {
    Ok(Created(state.connections.create_connection(&actor, body.into()).await?))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Paging(page): Paging,
) -> ApiResult<List<ConnectionView>> {
    Ok(List(state.connections.list_connections(&actor, &page).await?))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Data<ConnectionView>> {
    Ok(Data(state.connections.get_connection(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
    ApiJson(body): ApiJson<ConnectionBody>,
) -> ApiResult<Data<ConnectionView>> {
    Ok(Data(state.connections.update_connection(&actor, &id, body.into()).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Data<Deleted>> {
    state.connections.delete_connection(&actor, &id).await?;
    Ok(Deleted::id(id))
}

/// What a connection test is given: sample values for the connection's header templates.
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ConnectionTestBody {
    /// Values for the variables the connection's headers use (see `needs` in the answer).
    #[serde(default)]
    variables: sb_connectors::Variables,
}

/// The result of a connection test.
#[derive(Serialize, JsonSchema)]
struct ConnectionTest {
    ok: bool,
    /// The request made, headers and all, without credentials; null when nothing was sent.
    request: Option<RequestLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<CallError>,
    /// The variables the connection's header templates use: the test needs a sample value for
    /// each (`missing_variable` otherwise), as every real call needs a session value.
    needs: Vec<String>,
    /// What the answer means, when it needs saying: a reachable server that answered outside
    /// 2xx (many APIs answer 404 at their root) is connected, but no endpoint was checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

async fn test(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
    OptionalJson(body): OptionalJson<ConnectionTestBody>,
) -> ApiResult<Data<ConnectionTest>> {
    let (outcome, needs) = state.connections.test_connection(&actor, &id, &body.variables).await?;
    let CallOutcome { ok, request, status, latency_ms, error, notes, .. } = outcome;
    Ok(Data(ConnectionTest { ok, request, status, latency_ms, error, needs, notes }))
}

async fn stats(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Data<ConnectionStats>> {
    Ok(Data(state.connections.connection_stats(&actor, &id).await?))
}
