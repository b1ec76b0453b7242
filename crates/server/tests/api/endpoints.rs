//! Endpoints through the HTTP API: templates, validation, the endpoint test with its confirmation
//! rule, and tenant isolation.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend::{self, API_KEY};
use crate::support::{Client, TestApp, api_connection, assert_error};

pub fn order_endpoint() -> Value {
    json!({
        "name": "get_order",
        "description": "Looks up an order by its number",
        "method": "GET",
        "path": "/orders/{order_id}",
        "query": {"lang": "{visitor.language}"},
        "variables": [{"name": "order_id", "description": "Order number", "required": true, "pattern": "[0-9]{1,8}"}],
        "response_mapping": {
            "order_status": "data.status",
            "delivery_eta": "data.shipping.eta",
            "skus": "data.items[*].sku",
            "tracking": "data.shipping.tracking_url"
        },
        "ai_tool": true
    })
}

async fn setup(app: &TestApp, backend: &backend::Backend) -> (Client, String) {
    let owner = app.signup("Acme", "owner@acme.test").await;
    let auth = json!({"type": "api_key", "placement": "query", "name": "api_key", "key": API_KEY});
    let connection = owner.create_connection(api_connection("Shop", &backend.url(), auth)).await;
    (owner, connection)
}

#[tokio::test]
async fn an_endpoint_test_shows_the_redacted_request_the_mapped_values_and_what_was_missing() {
    let backend = backend::start().await;
    for app in TestApp::every_backend_allowing(&[backend.addr()]).await {
        let (owner, connection) = setup(&app, &backend).await;
        let created = owner
            .create(format!("/api/v1/connections/{connection}/endpoints"), order_endpoint())
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("ep_"));
        assert_eq!(created["response_mapping"]["delivery_eta"], "data.shipping.eta");

        let vars = json!({"variables": {"order_id": "4521", "visitor.language": "de"}});
        let (status, tested) = owner.post(&format!("/api/v1/endpoints/{id}/test"), vars).await;
        assert_eq!(status, StatusCode::OK);
        let result = &tested["data"];
        assert_eq!(result["ok"], true, "{tested}");
        assert_eq!(result["status"], 200);
        assert_eq!(result["request"]["method"], "GET");
        let url = result["request"]["url"].as_str().unwrap();
        assert!(url.ends_with("/api/orders/4521?lang=de&api_key=***"), "{url}");
        assert_eq!(
            result["mapped"],
            json!({"order_status": "shipped", "delivery_eta": "2026-12-01", "skus": ["LAMP-1", "BULB-9"]})
        );
        assert_eq!(result["missing"], json!(["data.shipping.tracking_url"]));
        assert!(result["body_preview"].as_str().unwrap().contains("shipped"));
        assert!(result["latency_ms"].is_u64());
        assert!(!tested.to_string().contains(API_KEY));

        let (_, unknown) = owner
            .post(
                &format!("/api/v1/endpoints/{id}/test"),
                json!({"variables": {"order_id": "999", "visitor.language": "en"}}),
            )
            .await;
        // 404 is a lookup's normal "nothing found" (expected_statuses), not a failure.
        assert_eq!(
            (&unknown["data"]["ok"], &unknown["data"]["found"]),
            (&json!(true), &json!(false))
        );
        assert_eq!(unknown["data"]["status"], 404);
        assert!(unknown["data"]["error"].is_null(), "{unknown}");
        let (_, missing) =
            owner.post(&format!("/api/v1/endpoints/{id}/test"), json!({"variables": {}})).await;
        assert_eq!(missing["data"]["error"]["code"], "missing_variable");
        assert!(missing["data"]["request"].is_null(), "nothing was sent: {missing}");
        let (_, invalid) = owner
            .post(
                &format!("/api/v1/endpoints/{id}/test"),
                json!({"variables": {"order_id": "45/../21", "visitor.language": "en"}}),
            )
            .await;
        assert_eq!(invalid["data"]["error"]["code"], "invalid_variable");

        let (_, shown) = owner.get(&format!("/api/v1/endpoints/{id}")).await;
        assert_eq!(shown["data"]["last_test"]["error_code"], "invalid_variable");
        let (_, listed) = owner.get(&format!("/api/v1/connections/{connection}/endpoints")).await;
        assert_eq!(listed["data"][0]["id"], id.as_str());
    }
}

#[tokio::test]
async fn data_changing_endpoints_are_tested_only_with_confirmation() {
    let backend = backend::start().await;
    let app =
        TestApp::sqlite_with(|c| c.security.ssrf_allow = vec![backend.addr().to_string()]).await;
    let (owner, connection) = setup(&app, &backend).await;
    let body = json!({"name": "cancel_order", "method": "POST", "path": "/orders/{order_id}/cancel", "body": {"reason": "{reason}"}});
    let endpoint = owner.create_endpoint(&connection, body).await;
    let path = format!("/api/v1/endpoints/{endpoint}/test");
    let vars = json!({"order_id": "4521", "reason": "changed my mind"});
    let answer = owner.post(&path, json!({"variables": vars})).await;
    assert_error(
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "confirmation_required",
        Some("confirm"),
    );
    assert_eq!(backend.writes(), 0, "nothing was sent without confirmation");
    let (status, confirmed) = owner.post(&path, json!({"variables": vars, "confirm": true})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(confirmed["data"]["ok"], true, "{confirmed}");
    assert_eq!(backend.writes(), 1);
}

#[tokio::test]
async fn endpoint_definitions_are_validated_field_by_field() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let connection = owner
        .create_connection(json!({"name": "Shop", "base_url": "https://api.example.com"}))
        .await;
    let base = format!("/api/v1/connections/{connection}/endpoints");
    let with = |patch: Value| {
        let mut body = json!({"name": "get_order", "method": "GET", "path": "/orders/{id}"});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let cases = [
        (json!({"name": "get order!"}), "invalid_name", "name"),
        (json!({"method": "TRACE"}), "invalid_method", "method"),
        (json!({"path": "orders/{id}"}), "invalid_path", "path"),
        (json!({"path": "/orders/{id}?x=1"}), "invalid_path", "path"),
        (json!({"path": "/orders/../admin"}), "invalid_path", "path"),
        (json!({"path": "/orders/{id"}), "invalid_template", "path"),
        (json!({"query": {"q": "{term"}}), "invalid_template", "query.q"),
        (json!({"headers": {"Cookie": "a=b"}}), "reserved_header", "headers.Cookie"),
        (json!({"body": {"a": "b"}}), "invalid_field", "body"),
        (
            json!({"method": "POST", "body": {"items": ["ok", "{bad"]}}),
            "invalid_template",
            "body.items[1]",
        ),
        (
            json!({"variables": [{"name": "id"}, {"name": "id"}]}),
            "duplicate_variable",
            "variables[1].name",
        ),
        (json!({"variables": [{"name": "9lives"}]}), "invalid_variable_name", "variables[0].name"),
        (
            json!({"variables": [{"name": "id", "pattern": "(unclosed"}]}),
            "invalid_pattern",
            "variables[0].pattern",
        ),
        (
            json!({"variables": [{"name": "id", "pattern": "a{1000}{1000}"}]}),
            "invalid_pattern",
            "variables[0].pattern",
        ),
        (json!({"response_mapping": {"eta": "data..eta"}}), "invalid_path", "response_mapping.eta"),
        (
            json!({"response_mapping": {"bad name": "data"}}),
            "invalid_variable_name",
            "response_mapping.bad name",
        ),
        (json!({"timeout_ms": 9000}), "invalid_field", "timeout_ms"),
        (json!({"verbose": true}), "unknown_field", "verbose"),
    ];
    for (patch, code, field) in cases {
        let body = with(patch.clone());
        assert_error(&owner.post(&base, body).await, unprocessable, code, Some(field));
    }
    assert_error(
        &owner.post(&base, json!({"method": "GET", "path": "/x"})).await,
        unprocessable,
        "missing_field",
        Some("name"),
    );
    let (status, _) = owner.post(&base, with(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_error(
        &owner.post(&base, with(json!({}))).await,
        StatusCode::CONFLICT,
        "name_taken",
        Some("name"),
    );

    let (_, listed) = owner.get(&base).await;
    let id = listed["data"][0]["id"].as_str().unwrap();
    let path = format!("/api/v1/endpoints/{id}");
    let (status, patched) = owner.patch(&path, json!({"method": "POST", "body": {"id": "{id}"}, "timeout_ms": 1500, "idempotent": true})).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["data"]["body"], json!({"id": "{id}"}));
    let (_, cleared) = owner.patch(&path, json!({"body": null, "timeout_ms": null})).await;
    assert!(
        cleared["data"]["body"].is_null() && cleared["data"]["timeout_ms"].is_null(),
        "{cleared}"
    );
    assert_eq!(cleared["data"]["idempotent"], true, "untouched fields stay");
    assert_eq!(owner.delete(&path).await.0, StatusCode::OK);
    assert_eq!(owner.get(&path).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_tenants_endpoints_are_not_found() {
    let backend = backend::start().await;
    for app in TestApp::every_backend_allowing(&[backend.addr()]).await {
        let (alice, connection) = setup(&app, &backend).await;
        let id = alice.create_endpoint(&connection, order_endpoint()).await;
        let bob = app.signup("Beta", "bob@beta.test").await;
        let not_found = |answer| assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        not_found(bob.get(&format!("/api/v1/endpoints/{id}")).await);
        not_found(
            bob.patch(&format!("/api/v1/endpoints/{id}"), json!({"description": "mine"})).await,
        );
        not_found(
            bob.post(
                &format!("/api/v1/endpoints/{id}/test"),
                json!({"variables": {"order_id": "4521"}}),
            )
            .await,
        );
        not_found(bob.delete(&format!("/api/v1/endpoints/{id}")).await);
        assert_eq!(
            alice.get(&format!("/api/v1/endpoints/{id}")).await.1["data"]["description"],
            "Looks up an order by its number"
        );
    }
}
