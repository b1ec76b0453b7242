//! The tenant's backend, on loopback in the benchmark process: an order API and an OAuth 2.0
//! token endpoint that counts what it issues.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// The token the OAuth endpoint issues, and the static bearer token of the baseline.
pub const TOKEN: &str = "bench-token";
/// How long the token endpoint takes: long enough that concurrent callers really overlap.
const TOKEN_DELAY: Duration = Duration::from_millis(50);

#[derive(Clone, Default)]
pub struct Backend {
    pub address: Option<SocketAddr>,
    pub tokens_issued: Arc<AtomicUsize>,
    pub orders_served: Arc<AtomicUsize>,
}

pub fn order(id: &str) -> Value {
    json!({"data": {"id": id, "status": "shipped",
        "shipping": {"eta": "2026-12-01", "carrier": "DHL"},
        "items": [{"name": "Arc floor lamp", "qty": 1}]}})
}

/// What a lookup-and-reply rule answers for `id` with [`order`]'s data.
pub fn expected_reply(id: &str) -> String {
    format!("Order {id} is shipped. It should arrive on 2026-12-01 with DHL.")
}

impl Backend {
    pub async fn start() -> anyhow::Result<Self> {
        let mut backend = Backend::default();
        let (tokens, orders) = (backend.tokens_issued.clone(), backend.orders_served.clone());
        let router = Router::new()
            .route(
                "/oauth/token",
                post(move || {
                    let tokens = tokens.clone();
                    async move {
                        tokio::time::sleep(TOKEN_DELAY).await;
                        tokens.fetch_add(1, Ordering::SeqCst);
                        Json(json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}))
                    }
                }),
            )
            .route(
                "/api/orders/{id}",
                get(move |Path(id): Path<String>, headers: HeaderMap| {
                    let orders = orders.clone();
                    async move {
                        orders.fetch_add(1, Ordering::Relaxed);
                        let authorised = headers
                            .get("authorization")
                            .is_none_or(|v| v.as_bytes() == format!("Bearer {TOKEN}").as_bytes());
                        if authorised {
                            Ok(Json(order(&id)))
                        } else {
                            Err(axum::http::StatusCode::UNAUTHORIZED)
                        }
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        backend.address = Some(listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(backend)
    }

    pub fn address(&self) -> SocketAddr {
        self.address.expect("started")
    }
}
