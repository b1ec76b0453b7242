//! A tenant backend and an OAuth token server on 127.0.0.1, reached through the allowlist.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use sb_connectors::{AuthSecrets, Connector};
use sb_domain::{
    AuthConfig, Connection, ConnectionId, Endpoint, EndpointRequest, HttpMethod, TenantId,
    Timestamp,
};
use sb_net::{AllowEntry, HttpClient, NetConfig, SsrfPolicy};
use sb_secrets::Secret;

pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

pub fn connector(allowed: &[SocketAddr]) -> Connector {
    let allow = allowed.iter().map(|a| a.to_string().parse::<AllowEntry>().unwrap()).collect();
    Connector::new(HttpClient::new(SsrfPolicy::new(allow), NetConfig::default()).unwrap())
}

pub fn connection(base: SocketAddr, auth: AuthConfig) -> Connection {
    Connection {
        id: ConnectionId::new(),
        tenant_id: TenantId::new(),
        name: "Shop".into(),
        base_url: format!("http://{base}/api"),
        auth,
        headers: BTreeMap::new(),
        timeout_ms: 5000,
        created_at: Timestamp::now(),
        updated_at: Timestamp::now(),
        last_test: None,
        kind: Default::default(),
        identity_header: None,
    }
}

pub fn endpoint(connection: &Connection, method: HttpMethod, path: &str) -> Endpoint {
    let request = EndpointRequest { method, path: path.into(), ..Default::default() };
    Endpoint::new(&connection.tenant_id, &connection.id, "get_order".into(), request)
}

pub fn secrets(field: &str, value: &str) -> AuthSecrets {
    let mut secrets = AuthSecrets::default();
    secrets.set(field, Some(Secret::new(value.to_owned())));
    secrets
}

/// Counts and records what a server received.
#[derive(Clone, Default)]
pub struct Recorder {
    pub hits: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub uri: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Recorder {
    pub fn record(
        &self,
        method: &axum::http::Method,
        uri: &axum::http::Uri,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> usize {
        let headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        self.requests.lock().unwrap().push(Recorded {
            method: method.to_string(),
            uri: uri.to_string(),
            headers,
            body: String::from_utf8_lossy(body).into_owned(),
        });
        self.hits.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn count(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn last(&self) -> Recorded {
        self.requests.lock().unwrap().last().cloned().expect("a request was received")
    }
}
