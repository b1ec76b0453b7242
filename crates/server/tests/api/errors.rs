use reqwest::{Method, StatusCode};

use crate::support::{TestApp, assert_error};

#[tokio::test]
async fn malformed_oversized_and_mistyped_bodies_get_precise_errors() {
    let app = TestApp::sqlite_with(|config| config.server.max_body_bytes = 4096).await;
    let client = app.anonymous();
    let raw = |body: Vec<u8>, content_type: &str| {
        client
            .request(Method::POST, "/api/v1/auth/signup")
            .header("content-type", content_type)
            .body(body)
    };
    let answer = client.send(raw(b"{\"tenant_name\": ".to_vec(), "application/json")).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "malformed_json", None);
    let answer =
        client.send(raw(b"tenant_name=x".to_vec(), "application/x-www-form-urlencoded")).await;
    assert_error(&answer, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", None);
    let huge = format!("{{\"tenant_name\": \"{}\"}}", "x".repeat(8192)).into_bytes();
    let answer = client.send(raw(huge, "application/json")).await;
    assert_error(&answer, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_format() {
    let app = TestApp::sqlite().await;
    let client = app.anonymous();
    assert_error(
        &client.get("/api/v1/nothing-here").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    let answer = client.send(client.request(Method::PUT, "/api/v1/auth/login")).await;
    assert_error(&answer, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None);
}

#[tokio::test]
async fn list_parameters_are_validated() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    assert_error(
        &owner.get("/api/v1/users?limit=0").await,
        unprocessable,
        "invalid_field",
        Some("limit"),
    );
    assert_error(
        &owner.get("/api/v1/users?limit=abc").await,
        unprocessable,
        "invalid_field",
        Some("limit"),
    );
    assert_error(
        &owner.get("/api/v1/users?limit=201").await,
        unprocessable,
        "invalid_field",
        Some("limit"),
    );
    assert_error(
        &owner.get("/api/v1/users?colour=red").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        None,
    );
}
