//! Losing the database: requests answer 503 `unavailable` (with `Retry-After`) while it is
//! away, and the same server recovers by itself when it returns — no restart.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::task::JoinHandle;

use crate::support::TestApp;

/// A TCP forwarder to PostgreSQL that the test can cut — every connection dropped and the port
/// closed, so new connections are refused as by a database that is down — and restore.
struct Cuttable {
    address: SocketAddr,
    upstream: SocketAddr,
    forwarder: Mutex<Option<JoinHandle<()>>>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Cuttable {
    async fn to(upstream: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            address: listener.local_addr().unwrap(),
            upstream,
            forwarder: Mutex::new(None),
            links: Arc::default(),
        };
        proxy.forward(listener);
        proxy
    }

    fn forward(&self, listener: tokio::net::TcpListener) {
        let (upstream, links) = (self.upstream, self.links.clone());
        let forwarder = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                links.lock().unwrap().push(link);
            }
        });
        *self.forwarder.lock().unwrap() = Some(forwarder);
    }

    fn cut(&self) {
        if let Some(forwarder) = self.forwarder.lock().unwrap().take() {
            forwarder.abort(); // drops the listener: the port refuses connections
        }
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    async fn restore(&self) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.address).unwrap();
        self.forward(socket.listen(64).unwrap());
    }
}

#[tokio::test]
async fn losing_postgresql_answers_503_and_recovers_without_a_restart() {
    let Some(base) = sb_store_postgres::testing::base_url() else { return };
    let url = reqwest::Url::parse(&base).unwrap();
    let upstream: SocketAddr =
        format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432)).parse().unwrap();
    let proxy = Cuttable::to(upstream).await;
    let app = TestApp::postgres_through(proxy.address).await.unwrap();
    let owner = app.signup("Acme", "owner@acme.test").await;
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);

    proxy.cut();
    let response = owner.request(reqwest::Method::GET, "/api/v1/me").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert_eq!(app.anonymous().get("/healthz").await.0, StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore().await;
    for _ in 0..100 {
        if owner.get("/api/v1/me").await.0 == StatusCode::OK {
            let (status, _) =
                owner.post("/api/v1/widgets", serde_json::json!({"name": "After"})).await;
            assert_eq!(status, StatusCode::CREATED, "writes work again too");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not recover once the database was back");
}
