//! `/connections/{id}/tools`: the tools of an MCP connection, read from its server, each
//! switched on or off for the AI with its approval (docs/mcp.md).

use axum::extract::State;
use sb_domain::ConnectionId;
use sb_engine::connections::{ToolPatch, ToolView};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Data};
use crate::openapi::ApiRouter;
use crate::path::{NamePath, PathId};
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("MCP tools")
        .get(
            "/connections/{id}/tools",
            "The MCP connection's tools as last read from its server",
            list,
        )
        .post(
            "/connections/{id}/tools/refresh",
            "Read the tool list from the MCP server again (new tools start switched off)",
            refresh,
        )
        .patch(
            "/connections/{id}/tools/{name}",
            "Switch a tool on or off for the AI; set its approval and response mapping",
            update,
        )
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Data<Vec<ToolView>>> {
    Ok(Data(state.connections.list_tools(&actor, &id).await?))
}

async fn refresh(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
) -> ApiResult<Data<Vec<ToolView>>> {
    Ok(Data(state.connections.refresh_tools(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConnectionId>,
    NamePath(name): NamePath,
    ApiJson(patch): ApiJson<ToolPatch>,
) -> ApiResult<Data<ToolView>> {
    Ok(Data(state.connections.update_tool(&actor, &id, &name, patch).await?))
}
