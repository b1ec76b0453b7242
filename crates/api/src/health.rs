//! `/healthz` for load balancers and `/metrics` for Prometheus.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.health.ping().await {
        Ok(()) => {
            let mut body = json!({ "status": "ok", "store": state.health.backend() });
            // A lost bus degrades realtime to this node's clients; the node still serves.
            if let Some(connected) = state.hub.bus_connected() {
                body["bus"] = json!(if connected { "connected" } else { "disconnected" });
            }
            Json(body).into_response()
        }
        Err(err) => {
            tracing::warn!(error = %err, "health check: store unreachable");
            let body = Json(json!({ "status": "unavailable", "store": state.health.backend() }));
            (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => {
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
        }
        None => (StatusCode::NOT_FOUND, "metrics are disabled\n").into_response(),
    }
}
