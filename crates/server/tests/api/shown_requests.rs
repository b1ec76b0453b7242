//! Tests and dry runs show the exact request — headers and rendered body as sent, credentials as
//! `***` — and a connection test never reports OK for a request it did not really make.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Uri};
use axum::routing::any;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, TestApp};

const KEY: &str = "shown-requests-api-key";

/// What the backend received: (path and query, headers, body).
type Received = Arc<Mutex<Vec<(String, HeaderMap, String)>>>;

async fn recording_backend() -> (String, Received) {
    let received: Received = Arc::default();
    let seen = received.clone();
    let router = Router::new().fallback(any(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let seen = seen.clone();
        async move {
            let body = String::from_utf8_lossy(&body).into_owned();
            seen.lock().unwrap().push((uri.to_string(), headers, body));
            axum::Json(json!({"ok": true}))
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, received)
}

async fn setup(headers: Value) -> (TestApp, Client, String, Received) {
    let (url, received) = recording_backend().await;
    let allow = url.trim_start_matches("http://").to_owned();
    let app = TestApp::sqlite_with(move |c| c.security.ssrf_allow = vec![allow.clone()]).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let body = json!({"name": "Shop", "base_url": format!("{url}/api"), "headers": headers,
        "auth": {"type": "api_key", "key": KEY}});
    let connection = owner.create_connection(body).await;
    (app, owner, connection, received)
}

#[tokio::test]
async fn an_endpoint_test_shows_the_headers_and_body_it_sent() {
    let (_app, owner, connection, received) = setup(json!({"X-Shop": "lamps"})).await;
    let endpoint = json!({"name": "cancel_order", "method": "POST", "path": "/orders/{order_id}/cancel",
        "headers": {"X-Trace": "order-{order_id}"}, "body": {"order": "{order_id}", "reason": "{reason}"}});
    let id = owner.create_endpoint(&connection, endpoint).await;
    let variables = json!({"order_id": "4521", "reason": "too late"});
    let body = json!({"variables": variables, "confirm": true});
    let (_, tested) = owner.post(format!("/api/v1/endpoints/{id}/test"), body).await;
    let request = &tested["data"]["request"];
    assert_eq!(tested["data"]["ok"], true, "{tested}");
    assert_eq!(request["method"], "POST");
    assert_eq!(request["headers"]["x-api-key"], "***", "{request}");
    assert_eq!(request["headers"]["x-shop"], "lamps");
    assert_eq!(request["headers"]["x-trace"], "order-4521");
    assert_eq!(request["headers"]["content-type"], "application/json");
    assert!(!tested.to_string().contains(KEY));
    // What is shown is what arrived, byte for byte.
    let sent = received.lock().unwrap().pop().unwrap();
    assert_eq!(request["body"], sent.2.as_str());
    assert_eq!(
        serde_json::from_str::<Value>(&sent.2).unwrap(),
        json!({"order": "4521", "reason": "too late"})
    );
    for (name, value) in request["headers"].as_object().unwrap() {
        let arrived = sent.1[name.as_str()].to_str().unwrap();
        assert!(value == "***" || value == arrived, "{name}: shown {value}, sent {arrived}");
    }
}

#[tokio::test]
async fn a_connection_test_asks_for_the_values_its_header_templates_need() {
    let (_app, owner, connection, received) = setup(json!({"X-Region": "{region}"})).await;
    let path = format!("/api/v1/connections/{connection}/test");
    let (status, untested) = owner.post(&path, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let result = &untested["data"];
    assert_eq!(result["ok"], false, "no OK for a request that was not made: {untested}");
    assert_eq!(result["error"]["code"], "missing_variable");
    assert!(result["error"]["message"].as_str().unwrap().contains("{region}"));
    assert_eq!(result["needs"], json!(["region"]));
    assert!(result["request"].is_null());
    assert!(received.lock().unwrap().is_empty(), "nothing was sent");

    let (_, tested) = owner.post(&path, json!({"variables": {"region": "eu"}})).await;
    assert_eq!(tested["data"]["ok"], true, "{tested}");
    assert_eq!(tested["data"]["request"]["headers"]["x-region"], "eu");
    assert_eq!(received.lock().unwrap().pop().unwrap().1["x-region"], "eu");
    // Without header templates nothing is needed, and an empty body is fine.
    let (_, plain) =
        owner.patch(format!("/api/v1/connections/{connection}"), json!({"headers": {}})).await;
    assert_eq!(plain["data"]["headers"], json!({}));
    let (_, tested) = owner.post(&path, json!({})).await;
    assert_eq!((&tested["data"]["ok"], &tested["data"]["needs"]), (&json!(true), &json!([])));
}

#[tokio::test]
async fn the_dry_run_renders_the_request_with_values_from_the_same_run() {
    let (_app, owner, connection, received) = setup(json!({})).await;
    let endpoint = json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}", "query": {"lang": "{visitor.language}"}});
    let endpoint = owner.create_endpoint(&connection, endpoint).await;
    let widget = owner.create_widget("Shop").await;
    owner
        .create_rule(
            json!({"name": "Order", "trigger": {"type": "regex", "pattern": "#(\\d+)"}, "actions": [
                {"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "#(\\d+)"}},
                {"type": "CALL_API", "endpoint_id": endpoint}
            ]}),
        )
        .await;
    let dry_run = |message: &str, variables: Value| {
        owner.post(
            "/api/v1/rules/dry-run",
            json!({"widget_id": widget, "message": message, "variables": variables}),
        )
    };
    let (_, run) = dry_run("where is #4521", json!({"visitor.language": "de"})).await;
    let call = &run["data"]["fired"][0]["actions"][1];
    assert_eq!(call["would_send"], true, "{run}");
    assert!(
        call["request"]["url"].as_str().unwrap().ends_with("/api/orders/4521?lang=de"),
        "{call}"
    );
    assert_eq!(call["request"]["headers"]["x-api-key"], "***");
    assert!(!run.to_string().contains(KEY));
    let (_, run) = dry_run("where is #4521", json!({})).await;
    let call = &run["data"]["fired"][0]["actions"][1];
    assert_eq!(
        (&call["would_send"], &call["error"]["code"]),
        (&json!(false), &json!("missing_variable"))
    );
    assert!(received.lock().unwrap().is_empty(), "a dry run sends nothing");
}
