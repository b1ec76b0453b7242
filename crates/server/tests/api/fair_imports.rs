//! Background capacity is shared fairly between tenants: one tenant's slow imports (knowledge
//! base pages, OpenAPI documents) delay another tenant's by one job at most, never by the whole
//! queue, and never make it fail as busy.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::json;
use tokio::time::Instant;

use crate::kb::settled;
use crate::support::{Client, TestApp};

const PAGE: &str = "<html><head><title>Help</title></head><body><main><h1>Returns</h1>\
    <p>Send unused items back within 30 days.</p></main></body></html>";

/// `/slow/…` answers after `delay` (counting the requests it got), `/fast` at once.
async fn site(delay: Duration) -> (String, Arc<AtomicUsize>) {
    let html = |page: &'static str| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page);
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new()
        .route(
            "/slow/{n}",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    tokio::time::sleep(delay).await;
                    html(PAGE)
                }
            }),
        )
        .route("/fast", get(move || async move { html(PAGE) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (address, hits)
}

async fn two_tenants(site: &str) -> (TestApp, Client, Client) {
    let allow = vec![site.to_owned()];
    let app = TestApp::sqlite_with(move |c| c.security.ssrf_allow = allow.clone()).await;
    let slow = app.signup("Slow", "owner@slow.test").await;
    let quick = app.signup("Quick", "owner@quick.test").await;
    (app, slow, quick)
}

#[tokio::test]
async fn one_tenants_slow_page_imports_do_not_hold_up_another_tenants() {
    let (site, _) = site(Duration::from_secs(4)).await;
    let (_app, slow, quick) = two_tenants(&site).await;
    for n in 0..10 {
        let body = json!({"url": format!("http://{site}/slow/{n}")});
        let (status, created) = slow.post("/api/v1/kb/documents", body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }
    let started = Instant::now();
    let (_, created) =
        quick.post("/api/v1/kb/documents", json!({"url": format!("http://{site}/fast")})).await;
    let document = settled(&quick, created["data"]["id"].as_str().unwrap()).await;
    assert_eq!(document["status"], "ready", "{document}");
    // Queued behind ten 4-second fetches on two workers it took 20 s; now it waits for none.
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn one_tenants_slow_openapi_imports_leave_a_slot_for_another_tenant() {
    // Documents that take long to arrive hold their import slot while they are fetched.
    let (site, hits) = site(Duration::from_secs(25)).await;
    let (_app, slow, quick) = two_tenants(&site).await;
    let connection = |client: &Client| {
        let client = client.clone();
        let base = format!("http://{site}/api");
        async move {
            let body = json!({"name": "Shop", "base_url": base});
            let (_, created) = client.post("/api/v1/connections", body).await;
            created["data"]["id"].as_str().unwrap().to_owned()
        }
    };
    let slow_connection = connection(&slow).await;
    let mut hanging = Vec::new();
    for n in 0..2 {
        let (client, path) =
            (slow.clone(), format!("/api/v1/connections/{slow_connection}/import-openapi"));
        let body = json!({"url": format!("http://{site}/slow/{n}")});
        hanging.push(tokio::spawn(async move { client.post(path, body).await }));
    }
    // The slow tenant's imports take what they can: one starts fetching; a second may follow
    // within a second (it did when one tenant could take every slot).
    let deadline = Instant::now() + Duration::from_secs(10);
    while hits.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the slow imports never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = Instant::now() + Duration::from_secs(1);
    while hits.load(Ordering::SeqCst) < 2 && Instant::now() < second {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let quick_connection = connection(&quick).await;
    let spec = json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"},
        "paths": {"/orders/{id}": {"get": {"operationId": "get_order",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]}}}});
    let started = Instant::now();
    let (status, imported) = quick
        .post(
            format!("/api/v1/connections/{quick_connection}/import-openapi"),
            json!({"spec": spec}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(imported["data"]["created"][0]["name"], "get_order");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    for request in hanging {
        request.abort();
    }
}
