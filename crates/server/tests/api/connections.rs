//! Connections through the HTTP API: every auth method, write-only secrets, validation, the
//! connection test, and tenant isolation.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend::{self, API_KEY, BEARER, CLIENT_ID, CLIENT_SECRET};
use crate::support::{TestApp, api_connection, assert_error};

/// The five auth methods as a tenant would configure them against the test backend.
pub fn auth_variants() -> Vec<(&'static str, Value)> {
    vec![
        ("none", json!({"type": "none"})),
        ("api key header", json!({"type": "api_key", "key": API_KEY})),
        (
            "api key query",
            json!({"type": "api_key", "placement": "query", "name": "api_key", "key": API_KEY}),
        ),
        ("bearer", json!({"type": "bearer", "token": BEARER})),
        ("basic", json!({"type": "basic", "username": "shop", "password": "backend-password"})),
        (
            "oauth2 basic",
            json!({"type": "oauth2_client_credentials", "token_url": "TOKEN_URL", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
        ),
        (
            "oauth2 post",
            json!({"type": "oauth2_client_credentials", "token_url": "TOKEN_URL", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "client_auth": "post", "scope": "orders"}),
        ),
    ]
}

#[tokio::test]
async fn every_auth_method_saves_without_echoing_secrets_and_passes_its_test() {
    let backend = backend::start().await;
    for app in TestApp::every_backend_allowing(&[backend.addr()]).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        for (label, auth) in auth_variants() {
            let body = api_connection(label, &backend.url(), auth.clone());
            let created = owner.create("/api/v1/connections", body).await;
            let text = created.to_string();
            for secret in [API_KEY, BEARER, "backend-password", CLIENT_SECRET] {
                assert!(!text.contains(secret), "{label}: {text}");
            }
            let id = created["id"].as_str().unwrap();
            assert!(id.starts_with("con_"));
            assert_eq!(created["timeout_ms"], 5000);
            match label {
                "none" => assert!(created["auth"].get("key_set").is_none()),
                "api key header" => {
                    assert_eq!(
                        created["auth"],
                        json!({"type": "api_key", "placement": "header", "name": "X-Api-Key", "key_set": true})
                    )
                }
                "bearer" => assert_eq!(created["auth"]["token_set"], true),
                "basic" => assert_eq!(created["auth"]["password_set"], true),
                _ => {}
            }
            let (status, tested) =
                owner.post(&format!("/api/v1/connections/{id}/test"), json!({})).await;
            assert_eq!(status, StatusCode::OK);
            let expect_ok = label != "none";
            assert_eq!(tested["data"]["ok"], expect_ok, "{label}: {tested}");
            if !expect_ok {
                assert_eq!(tested["data"]["error"]["code"], "auth_failed");
                assert_eq!(tested["data"]["status"], 401);
            }
            assert!(!tested.to_string().contains(API_KEY), "{tested}");
            let (_, shown) = owner.get(&format!("/api/v1/connections/{id}")).await;
            assert_eq!(shown["data"]["last_test"]["ok"], expect_ok, "the last test is remembered");
        }
        assert!(backend.tokens() >= 2, "the OAuth connections fetched real tokens");
        let (_, listed) = owner.get("/api/v1/connections").await;
        assert_eq!(listed["data"].as_array().unwrap().len(), auth_variants().len());
        assert!(!listed.to_string().contains(CLIENT_SECRET));
    }
}

#[tokio::test]
async fn a_patch_without_secrets_keeps_them_and_a_new_method_needs_its_own() {
    let backend = backend::start().await;
    for app in TestApp::every_backend_allowing(&[backend.addr()]).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let auth = json!({"type": "bearer", "token": BEARER});
        let id = owner.create_connection(api_connection("Shop", &backend.url(), auth)).await;
        let path = format!("/api/v1/connections/{id}");
        let test_path = format!("{path}/test");
        let test = || owner.post(&test_path, json!({}));

        let (status, renamed) =
            owner.patch(&path, json!({"name": "Shop EU", "timeout_ms": 3000})).await;
        assert_eq!(status, StatusCode::OK, "{renamed}");
        assert_eq!(renamed["data"]["auth"]["token_set"], true);
        assert_eq!(test().await.1["data"]["ok"], true, "the stored token still works");

        let (status, _) = owner.patch(&path, json!({"auth": {"type": "bearer"}})).await;
        assert_eq!(status, StatusCode::OK, "same method without token keeps the token");
        assert_eq!(test().await.1["data"]["ok"], true);

        let answer =
            owner.patch(&path, json!({"auth": {"type": "api_key", "name": "X-Api-Key"}})).await;
        assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "missing_field", Some("auth.key"));
        let (status, switched) =
            owner.patch(&path, json!({"auth": {"type": "api_key", "key": API_KEY}})).await;
        assert_eq!(status, StatusCode::OK, "{switched}");
        assert!(switched["data"]["auth"].get("token_set").is_none());
        assert_eq!(test().await.1["data"]["ok"], true);

        let (_, wrong) =
            owner.patch(&path, json!({"auth": {"type": "api_key", "key": "wrong-key"}})).await;
        assert_eq!(wrong["data"]["auth"]["key_set"], true);
        assert_eq!(test().await.1["data"]["error"]["code"], "auth_failed");

        // An OAuth2 method sent again without its refresh rule keeps the stored one.
        let rule = json!({"statuses": [401], "body_path": "errcode", "body_values": ["40001"]});
        let oauth = json!({"type": "oauth2_client_credentials", "token_url": format!("{}/oauth/token", backend.url()),
            "client_id": backend::CLIENT_ID, "client_secret": backend::CLIENT_SECRET, "refresh_on": rule});
        let (status, _) = owner.patch(&path, json!({"auth": oauth})).await;
        assert_eq!(status, StatusCode::OK);
        let again = json!({"type": "oauth2_client_credentials", "token_url": format!("{}/oauth/token", backend.url()),
            "client_id": backend::CLIENT_ID, "scope": "orders"});
        let (status, kept) = owner.patch(&path, json!({"auth": again})).await;
        assert_eq!(status, StatusCode::OK, "{kept}");
        assert_eq!(
            (&kept["data"]["auth"]["refresh_on"], &kept["data"]["auth"]["scope"]),
            (&rule, &json!("orders"))
        );

        // Every field left out keeps its value: a new client secret alone is enough.
        let only_secret = json!({"type": "oauth2_client_credentials", "client_secret": "rotated"});
        let (status, rotated) = owner.patch(&path, json!({"auth": only_secret})).await;
        assert_eq!(status, StatusCode::OK, "{rotated}");
        assert_eq!(rotated["data"]["auth"], kept["data"]["auth"], "only the secret changed");
        assert_eq!(test().await.1["data"]["error"]["code"], "token_request_failed");
        let right =
            json!({"type": "oauth2_client_credentials", "client_secret": backend::CLIENT_SECRET});
        owner.patch(&path, json!({"auth": right})).await;
        assert_eq!(test().await.1["data"]["ok"], true, "the kept token URL and client id work");
        // A change of method has nothing to keep: it names what the new method needs.
        let basic = owner.patch(&path, json!({"auth": {"type": "basic", "password": "p"}})).await;
        assert_error(
            &basic,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
            Some("auth.username"),
        );
        let (status, _) = owner.patch(&path, json!({"auth": {"type": "basic", "username": "shop", "password": "backend-password"}})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, renamed) =
            owner.patch(&path, json!({"auth": {"type": "basic", "username": "shop2"}})).await;
        assert_eq!(
            (status, &renamed["data"]["auth"]["password_set"]),
            (StatusCode::OK, &json!(true))
        );
        let (status, kept) =
            owner.patch(&path, json!({"auth": {"type": "api_key", "key": API_KEY}})).await;
        assert_eq!(status, StatusCode::OK);
        let (_, renamed) = owner.patch(&path, json!({"auth": {"type": "api_key", "key": API_KEY, "placement": "query", "name": "api_key"}})).await;
        let (_, kept_query) =
            owner.patch(&path, json!({"auth": {"type": "api_key", "key": API_KEY}})).await;
        assert_eq!(kept_query["data"]["auth"], renamed["data"]["auth"], "{kept}");
        assert_eq!(test().await.1["data"]["ok"], true, "the key is still sent in the query");
    }
}

#[tokio::test]
async fn bad_connections_are_refused_naming_the_field() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let post = |body: Value| owner.post("/api/v1/connections", body);
    let cases = [
        (json!({"base_url": "https://api.example.com"}), "missing_field", "name"),
        (json!({"name": "A"}), "missing_field", "base_url"),
        (json!({"name": "A", "base_url": "not a url"}), "invalid_url", "base_url"),
        (json!({"name": "A", "base_url": "ftp://files.example.com"}), "invalid_url", "base_url"),
        (
            json!({"name": "A", "base_url": "https://user:pw@api.example.com"}),
            "invalid_url",
            "base_url",
        ),
        (json!({"name": "A", "base_url": "http://localhost:8080"}), "ssrf_blocked", "base_url"),
        (
            json!({"name": "A", "base_url": "http://169.254.169.254/latest"}),
            "ssrf_blocked",
            "base_url",
        ),
        (json!({"name": "A", "base_url": "http://[::ffff:10.0.0.1]/"}), "ssrf_blocked", "base_url"),
        (
            json!({"name": "A", "base_url": "https://api.example.com", "timeout_ms": 6000}),
            "invalid_field",
            "timeout_ms",
        ),
        (
            json!({"name": "A", "base_url": "https://api.example.com", "timeout_ms": 0}),
            "invalid_field",
            "timeout_ms",
        ),
        (
            json!({"name": "A", "base_url": "https://api.example.com", "auth": {"type": "bearer"}}),
            "missing_field",
            "auth.token",
        ),
        (
            json!({"name": "A", "base_url": "https://api.example.com", "auth": {"type": "bearer", "token": ""}}),
            "required",
            "auth.token",
        ),
        (
            json!({"name": "A", "base_url": "https://api.example.com", "auth": {"type": "digest"}}),
            "invalid_field",
            "auth.type",
        ),
        (
            json!({"name": "A", "base_url": "https://api.example.com", "auth": {"type": "api_key", "key": "k", "name": "Bad Header"}}),
            "invalid_header",
            "auth.name",
        ),
        (
            json!({"name": "A", "base_url": "https://api.example.com", "auth": {"type": "basic", "username": "a:b", "password": "p"}}),
            "invalid_field",
            "auth.username",
        ),
        (
            json!({"name": "A", "base_url": "https://api.example.com", "auth": {"type": "oauth2_client_credentials", "token_url": "http://metadata.google.internal/token", "client_id": "c", "client_secret": "s"}}),
            "ssrf_blocked",
            "auth.token_url",
        ),
        (
            json!({"name": "A", "base_url": "https://api.example.com", "headers": {"Authorization": "Bearer x"}}),
            "reserved_header",
            "headers.Authorization",
        ),
        (
            json!({"name": "A", "base_url": "https://api.example.com", "headers": {"X-Shop": "{unclosed"}}),
            "invalid_template",
            "headers.X-Shop",
        ),
        (
            json!({"name": "A", "base_url": "https://api.example.com", "colour": "red"}),
            "unknown_field",
            "colour",
        ),
    ];
    for (body, code, field) in cases {
        assert_error(&post(body.clone()).await, unprocessable, code, Some(field));
    }
    owner.create_connection(json!({"name": "Shop", "base_url": "https://api.example.com"})).await;
    let answer = post(json!({"name": "Shop", "base_url": "https://other.example.com"})).await;
    assert_error(&answer, StatusCode::CONFLICT, "name_taken", Some("name"));
}

#[tokio::test]
async fn the_operator_allowlist_is_what_lets_loopback_through() {
    let backend = backend::start().await;
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let body = json!({"name": "Local", "base_url": format!("{}/api", backend.url())});
    assert_error(
        &owner.post("/api/v1/connections", body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ssrf_blocked",
        Some("base_url"),
    );
}

#[tokio::test]
async fn connections_are_admin_business_and_tenant_private() {
    let backend = backend::start().await;
    for app in TestApp::every_backend_allowing(&[backend.addr()]).await {
        let alice = app.signup("Alpha", "alice@alpha.test").await;
        let auth = json!({"type": "bearer", "token": BEARER});
        let id = alice.create_connection(api_connection("Shop", &backend.url(), auth)).await;
        let bob = app.signup("Beta", "bob@beta.test").await;
        let bob_key = app.with_api_key(&bob.create_api_key("ci").await);
        for other in [&bob, &bob_key] {
            let not_found =
                |answer| assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
            not_found(other.get(&format!("/api/v1/connections/{id}")).await);
            not_found(
                other.patch(&format!("/api/v1/connections/{id}"), json!({"name": "Mine"})).await,
            );
            not_found(other.post(&format!("/api/v1/connections/{id}/test"), json!({})).await);
            not_found(other.delete(&format!("/api/v1/connections/{id}")).await);
            not_found(other.get(&format!("/api/v1/connections/{id}/endpoints")).await);
            not_found(
                other
                    .post(
                        &format!("/api/v1/connections/{id}/endpoints"),
                        json!({"name": "x", "method": "GET", "path": "/"}),
                    )
                    .await,
            );
            assert!(
                other.get("/api/v1/connections").await.1["data"].as_array().unwrap().is_empty()
            );
        }
        alice.create_user("op@alpha.test", "operator").await;
        let operator = app.login("op@alpha.test", crate::support::PASSWORD).await;
        assert_error(
            &operator.get("/api/v1/connections").await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        );
        assert_eq!(alice.get(&format!("/api/v1/connections/{id}")).await.1["data"]["name"], "Shop");
        assert_eq!(alice.delete(&format!("/api/v1/connections/{id}")).await.0, StatusCode::OK);
        assert_eq!(alice.get(&format!("/api/v1/connections/{id}")).await.0, StatusCode::NOT_FOUND);
    }
}
