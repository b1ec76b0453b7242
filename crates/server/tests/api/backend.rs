//! A tenant's backend for the tests: an order API on 127.0.0.1 protected by every kind of
//! credential, plus an OAuth token endpoint that counts the tokens it issues.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::json;

pub const API_KEY: &str = "backend-api-key";
pub const BEARER: &str = "backend-bearer-token";
pub const BASIC: &str = "Basic c2hvcDpiYWNrZW5kLXBhc3N3b3Jk"; // shop:backend-password
pub const CLIENT_ID: &str = "switchboard";
pub const CLIENT_SECRET: &str = "backend-client-secret";

#[derive(Clone, Default)]
pub struct Backend {
    pub addr: Option<SocketAddr>,
    pub tokens_issued: Arc<AtomicUsize>,
    pub writes: Arc<AtomicUsize>,
    pub last_query: Arc<Mutex<String>>,
}

impl Backend {
    pub fn addr(&self) -> SocketAddr {
        self.addr.unwrap()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    pub fn tokens(&self) -> usize {
        self.tokens_issued.load(Ordering::SeqCst)
    }

    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }
}

fn authorised(headers: &HeaderMap, query: &std::collections::HashMap<String, String>) -> bool {
    let header =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    header("x-api-key") == API_KEY
        || query.get("api_key").is_some_and(|k| k == API_KEY)
        || header("authorization") == format!("Bearer {BEARER}")
        || header("authorization") == BASIC
        || header("authorization") == "Bearer oauth-token"
}

fn order(id: &str) -> Response {
    match id {
        "4521" => axum::Json(json!({
            "data": {"id": 4521, "status": "shipped", "shipping": {"eta": "2026-12-01", "carrier": "DHL"},
                     "items": [{"sku": "LAMP-1", "qty": 1}, {"sku": "BULB-9", "qty": 3}]}
        }))
        .into_response(),
        _ => (StatusCode::NOT_FOUND, axum::Json(json!({"error": "no such order"}))).into_response(),
    }
}

pub async fn start() -> Backend {
    let mut backend = Backend::default();
    let (issued, writes, last_query) =
        (backend.tokens_issued.clone(), backend.writes.clone(), backend.last_query.clone());
    let router = Router::new()
        .route("/oauth/token", post(move |headers: HeaderMap, body: Bytes| {
            let issued = issued.clone();
            async move {
                let form = String::from_utf8_lossy(&body).into_owned();
                let basic = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let posted = form.contains(&format!("client_secret={CLIENT_SECRET}"));
                let expected_basic = format!("Basic {}", base64_encode(&format!("{CLIENT_ID}:{CLIENT_SECRET}")));
                if !posted && basic != expected_basic {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client"}))).into_response();
                }
                issued.fetch_add(1, Ordering::SeqCst);
                axum::Json(json!({"access_token": "oauth-token", "token_type": "bearer", "expires_in": 3600})).into_response()
            }
        }))
        .route("/api/orders/{id}", get(move |Path(id): Path<String>, Query(q): Query<std::collections::HashMap<String, String>>, headers: HeaderMap| {
            let last_query = last_query.clone();
            async move {
                *last_query.lock().unwrap() = format!("{q:?}");
                if !authorised(&headers, &q) {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "unauthorised"}))).into_response();
                }
                order(&id)
            }
        }))
        .route("/api/orders/{id}/cancel", post(move |headers: HeaderMap, Query(q): Query<std::collections::HashMap<String, String>>| {
            let writes = writes.clone();
            async move {
                if !authorised(&headers, &q) {
                    return (StatusCode::UNAUTHORIZED, "no").into_response();
                }
                writes.fetch_add(1, Ordering::SeqCst);
                axum::Json(json!({"cancelled": true})).into_response()
            }
        }))
        // Echoes what it was sent — headers and query — as a careless backend might.
        .route("/api/echo", get(|Query(q): Query<std::collections::HashMap<String, String>>, headers: HeaderMap| async move {
            let headers: std::collections::BTreeMap<String, String> = headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or_default().to_owned()))
                .collect();
            axum::Json(json!({"headers": headers, "query": q}))
        }))
        .route("/api", any(|Query(q): Query<std::collections::HashMap<String, String>>, req: Request| async move {
            if authorised(req.headers(), &q) { (StatusCode::OK, "api root").into_response() } else { (StatusCode::UNAUTHORIZED, "no").into_response() }
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    backend.addr = Some(listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    backend
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A backend that never answers within ten seconds.
pub async fn hanging() -> SocketAddr {
    let router = Router::new().fallback(any(|| async {
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        "too late"
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A backend whose `/delay/{ms}` answers `{"ms": …}` after that many milliseconds.
pub async fn delaying() -> SocketAddr {
    let router = Router::new().route(
        "/delay/{ms}",
        get(|Path(ms): Path<u64>| async move {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            axum::Json(json!({"ms": ms}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// One connection auth of each kind whose every secret is `planted(<field>)`, the OAuth2 token
/// asked of `base_url`: the secrets to look for where they must not be.
pub fn planted_auths(base_url: &str, planted: impl Fn(&str) -> String) -> [serde_json::Value; 5] {
    [
        json!({"type": "api_key", "key": planted("header-key")}),
        json!({"type": "api_key", "placement": "query", "name": "k", "key": planted("query-key")}),
        json!({"type": "bearer", "token": planted("token")}),
        json!({"type": "basic", "username": "u", "password": planted("password")}),
        json!({"type": "oauth2_client_credentials", "token_url": format!("{base_url}/oauth/token"), "client_id": "c", "client_secret": planted("client-secret")}),
    ]
}
