//! `POST /connections/{id}/import-openapi`: endpoints from an OpenAPI 3.0/3.1 or Swagger 2.0
//! document. Real documents are large (GitHub's is 13 MB), so this route has its own body limit.

use axum::extract::{DefaultBodyLimit, State};
use sb_domain::ConnectionId;
use sb_engine::connections::{IMPORT_MAX_BYTES, ImportResult, OpenApiImport};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Data};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Endpoints")
        .post(
            "/connections/{id}/import-openapi",
            "Create endpoints from an OpenAPI 3.0/3.1 or Swagger 2.0 document (body up to 32 MiB)",
            import,
        )
        .map_router(|router| router.layer(DefaultBodyLimit::max(IMPORT_MAX_BYTES)))
}

/// The document, or where to fetch it.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "OpenApiImportInput")]
struct ImportBody {
    /// The document: a JSON object, or its text (JSON or YAML).
    spec: Option<Value>,
    /// Where to fetch the document instead (SSRF rules apply; at most 32 MiB).
    url: Option<String>,
    /// Answer what would be created, and create nothing.
    #[serde(default)]
    dry_run: bool,
    /// Make every imported endpoint available to the AI as a tool (default false).
    #[serde(default)]
    ai_tool: bool,
}

async fn import(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(connection): PathId<ConnectionId>,
    ApiJson(body): ApiJson<ImportBody>,
) -> ApiResult<Data<ImportResult>> {
    let import = OpenApiImport {
        spec: body.spec,
        url: body.url,
        dry_run: body.dry_run,
        ai_tool: body.ai_tool,
    };
    Ok(Data(state.connections.import_openapi(&actor, &connection, import).await?))
}
