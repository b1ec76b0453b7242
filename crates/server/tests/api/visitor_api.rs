//! The visitor API: starting conversations, tokens scoped to one conversation, allowed origins,
//! CORS, identity verification, synchronous replies and limits.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, assert_error};

#[tokio::test]
async fn a_visitor_token_opens_its_own_conversation_only() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget =
            owner.create_widget_with(json!({"name": "Shop", "greeting": "Hi there!"})).await;
        let (status, config) =
            app.anonymous().get(&format!("/api/v1/widget/{widget}/config")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(config["data"]["greeting"], "Hi there!");
        assert!(
            config["data"].get("tenant_id").is_none(),
            "the public config reveals nothing internal"
        );

        let ann = app
            .start_conversation_as(
                &widget,
                json!({"name": "Ann", "email": "Ann@Example.com", "language": "DE"}),
            )
            .await;
        let bob = app.start_conversation(&widget).await;
        let (status, posted) = ann
            .client
            .send(ann.request(Method::POST, "/messages").json(&json!({"text": "  hello  "})))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{posted}");
        assert_eq!(posted["data"]["text"], "hello");
        assert_eq!(posted["data"]["author"], "visitor");
        assert_eq!(posted["data"]["seq"], 1);

        // Bob's token does not open Ann's conversation; no token, no access.
        let anns_messages = || ann.client.request(Method::GET, &ann.path("/messages"));
        let cross = anns_messages().bearer_auth(&bob.token);
        assert_error(&ann.client.send(cross).await, StatusCode::NOT_FOUND, "not_found", None);
        let unauthenticated = StatusCode::UNAUTHORIZED;
        let none = anns_messages();
        assert_error(&ann.client.send(none).await, unauthenticated, "unauthenticated", None);
        let forged = anns_messages().bearer_auth("sbv_forged");
        assert_error(&ann.client.send(forged).await, unauthenticated, "unauthenticated", None);
        // A tenant API key is not a visitor token either.
        let key = owner.create_api_key("ci").await;
        let with_key = anns_messages().bearer_auth(&key);
        assert_error(&ann.client.send(with_key).await, unauthenticated, "unauthenticated", None);

        let messages = ann.messages().await;
        assert_eq!(messages.len(), 1);
        let after = format!("/messages?after={}", messages[0]["id"].as_str().unwrap());
        assert_eq!(ann.client.send(ann.request(Method::GET, &after)).await.1["data"], json!([]));

        let (_, shown) = owner.get(&format!("/api/v1/conversations/{}", ann.conversation_id)).await;
        assert_eq!(shown["data"]["visitor"]["email"], "ann@example.com");
        assert_eq!(shown["data"]["visitor_language"], "de");
        assert_eq!(shown["data"]["visitor"]["verified"], false);
        // The message was stored before the 202.
        let (_, listed) =
            owner.get(&format!("/api/v1/conversations/{}/messages", ann.conversation_id)).await;
        assert_eq!(listed["data"][0]["text"], "hello");
    }
}

#[tokio::test]
async fn visitor_input_is_validated() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    let client = app.anonymous();
    let start = |visitor| {
        client.post(format!("/api/v1/widget/{widget}/conversations"), json!({"visitor": visitor}))
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    assert_error(
        &start(json!({"email": "not-an-email"})).await,
        unprocessable,
        "invalid_email",
        Some("visitor.email"),
    );
    assert_error(
        &start(json!({"language": "de_DE!"})).await,
        unprocessable,
        "invalid_language",
        Some("visitor.language"),
    );
    assert_error(
        &start(json!({"nickname": "x"})).await,
        unprocessable,
        "unknown_field",
        Some("visitor.nickname"),
    );
    let (status, _) = client
        .send(client.request(Method::POST, &format!("/api/v1/widget/{widget}/conversations")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "a visitor may start without a body");
    assert_error(
        &client
            .post("/api/v1/widget/wid_00000000000000000000000000/conversations", json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );

    let visitor = app.start_conversation(&widget).await;
    let send = |text: &str, wait: &str| {
        visitor.request(Method::POST, &format!("/messages{wait}")).json(&json!({"text": text}))
    };
    assert_error(
        &visitor.client.send(send("   ", "")).await,
        unprocessable,
        "required",
        Some("text"),
    );
    assert_error(
        &visitor.client.send(send(&"x".repeat(4001), "")).await,
        unprocessable,
        "too_long",
        Some("text"),
    );
    assert_error(
        &visitor.client.send(send("hi", "?wait_ms=30001")).await,
        unprocessable,
        "invalid_field",
        Some("wait_ms"),
    );

    // Inactive widgets take no new conversations.
    owner.patch(&format!("/api/v1/widgets/{widget}"), json!({"active": false})).await;
    assert_error(&start(json!({})).await, StatusCode::NOT_FOUND, "not_found", None);
}

#[tokio::test]
async fn allowed_origins_are_enforced_and_cors_answers_preflights() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner
        .create_widget_with(
            json!({"name": "Shop", "allowed_origins": ["https://shop.example.com"]}),
        )
        .await;
    let http = &app.anonymous().http;
    let url = format!("{}/api/v1/widget/{widget}/conversations", app.base);
    let ok = http
        .post(&url)
        .header("origin", "https://shop.example.com")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://shop.example.com");
    let token = ok.json::<serde_json::Value>().await.unwrap()["data"]["visitor_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let evil = http
        .post(&url)
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = evil.json().await.unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed");
    // Server-side integrations send no Origin and are not browsers: allowed.
    assert_eq!(
        http.post(&url).json(&json!({})).send().await.unwrap().status(),
        StatusCode::CREATED
    );

    let preflight = http
        .request(Method::OPTIONS, &url)
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert!(
        preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );

    // The token's conversation is held to the same origins.
    let conversations: Vec<serde_json::Value> =
        owner.get("/api/v1/conversations").await.1["data"].as_array().unwrap().clone();
    let id = conversations.last().unwrap()["id"].as_str().unwrap().to_owned();
    let messages = format!("{}/api/v1/widget/conversations/{id}/messages", app.base);
    let from_evil = http
        .get(&messages)
        .bearer_auth(&token)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(from_evil.status(), StatusCode::FORBIDDEN);
    let from_shop = http
        .get(&messages)
        .bearer_auth(&token)
        .header("origin", "https://shop.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(from_shop.status(), StatusCode::OK);
}

#[tokio::test]
async fn only_a_valid_signature_verifies_a_visitor() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let secret = "a-long-random-identity-secret";
    let signed =
        owner.create_widget_with(json!({"name": "Signed", "identity_secret": secret})).await;
    let plain = owner.create_widget("Plain").await;
    let (_, shown) = owner.get(&format!("/api/v1/widgets/{signed}")).await;
    assert_eq!(shown["data"]["identity_secret_set"], true);
    assert!(!shown.to_string().contains(secret));

    let client = app.anonymous();
    let start = |widget: &str, visitor| {
        client.post(format!("/api/v1/widget/{widget}/conversations"), json!({"visitor": visitor}))
    };
    let by_id =
        start(&signed, json!({"user_id": "u-1", "user_hash": sb_engine::user_hash(secret, "u-1")}))
            .await;
    assert_eq!(by_id.1["data"]["verified"], true, "{}", by_id.1);
    let by_email = start(&signed, json!({"email": "boss@acme.test", "user_hash": sb_engine::user_hash(secret, "boss@acme.test")})).await;
    assert_eq!(by_email.1["data"]["verified"], true);
    let forged = start(&signed, json!({"email": "boss@acme.test", "user_hash": sb_engine::user_hash("guess", "boss@acme.test")})).await;
    assert_error(
        &forged,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_user_hash",
        Some("visitor.user_hash"),
    );
    let claimed = start(&signed, json!({"email": "boss@acme.test"})).await;
    assert_eq!(claimed.1["data"]["verified"], false, "typing an e-mail verifies nothing");
    let no_secret =
        start(&plain, json!({"user_id": "u-1", "user_hash": sb_engine::user_hash(secret, "u-1")}))
            .await;
    assert_eq!(no_secret.1["data"]["verified"], false, "a widget without a secret verifies no one");
}

#[tokio::test]
async fn waiting_returns_the_replies_and_visitor_messages_are_rate_limited() {
    let app =
        TestApp::sqlite_with(|c| c.security.visitor_messages_per_minute_per_conversation = 3).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    owner.create_rule(json!({"name": "Echo", "trigger": {"type": "any"}, "actions": [{"type": "REPLY_TEXT", "text": "You said: {message.text}"}]})).await;
    let visitor = app.start_conversation(&widget).await;
    let (status, body) = visitor.say_raw("one", 5000).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["message"]["text"], "one");
    assert_eq!(body["data"]["replies"][0]["text"], "You said: one");
    assert_eq!(body["data"]["replies"][0]["author"], "bot");
    assert_eq!(body["data"]["finished"], true);
    assert_eq!(visitor.say("two").await, vec!["You said: two"]);
    visitor.say("three").await;
    let (status, body) = visitor.say_raw("four", 1000).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(visitor.messages().await.len(), 6, "the refused message was not stored");
}

#[tokio::test]
async fn a_widget_has_its_own_caps_on_conversations_and_messages_whatever_the_addresses() {
    let app = TestApp::sqlite_with(|c| {
        c.security.visitor_conversations_per_minute_per_widget = 2;
        c.security.visitor_messages_per_minute_per_widget = 3;
    })
    .await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let busy = owner.create_widget("Busy").await;
    let quiet = owner.create_widget("Quiet").await;
    let first = app.start_conversation(&busy).await;
    let second = app.start_conversation(&busy).await;
    let path = format!("/api/v1/widget/{busy}/conversations");
    let third = app.anonymous().post(&path, json!({})).await;
    assert_error(&third, StatusCode::TOO_MANY_REQUESTS, "rate_limited", None);
    app.start_conversation(&quiet).await; // another widget is not affected

    for (visitor, text) in [(&first, "a"), (&second, "b"), (&first, "c")] {
        // Accepted (202), or already answered (200) when the engine was that quick.
        assert!(visitor.say_raw(text, 0).await.0.is_success());
    }
    let (status, body) = second.say_raw("d", 0).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the widget's fourth message: {body}");
}
