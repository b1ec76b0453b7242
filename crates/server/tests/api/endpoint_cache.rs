//! `cache_ttl_s`: a GET endpoint's successful answer is reused for the same request within its
//! time to live — visible in the trace as a cache hit and not counted as a backend call — but
//! never across tenants, never for another request, never after the endpoint changed, never
//! for failures, and never for verified-visitor endpoints or other methods (refused at save).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, TestApp, assert_error};

/// A backend whose `/orders/{id}` answers with a fresh serial number each time, so a reused
/// answer shows; `/orders/0` fails.
async fn counting_backend() -> (SocketAddr, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let router = Router::new().route(
        "/orders/{id}",
        get(move |Path(id): Path<String>| {
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                if id == "0" {
                    return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({})));
                }
                (StatusCode::OK, axum::Json(json!({"data": {"id": id, "serial": n}})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, calls)
}

/// A tenant with a caching lookup endpoint behind the rule "order <id>" → "serial <n>".
async fn shop(app: &TestApp, owner: &Client, backend: SocketAddr, ttl: u64) -> (String, String) {
    let connection = owner
        .create_connection(json!({"name": "Shop", "base_url": format!("http://{backend}")}))
        .await;
    let endpoint = owner
        .create(
            format!("/api/v1/connections/{connection}/endpoints"),
            json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}",
                   "response_mapping": {"serial": "data.serial"}, "cache_ttl_s": ttl}),
        )
        .await;
    assert_eq!(endpoint["cache_ttl_s"], ttl);
    let endpoint = endpoint["id"].as_str().unwrap().to_owned();
    let widget = owner.create_widget("Shop").await;
    owner.create_rule(json!({"name": "order", "trigger": {"type": "regex", "pattern": "^order (\\d+)$"},
        "actions": [
            {"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "^order (\\d+)$"}},
            {"type": "CALL_API", "endpoint_id": endpoint, "on_error": [{"type": "REPLY_TEXT", "text": "failed"}]},
            {"type": "REPLY_TEXT", "text": "serial {serial}"}
        ], "stop": true})).await;
    let _ = app;
    (endpoint, widget)
}

fn api_calls(trace: &[Value]) -> Vec<Value> {
    trace.iter().filter(|e| e["kind"] == "api_call").map(|e| e["data"].clone()).collect()
}

#[tokio::test]
async fn a_cached_answer_is_reused_per_tenant_and_request_until_it_expires() {
    let (backend, calls) = counting_backend().await;
    let app =
        TestApp::sqlite_with(|config| config.security.ssrf_allow = vec![backend.to_string()]).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let (endpoint, widget) = shop(&app, &owner, backend, 2).await;

    let first = app.start_conversation(&widget).await;
    assert_eq!(first.say("order 4521").await, ["serial 1"]);
    let second = app.start_conversation(&widget).await;
    assert_eq!(second.say("order 4521").await, ["serial 1"], "the same request: from the cache");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let hit = api_calls(&owner.trace(&second.conversation_id).await);
    assert_eq!((&hit[0]["cache"], &hit[0]["ok"]), (&json!("hit"), &json!(true)), "{hit:?}");
    let miss = api_calls(&owner.trace(&first.conversation_id).await);
    assert_eq!(miss[0]["cache"], "miss");

    // Another request, a failure, another tenant: all go to the backend.
    assert_eq!(second.say("order 77").await, ["serial 2"]);
    assert_eq!(second.say("order 0").await, ["failed"]);
    assert_eq!(second.say("order 0").await, ["failed"], "failures are not cached");
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    let beta = app.signup("Beta", "owner@beta.test").await;
    let (_, beta_widget) = shop(&app, &beta, backend, 60).await;
    let stranger = app.start_conversation(&beta_widget).await;
    assert_eq!(stranger.say("order 4521").await, ["serial 5"], "never across tenants");

    // Cache hits are not backend calls: the statistics count the calls that were made.
    let (_, stats) = owner.get(format!("/api/v1/endpoints/{endpoint}/stats?window=1h")).await;
    assert_eq!((&stats["data"]["calls"], &stats["data"]["errors"]), (&json!(4), &json!(2)));

    // Expired, then an edit of the endpoint starts afresh.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(first.say("order 4521").await, ["serial 6"], "expired");
    let (status, _) = owner
        .patch(format!("/api/v1/endpoints/{endpoint}"), json!({"description": "Orders by number"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first.say("order 4521").await, ["serial 7"], "the endpoint changed");
    assert_eq!(first.say("order 4521").await, ["serial 7"]);
}

#[tokio::test]
async fn only_get_endpoints_for_anyone_may_cache() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let connection = owner
        .create_connection(json!({"name": "Shop", "base_url": "https://shop.example.com"}))
        .await;
    let cases = [
        (
            json!({"name": "a", "method": "POST", "path": "/a", "cache_ttl_s": 60}),
            "cache_not_allowed",
        ),
        (
            json!({"name": "b", "method": "GET", "path": "/b", "cache_ttl_s": 60, "requires_verified_visitor": true}),
            "cache_not_allowed",
        ),
        (json!({"name": "c", "method": "GET", "path": "/c", "cache_ttl_s": 0}), "out_of_range"),
    ];
    let endpoints = format!("/api/v1/connections/{connection}/endpoints");
    for (body, code) in cases {
        let refused = owner.post(&endpoints, body).await;
        assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, code, Some("cache_ttl_s"));
    }
    let id = owner
        .create_endpoint(
            &connection,
            json!({"name": "d", "method": "GET", "path": "/d", "cache_ttl_s": 86400}),
        )
        .await;
    // Marking it for verified visitors later is refused too, while it caches; null turns it off.
    let refused = owner
        .patch(format!("/api/v1/endpoints/{id}"), json!({"requires_verified_visitor": true}))
        .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cache_not_allowed",
        Some("cache_ttl_s"),
    );
    let (status, changed) = owner
        .patch(
            format!("/api/v1/endpoints/{id}"),
            json!({"requires_verified_visitor": true, "cache_ttl_s": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert!(changed["data"]["cache_ttl_s"].is_null());
}
