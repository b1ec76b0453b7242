use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_error};

#[tokio::test]
async fn api_keys_are_shown_once_and_authenticate_until_revoked() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let key = owner.create_api_key("ci").await;
        assert!(key.starts_with("sbk_") && key.len() > 40, "{key}");

        let (status, listed) = owner.get("/api/v1/api-keys").await;
        assert_eq!(status, StatusCode::OK);
        let entry = &listed["data"][0];
        assert_eq!(entry["name"], "ci");
        assert_eq!(entry["role"], "owner");
        assert!(entry.get("key").is_none(), "the key is never shown again: {listed}");
        assert!(key.starts_with(entry["prefix"].as_str().unwrap()));
        assert!(!listed.to_string().contains(&key));

        let by_header = app.with_api_key(&key).me().await;
        assert_eq!(by_header["auth"], "api_key");
        assert_eq!(by_header["tenant"]["name"], "Acme");
        let bearer = app.anonymous().http.get(format!("{}/api/v1/me", app.base)).bearer_auth(&key);
        assert_eq!(bearer.send().await.unwrap().status(), StatusCode::OK);
        // API keys need no CSRF token: they are not ambient browser credentials.
        let (status, _) =
            app.with_api_key(&key).post("/api/v1/teams", json!({ "name": "Bots" })).await;
        assert_eq!(status, StatusCode::CREATED);

        assert_error(
            &owner.post("/api/v1/api-keys", json!({ "name": "ci" })).await,
            StatusCode::CONFLICT,
            "name_taken",
            Some("name"),
        );

        let id = entry["id"].as_str().unwrap();
        assert_eq!(owner.delete(&format!("/api/v1/api-keys/{id}")).await.0, StatusCode::OK);
        assert_error(
            &app.with_api_key(&key).get("/api/v1/me").await,
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            None,
        );
        assert_error(
            &owner.delete(&format!("/api/v1/api-keys/{id}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        );
    }
}

#[tokio::test]
async fn requests_without_valid_credentials_get_401() {
    let app = TestApp::sqlite().await;
    let unauthorized = StatusCode::UNAUTHORIZED;
    assert_error(&app.anonymous().get("/api/v1/me").await, unauthorized, "unauthenticated", None);
    assert_error(
        &app.anonymous().get("/api/v1/users").await,
        unauthorized,
        "unauthenticated",
        None,
    );
    assert_error(
        &app.with_api_key("sbk_made_up").get("/api/v1/me").await,
        unauthorized,
        "invalid_api_key",
        None,
    );
    assert_error(
        &app.with_api_key("not-even-a-key").get("/api/v1/me").await,
        unauthorized,
        "invalid_api_key",
        None,
    );
    let forged = app
        .anonymous()
        .http
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", "sb_session=forged");
    let response = forged.send().await.unwrap();
    assert_eq!(response.status(), unauthorized);
}

#[tokio::test]
async fn operators_cannot_manage_api_keys() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    owner.create_user("op@acme.test", "operator").await;
    let operator = app.login("op@acme.test", crate::support::PASSWORD).await;
    let forbidden = StatusCode::FORBIDDEN;
    assert_error(
        &operator.post("/api/v1/api-keys", json!({ "name": "mine" })).await,
        forbidden,
        "forbidden",
        None,
    );
    assert_error(&operator.get("/api/v1/api-keys").await, forbidden, "forbidden", None);
}
