//! The dashboard's live mapping preview: the endpoint test carries the whole answer parsed
//! (`body_json`, credentials scrubbed as everywhere), and `POST /endpoints/preview-mapping`
//! applies a mapping to it exactly as a real call would, refusing what an endpoint could not save.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend::{self, API_KEY, BEARER};
use crate::support::{Client, TestApp, api_connection, assert_error};

const PREVIEW: &str = "/api/v1/endpoints/preview-mapping";

/// Answers `/api/big` with a JSON document over 64 KiB.
async fn big_answers() -> SocketAddr {
    let items: Vec<Value> =
        (0..3000).map(|i| json!({"sku": format!("SKU-{i:05}"), "qty": i})).collect();
    let router = Router::new()
        .route("/api/big", get(move || async move { axum::Json(json!({"items": items})) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Creates an endpoint on `connection` and runs its test.
async fn test_result(owner: &Client, connection: &str, endpoint: Value, variables: Value) -> Value {
    let endpoint = owner.create_endpoint(connection, endpoint).await;
    let (status, tested) = owner
        .post(format!("/api/v1/endpoints/{endpoint}/test"), json!({"variables": variables}))
        .await;
    assert_eq!(status, StatusCode::OK, "{tested}");
    tested["data"].clone()
}

#[tokio::test]
async fn the_endpoint_test_carries_the_parsed_answer_with_credentials_scrubbed() {
    let backend = backend::start().await;
    let big = big_answers().await;
    let app = TestApp::sqlite_with(|c| {
        c.security.ssrf_allow = vec![backend.addr().to_string(), big.to_string()]
    })
    .await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let in_query =
        json!({"type": "api_key", "placement": "query", "name": "api_key", "key": API_KEY});
    let shop = owner.create_connection(api_connection("Shop", &backend.url(), in_query)).await;

    let order = json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}",
        "response_mapping": {"order_status": "data.status", "skus": "data.items[*].sku"}});
    let tested = test_result(&owner, &shop, order, json!({"order_id": "4521"})).await;
    assert_eq!(tested["body_json"]["data"]["status"], "shipped", "{tested}");
    assert_eq!(tested["body_json"]["data"]["items"][1]["sku"], "BULB-9");

    // A backend echoing its credentials: the parsed answer is scrubbed like the preview.
    let echo = json!({"name": "echo", "method": "GET", "path": "/echo"});
    let tested = test_result(&owner, &shop, echo, json!({})).await;
    assert_eq!(tested["body_json"]["query"]["api_key"], "***", "{tested}");
    assert!(tested["body_preview"].as_str().unwrap().contains("***"));
    assert!(!tested.to_string().contains(API_KEY));
    let bearer = json!({"type": "bearer", "token": BEARER});
    let crm = owner.create_connection(api_connection("CRM", &backend.url(), bearer)).await;
    let echo = json!({"name": "echo_bearer", "method": "GET", "path": "/echo"});
    let tested = test_result(&owner, &crm, echo, json!({})).await;
    assert_eq!(tested["body_json"]["headers"]["authorization"], "Bearer ***", "{tested}");
    assert!(!tested.to_string().contains(BEARER));
    // The OAuth access token fetched for the call is as secret as the stored credentials.
    let oauth = json!({"type": "oauth2_client_credentials", "token_url": "TOKEN_URL",
        "client_id": backend::CLIENT_ID, "client_secret": backend::CLIENT_SECRET});
    let sso = owner.create_connection(api_connection("SSO", &backend.url(), oauth)).await;
    let echo = json!({"name": "echo_oauth", "method": "GET", "path": "/echo"});
    let tested = test_result(&owner, &sso, echo, json!({})).await;
    assert_eq!(tested["body_json"]["headers"]["authorization"], "Bearer ***", "{tested}");
    assert!(!tested.to_string().contains("oauth-token"), "{tested}");

    // Answers that are not JSON, or over 64 KiB, have the preview only.
    let root = json!({"name": "root", "method": "GET", "path": "/"});
    let tested = test_result(&owner, &crm, root, json!({})).await;
    assert!(tested.get("body_json").is_none(), "{tested}");
    let bulk = api_connection("Bulk", &format!("http://{big}"), json!({"type": "none"}));
    let bulk = owner.create_connection(bulk).await;
    let everything = json!({"name": "big", "method": "GET", "path": "/big", "response_mapping": {"first": "items.0.sku"}});
    let tested = test_result(&owner, &bulk, everything, json!({})).await;
    assert_eq!((&tested["ok"], &tested["mapped"]["first"]), (&json!(true), &json!("SKU-00000")));
    assert!(tested.get("body_json").is_none(), "a large answer is not repeated whole");
    assert!(tested["body_preview"].as_str().unwrap().starts_with("{\"items\""));
}

#[tokio::test]
async fn a_mapping_preview_maps_a_sample_as_a_real_call_would() {
    let backend = backend::start().await;
    let app =
        TestApp::sqlite_with(|c| c.security.ssrf_allow = vec![backend.addr().to_string()]).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let auth = json!({"type": "api_key", "key": API_KEY});
    let shop = owner.create_connection(api_connection("Shop", &backend.url(), auth)).await;
    let mapping = json!({"order_status": "data.status", "skus": "data.items[*].sku",
        "eta": "data.shipping.eta", "tracking": "data.shipping.tracking_url", "carrier": "data[\"shipping\"].carrier"});
    let order = json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}", "response_mapping": mapping});
    let tested = test_result(&owner, &shop, order, json!({"order_id": "4521"})).await;

    // The test's own answer, previewed: the same values as the call mapped.
    let (status, preview) = owner
        .post(PREVIEW, json!({"response_mapping": mapping, "sample": tested["body_json"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let preview = &preview["data"];
    assert_eq!(preview["mapped"], tested["mapped"]);
    assert_eq!(preview["mapped"]["skus"], json!(["LAMP-1", "BULB-9"]));
    assert_eq!(preview["missing"], json!(["tracking"]), "variables, not paths");
    assert_eq!(tested["missing"], json!(["data.shipping.tracking_url"]));
    assert_eq!(preview["notes"], json!([]));

    // The limits of real calls apply: long lists are cut, with a note.
    let items: Vec<Value> = (0..60).map(|i| json!({"id": i})).collect();
    let body = json!({"response_mapping": {"ids": "items[*].id"}, "sample": {"items": items}});
    let (status, preview) = owner.post(PREVIEW, body).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["data"]["mapped"]["ids"].as_array().unwrap().len(), 50);
    assert!(preview["data"]["notes"][0].as_str().unwrap().contains("first 50 of 60"), "{preview}");
    let (_, preview) =
        owner.post(PREVIEW, json!({"response_mapping": {"x": "a.b"}, "sample": null})).await;
    assert_eq!(preview["data"], json!({"mapped": {}, "missing": ["x"], "notes": []}));

    // What an endpoint could not save is refused with the same code and field.
    for (variable, path, code) in
        [("bad", "data..status", "invalid_path"), ("bad name", "data", "invalid_variable_name")]
    {
        let mapping = json!({variable: path});
        let field = format!("response_mapping.{variable}");
        let saved = owner
            .post(
                format!("/api/v1/connections/{shop}/endpoints"),
                json!({"name": "broken", "method": "GET", "path": "/x", "response_mapping": mapping}),
            )
            .await;
        assert_error(&saved, StatusCode::UNPROCESSABLE_ENTITY, code, Some(&field));
        let previewed =
            owner.post(PREVIEW, json!({"response_mapping": mapping, "sample": {}})).await;
        assert_error(&previewed, StatusCode::UNPROCESSABLE_ENTITY, code, Some(&field));
    }
    assert_error(
        &owner.post(PREVIEW, json!({"response_mapping": {}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing_field",
        Some("sample"),
    );
    assert_error(
        &owner.post(PREVIEW, json!({"response_mapping": {}, "sample": 1, "extra": 2})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
        Some("extra"),
    );

    // Admins only, like endpoints.
    owner.create_user("op@acme.test", "operator").await;
    let operator = app.login("op@acme.test", crate::support::PASSWORD).await;
    let body = json!({"response_mapping": {}, "sample": {}});
    assert_error(&operator.post(PREVIEW, body).await, StatusCode::FORBIDDEN, "forbidden", None);
}

#[tokio::test]
async fn a_sample_larger_than_any_request_body_is_refused() {
    let app = TestApp::sqlite_with(|c| c.server.max_body_bytes = 4096).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let body = json!({"response_mapping": {"a": "a"}, "sample": {"a": "x".repeat(5000)}});
    assert_error(
        &owner.post(PREVIEW, body).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    );
}
