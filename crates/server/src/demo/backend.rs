//! The demo's stand-in for a tenant's own systems, served by the same process on a loopback port
//! of its own, under `/demo-backend`: an order API behind OAuth 2.0 client credentials, and inventory and customer
//! accounts behind an API key. Switchboard reaches it like any backend — through the SSRF-safe
//! client, via the operator allowlist.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

pub const CLIENT_ID: &str = "demo-switchboard";
pub const CLIENT_SECRET: &str = "demo-client-secret";
pub const API_KEY: &str = "demo-api-key";
const ACCESS_TOKEN: &str = "demo-access-token";

fn unauthorised(why: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"error": "unauthorized", "error_description": why})),
    )
        .into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// OAuth 2.0 token endpoint (client credentials, `client_secret_basic` or `_post`).
async fn token(headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = url_form(&body);
    let basic = header(&headers, "authorization").strip_prefix("Basic ").map(str::to_owned);
    let expected_basic = base64(&format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let posted = form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "unsupported_grant_type"})))
            .into_response();
    }
    if !posted && basic.as_deref() != Some(expected_basic.as_str()) {
        return unauthorised("unknown client");
    }
    axum::Json(json!({"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600}))
        .into_response()
}

async fn order(headers: HeaderMap, Path(id): Path<String>) -> Response {
    if header(&headers, "authorization") != format!("Bearer {ACCESS_TOKEN}") {
        return unauthorised("a valid bearer token is required");
    }
    let (status, eta, carrier, items) = match id.as_str() {
        "4521" => (
            "shipped",
            "2026-12-01",
            "DHL",
            json!([{"sku": "LAMP-2", "name": "Arc floor lamp", "qty": 1}]),
        ),
        "4522" => (
            "processing",
            "2026-12-04",
            "UPS",
            json!([{"sku": "BULB-9", "name": "Warm LED bulb", "qty": 4}]),
        ),
        "4523" => (
            "delivered",
            "2026-11-20",
            "DPD",
            json!([{"sku": "DESK-1", "name": "Desk lamp", "qty": 1}]),
        ),
        _ => {
            return (StatusCode::NOT_FOUND, axum::Json(json!({"error": "no such order"})))
                .into_response();
        }
    };
    let shipping = json!({"eta": eta, "carrier": carrier});
    axum::Json(json!({"data": {"id": id, "status": status, "shipping": shipping, "items": items}}))
        .into_response()
}

/// Cancels an order that has not left the warehouse; the others are refused as a shop would.
async fn cancel(headers: HeaderMap, Path(id): Path<String>) -> Response {
    if header(&headers, "authorization") != format!("Bearer {ACCESS_TOKEN}") {
        return unauthorised("a valid bearer token is required");
    }
    match id.as_str() {
        "4522" => axum::Json(json!({"data": {"id": id, "status": "cancelled"}})).into_response(),
        "4521" | "4523" => {
            (StatusCode::CONFLICT, axum::Json(json!({"error": "the order has left the warehouse"})))
                .into_response()
        }
        _ => (StatusCode::NOT_FOUND, axum::Json(json!({"error": "no such order"}))).into_response(),
    }
}

async fn inventory(headers: HeaderMap, Path(sku): Path<String>) -> Response {
    if header(&headers, "x-api-key") != API_KEY {
        return unauthorised("a valid API key is required");
    }
    let (name, stock) = match sku.to_ascii_uppercase().as_str() {
        "LAMP-2" => ("Arc floor lamp", 12),
        "BULB-9" => ("Warm LED bulb", 0),
        "DESK-1" => ("Desk lamp", 3),
        _ => {
            return (StatusCode::NOT_FOUND, axum::Json(json!({"error": "unknown product"})))
                .into_response();
        }
    };
    let restock_date = if stock == 0 { "2026-12-10" } else { "" };
    let sku = sku.to_ascii_uppercase();
    axum::Json(json!({"sku": sku, "name": name, "in_stock": stock, "restock_date": restock_date}))
        .into_response()
}

async fn account(headers: HeaderMap, Path(email): Path<String>) -> Response {
    if header(&headers, "x-api-key") != API_KEY {
        return unauthorised("a valid API key is required");
    }
    let plan = if email.to_ascii_lowercase().starts_with("vip") { "premium" } else { "basic" };
    axum::Json(json!({"account": {"email": email, "plan": plan, "since": "2024-03-01"}}))
        .into_response()
}

/// Serves the demo backend on a loopback port of its own until the handle is aborted.
pub async fn start() -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router()).await {
            tracing::warn!(error = %err, "the demo backend stopped");
        }
    });
    Ok((address, task))
}

fn router() -> Router {
    Router::new()
        .route("/demo-backend/oauth/token", post(token))
        .route("/demo-backend/api/orders/{id}", get(order))
        .route("/demo-backend/api/orders/{id}/cancel", post(cancel))
        .route("/demo-backend/api/inventory/{sku}", get(inventory))
        .route("/demo-backend/api/accounts/{email}", get(account))
}

fn url_form(body: &str) -> HashMap<String, String> {
    sb_net::Url::parse(&format!("http://form.invalid/?{body}"))
        .map(|url| url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
