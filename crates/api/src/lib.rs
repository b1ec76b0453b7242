//! Switchboard's HTTP API. Each resource has its own `router()`; this module assembles them under
//! `/api/v1` with the cross-cutting layers: body limit, request ids, tracing, metrics, and panic
//! containment.

mod accounts;
mod actions;
mod ai;
mod analytics;
mod api_keys;
mod assets;
mod attachments;
mod auth;
mod canned;
mod channels;
mod client_ip;
mod connections;
mod contacts;
mod conversations;
mod cookies;
mod endpoints;
mod error;
mod health;
mod json;
mod kb;
mod labels;
mod mail_hook;
mod mcp;
mod observability;
mod openapi;
mod openapi_import;
mod passwords;
mod path;
mod rate_limit;
mod ratings;
mod realtime;
mod rules;
mod state;
mod suite_files;
mod teams;
mod tenant;
mod test_cases;
mod tools;
mod typing_gate;
mod users;
mod visitor;
mod webhooks;
mod widgets;

pub use error::{ApiError, ApiResult};
pub use state::{ApiConfig, AppState};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;

use crate::openapi::ApiRouter;

/// The complete application: API, health and metrics.
/// Every route of `/api/v1`, documented.
fn api_routes() -> ApiRouter {
    ApiRouter::new("Accounts")
        .merge(accounts::router())
        .merge(users::router())
        .merge(api_keys::router())
        .merge(teams::router())
        .merge(connections::router())
        .merge(tools::router())
        .merge(endpoints::router())
        .merge(openapi_import::router())
        .merge(widgets::router())
        .merge(rules::router())
        .merge(conversations::router())
        .merge(tenant::router())
        .merge(passwords::router())
        .merge(ai::router())
        .merge(kb::router())
        .merge(webhooks::router())
        .merge(channels::router())
        .merge(actions::router())
        .merge(test_cases::router())
        .merge(suite_files::router())
        .merge(labels::router())
        .merge(canned::router())
        .merge(contacts::router())
        .merge(attachments::router())
        .merge(analytics::router())
        .merge(visitor::router())
        .merge(realtime::router())
}

/// The OpenAPI 3.1 description of the API, as served at `/api/v1/openapi.json`.
pub fn openapi() -> serde_json::Value {
    api_routes().finish(API_PREFIX).1
}

const API_PREFIX: &str = "/api/v1";

pub fn router(state: AppState) -> Router {
    let (api, description) = api_routes().finish(API_PREFIX);
    let description = axum::body::Bytes::from(description.to_string());
    let api = api
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let body = description.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .merge(mcp::router(&state))
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest(API_PREFIX, api)
        .merge(health::router())
        .merge(assets::router())
        .fallback(not_found)
        .layer(axum::middleware::map_response(private_answers))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn(observability::observe))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("a request handler panicked").into_response()
        }))
        .with_state(state)
}

/// Answers carry one account's data: no browser or proxy may keep them, and none may guess
/// another type for them. Static assets set their own caching, which is kept.
async fn private_answers(mut response: Response) -> Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Background upkeep the API needs: forgetting idle rate-limit buckets, deleting expired
/// sessions, expiring webhook deliveries and, once an hour, endpoint call statistics and webhook
/// deliveries past their retention. Runs until dropped.
pub async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    for minute in 0u64.. {
        tick.tick().await;
        // Retention: closed conversations past their account's period, checked hourly (every
        // node may; a conversation another node deleted first is skipped).
        if minute % 60 == 30 {
            match state.conversations.apply_retention().await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "deleted conversations past retention"),
                Err(err) => tracing::warn!(error = %err, "could not apply retention"),
            }
            match state.conversations.sweep_attachment_files().await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed attachment files nothing names"),
                Err(err) => tracing::warn!(error = %err, "could not sweep attachment files"),
            }
        }
        if let Err(err) = state.conversations.fold_counts().await {
            tracing::warn!(error = %err, "could not fold analytics counts");
        }
        state.login_limits.forget_idle();
        state.visitor_limits.forget_idle();
        if let Err(err) = state.conversations.expire_actions().await {
            tracing::warn!(error = %err, "could not expire actions");
        }
        if let Err(err) = state.accounts.delete_expired_sessions().await {
            tracing::warn!(error = %err, "could not delete expired sessions");
        }
        // Buckets are hourly, so pruning more often finds nothing new. Every node prunes; the
        // delete is idempotent and touches only old rows.
        if minute % 60 == 0
            && let Err(err) = state.connections.prune_call_stats().await
        {
            tracing::warn!(error = %err, "could not prune endpoint call statistics");
        }
        // Webhook deliveries still waiting past the retry window (switched-off webhooks) fail
        // every minute; deliveries older than 7 days are pruned hourly.
        if let Err(err) = state.webhooks.webhook_housekeeping(minute % 60 == 0).await {
            tracing::warn!(error = %err, "could not tidy the webhook delivery log");
        }
        // What channels received is kept 90 days (to know a provider's retry, and a customer's
        // own earlier e-mail); older notes go hourly.
        if minute % 60 == 0
            && let Err(err) = state.channels.forget_old_inbound().await
        {
            tracing::warn!(error = %err, "could not prune what channels received");
        }
    }
}

async fn not_found(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {method} {}", uri.path()),
    )
    .into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let message = format!("{method} is not allowed on {}", uri.path());
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", message).into_response()
}
