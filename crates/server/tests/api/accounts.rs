use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, TestApp, assert_error};

#[tokio::test]
async fn signup_starts_a_session_and_me_describes_it() {
    for app in TestApp::every_backend().await {
        let response = app
            .anonymous()
            .http
            .post(format!("{}/api/v1/auth/signup", app.base))
            .json(
                &json!({ "tenant_name": "Acme", "email": "Owner@Acme.test", "password": PASSWORD }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let session =
            cookies.iter().find(|c| c.starts_with("sb_session=")).expect("session cookie");
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
        let csrf = cookies.iter().find(|c| c.starts_with("sb_csrf=")).expect("csrf cookie");
        assert!(!csrf.contains("HttpOnly"), "the dashboard script must read it: {csrf}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["data"]["user"]["email"], "owner@acme.test", "e-mails are normalised");
        assert_eq!(body["data"]["user"]["role"], "owner");
        assert!(body["data"]["user"].get("password_hash").is_none());
        assert!(body["data"]["tenant"]["id"].as_str().unwrap().starts_with("ten_"));

        let owner = app.signup("Beta", "owner@beta.test").await;
        let me = owner.me().await;
        assert_eq!(me["tenant"]["name"], "Beta", "{}", app.backend);
        assert_eq!(me["user"]["email"], "owner@beta.test");
        assert_eq!(me["role"], "owner");
        assert_eq!(me["auth"], "session");
    }
}

#[tokio::test]
async fn signup_rejects_bad_input_naming_the_field() {
    for app in TestApp::every_backend().await {
        let client = app.anonymous();
        let signup = |body| client.post("/api/v1/auth/signup", body);
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        assert_error(
            &signup(json!({ "tenant_name": "A", "password": PASSWORD })).await,
            unprocessable,
            "missing_field",
            Some("email"),
        );
        assert_error(
            &signup(json!({ "tenant_name": "A", "email": "nope", "password": PASSWORD })).await,
            unprocessable,
            "invalid_email",
            Some("email"),
        );
        assert_error(
            &signup(json!({ "tenant_name": "A", "email": "a@a.test", "password": "short" })).await,
            unprocessable,
            "password_too_short",
            Some("password"),
        );
        assert_error(
            &signup(json!({ "tenant_name": " ", "email": "a@a.test", "password": PASSWORD })).await,
            unprocessable,
            "required",
            Some("tenant_name"),
        );
        assert_error(
            &signup(json!({ "tenant_name": "A", "email": "a@a.test", "password": PASSWORD, "plan": "pro" }))
                .await,
            unprocessable,
            "unknown_field",
            Some("plan"),
        );
        assert_error(
            &signup(json!({ "tenant_name": 7, "email": "a@a.test", "password": PASSWORD })).await,
            unprocessable,
            "invalid_field",
            Some("tenant_name"),
        );

        app.signup("Acme", "owner@acme.test").await;
        assert_error(
            &signup(
                json!({ "tenant_name": "Again", "email": "OWNER@acme.test", "password": PASSWORD }),
            )
            .await,
            StatusCode::CONFLICT,
            "email_taken",
            Some("email"),
        );
    }
}

#[tokio::test]
async fn login_and_logout() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let anonymous = app.anonymous();
        let login = |email: &str, password: &str| {
            anonymous.post("/api/v1/auth/login", json!({ "email": email, "password": password }))
        };
        let unauthorized = StatusCode::UNAUTHORIZED;
        assert_error(
            &login("owner@acme.test", "wrong password").await,
            unauthorized,
            "invalid_credentials",
            None,
        );
        assert_error(
            &login("ghost@acme.test", PASSWORD).await,
            unauthorized,
            "invalid_credentials",
            None,
        );
        assert_error(
            &login("not an email", PASSWORD).await,
            unauthorized,
            "invalid_credentials",
            None,
        );

        let again = app.login(" Owner@Acme.test ", PASSWORD).await;
        assert_eq!(again.me().await["user"]["email"], "owner@acme.test");

        let (status, body) = again.post("/api/v1/auth/logout", json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_error(&again.get("/api/v1/me").await, unauthorized, "unauthenticated", None);
        // The other session is untouched.
        assert_eq!(owner.me().await["user"]["email"], "owner@acme.test");
    }
}

#[tokio::test]
async fn unsafe_requests_with_a_session_need_the_csrf_token_and_our_origin() {
    let app = TestApp::sqlite().await;
    let mut owner = app.signup("Acme", "owner@acme.test").await;
    let token = owner.csrf.take().unwrap();
    let body = json!({ "name": "Support" });

    let forbidden = StatusCode::FORBIDDEN;
    assert_error(&owner.post("/api/v1/teams", body.clone()).await, forbidden, "csrf_failed", None);
    let wrong =
        owner.request(reqwest::Method::POST, "/api/v1/teams").header("x-csrf-token", "guess");
    assert_error(&owner.send(wrong.json(&body)).await, forbidden, "csrf_failed", None);
    let foreign = owner
        .request(reqwest::Method::POST, "/api/v1/teams")
        .header("x-csrf-token", &token)
        .header("origin", "https://evil.example");
    assert_error(&owner.send(foreign.json(&body)).await, forbidden, "origin_mismatch", None);

    // Reads need no token; writes succeed with it, from our own origin.
    assert_eq!(owner.get("/api/v1/teams").await.0, StatusCode::OK);
    let ours = owner
        .request(reqwest::Method::POST, "/api/v1/teams")
        .header("x-csrf-token", &token)
        .header("origin", &app.base);
    assert_eq!(owner.send(ours.json(&body)).await.0, StatusCode::CREATED);

    // Login from a foreign page is refused too (login CSRF).
    let login = app
        .anonymous()
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("origin", "https://evil.example")
        .json(&json!({ "email": "owner@acme.test", "password": PASSWORD }));
    assert_eq!(login.send().await.unwrap().status(), forbidden);
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited() {
    let app =
        TestApp::sqlite_with(|config| config.security.login_attempts_per_minute_per_account = 3)
            .await;
    app.signup("Acme", "owner@acme.test").await;
    let client = app.anonymous();
    let attempt = || {
        client.post(
            "/api/v1/auth/login",
            json!({ "email": "owner@acme.test", "password": "wrong password" }),
        )
    };
    for _ in 0..3 {
        assert_eq!(attempt().await.0, StatusCode::UNAUTHORIZED);
    }
    let response = client
        .request(reqwest::Method::POST, "/api/v1/auth/login")
        .json(&json!({ "email": "OWNER@acme.test", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn signups_from_one_address_are_rate_limited() {
    let app =
        TestApp::sqlite_with(|config| config.security.login_attempts_per_minute_per_ip = 2).await;
    let client = app.anonymous();
    let signup = |n: u32| {
        client.post(
            "/api/v1/auth/signup",
            json!({
                "tenant_name": format!("Shop {n}"),
                "email": format!("owner{n}@shop.test"),
                "password": PASSWORD,
            }),
        )
    };
    assert_eq!(signup(1).await.0, StatusCode::CREATED);
    assert_eq!(signup(2).await.0, StatusCode::CREATED);
    let (status, body) = signup(3).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    let (status, _) = client
        .post("/api/v1/auth/login", json!({"email": "owner1@shop.test", "password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "login shares the address's budget");
}
