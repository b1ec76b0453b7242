//! The baseline of the lookup-and-reply scenario: a bare axum service doing the same backend
//! call a rule does — capture the order number, GET the order, answer with a sentence — and
//! nothing else (no accounts, no persistence, no trace, no SSRF checks).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use regex::Regex;
use serde_json::{Value, json};

pub struct Proxy {
    client: reqwest::Client,
    backend: SocketAddr,
    order_number: Regex,
}

impl Proxy {
    pub fn new(backend: SocketAddr) -> anyhow::Result<Self> {
        Ok(Self { client: reqwest::Client::new(), backend, order_number: Regex::new(r"(\d{4})")? })
    }
}

/// The rule's work: capture the order number, GET the order, answer with a sentence.
pub async fn lookup(proxy: &Proxy, text: &str) -> Result<String, StatusCode> {
    let id = proxy
        .order_number
        .captures(text)
        .and_then(|c| c.get(1))
        .ok_or(StatusCode::UNPROCESSABLE_ENTITY)?
        .as_str();
    let url = format!("http://{}/api/orders/{id}", proxy.backend);
    let response = proxy.client.get(url).send().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
    let order: Value = response.json().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
    let shipping = &order["data"]["shipping"];
    Ok(format!(
        "Order {id} is {}. It should arrive on {} with {}.",
        order["data"]["status"].as_str().unwrap_or_default(),
        shipping["eta"].as_str().unwrap_or_default(),
        shipping["carrier"].as_str().unwrap_or_default(),
    ))
}

async fn message(
    State(proxy): State<Arc<Proxy>>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, StatusCode> {
    let text = body["text"].as_str().ok_or(StatusCode::UNPROCESSABLE_ENTITY)?;
    let reply = lookup(&proxy, text).await?;
    Ok(Json(json!({"data": {"replies": [{"text": reply}]}})))
}

pub async fn serve(backend: SocketAddr) -> anyhow::Result<()> {
    let proxy = Arc::new(Proxy::new(backend)?);
    let app = Router::new().route("/messages", post(message)).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    crate::child::announce(&listener)?;
    axum::serve(listener, app).await?;
    Ok(())
}
