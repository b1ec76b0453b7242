//! `POST /api/v1/mcp`: Switchboard as an MCP server (streamable HTTP), for agents acting for
//! the account. The official SDK (`rmcp`) speaks the protocol; this module authenticates the
//! API key before the SDK sees a request, offers the tools the key's scopes allow and runs each
//! as the key's actor, so every tool is scoped to the key's account like the HTTP API.
//!
//! The server keeps no session: every request stands on its own (any node answers it) and
//! answers with JSON, never a stream, since no tool sends anything before its result.

mod assistant;
mod catalog;
mod desk;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use std::net::IpAddr;

use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use sb_engine::accounts::AuthenticatedKey;
use serde_json::{Value, json};

use crate::auth::{api_key_from, invalid_api_key};
use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::state::AppState;

/// Where the server answers, below the API's prefix.
pub const PATH: &str = "/mcp";

/// The MCP endpoint, behind its API-key check.
pub fn router(state: &AppState) -> Router<AppState> {
    let handler_state = state.clone();
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_max_request_body_bytes(state.config.max_body_bytes)
        // The Host check guards servers on a developer's machine against DNS rebinding: a
        // page there can reach them with no credentials. Here every request needs an API key
        // in a header, which such a page does not have.
        .disable_allowed_hosts();
    let service = StreamableHttpService::new(
        move || Ok(McpServer { state: handler_state.clone() }),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service(PATH, service)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), authenticate))
}

/// Who calls a tool: the request's API key, and the address it came from (for the same
/// limits a visitor has when asking the assistant).
pub(super) struct Caller {
    holder: AuthenticatedKey,
    pub ip: IpAddr,
}

impl std::ops::Deref for Caller {
    type Target = AuthenticatedKey;
    fn deref(&self) -> &AuthenticatedKey {
        &self.holder
    }
}

/// Lets through only requests with an API key that has at least one MCP scope; the request
/// then carries its caller (read by each tool call).
async fn authenticate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    mut request: Request,
    next: Next,
) -> Response {
    let holder = match caller_of(&state, request.headers()).await {
        Ok(holder) => holder,
        Err(err) => return err.into_response(),
    };
    request.extensions_mut().insert(Arc::new(Caller { holder, ip }));
    next.run(request).await
}

async fn caller_of(state: &AppState, headers: &HeaderMap) -> Result<AuthenticatedKey, ApiError> {
    let Some(key) = api_key_from(headers)? else {
        return Err(ApiError::unauthenticated("send an API key: Authorization: Bearer sbk_…"));
    };
    state.accounts.mcp_key(key).await?.ok_or_else(invalid_api_key)
}

/// One request's handler (the SDK makes one per request).
#[derive(Clone)]
struct McpServer {
    state: AppState,
}

/// The key the authentication layer let through, from the request the SDK hands on.
fn caller(context: &RequestContext<RoleServer>) -> Result<Arc<Caller>, ErrorData> {
    context
        .extensions
        .get::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Arc<Caller>>())
        .cloned()
        .ok_or_else(|| ErrorData::internal_error("the request carries no API key", None))
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("switchboard", env!("CARGO_PKG_VERSION"))
                    .with_title("Switchboard"),
            )
            .with_instructions(
                "The support desk of one business: search its knowledge base, ask its \
                 assistant, read its conversations with customers, reply to them and assign \
                 them. Which tools are offered depends on the API key's scopes.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = caller(&context)?;
        Ok(ListToolsResult::with_all_items(catalog::offered(&caller.key)))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = caller(&context)?;
        let Some(spec) = catalog::find(&request.name) else {
            let message = format!("no tool is called {:?}", request.name);
            return Err(ErrorData::invalid_params(message, None));
        };
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let answer = match caller.require_one_of(spec.scopes) {
            Ok(()) => (spec.run)(&self.state, &caller, arguments).await,
            Err(err) => Err(err.into()),
        };
        Ok(match answer {
            Ok(value) => CallToolResult::structured(value),
            Err(err) => CallToolResult::structured_error(tool_error(&err)),
        }
        .into())
    }
}

/// A failed call's result, in the HTTP API's error format (with `retry_after`, in seconds,
/// when trying again later helps).
fn tool_error(err: &ApiError) -> Value {
    let mut error = json!({"code": err.code, "message": err.message, "field": err.field});
    if let Some(seconds) = err.retry_after {
        error["retry_after"] = json!(seconds);
    }
    json!({ "error": error })
}
