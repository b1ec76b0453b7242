//! Only what the tenant's site signed is verified: a signed user id does not vouch for the e-mail
//! typed beside it, endpoints for verified visitors are built from verified values only (checked
//! when saved and again at call time), and the AI is offered only the tools the visitor may use.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use reqwest::StatusCode;
use sb_llm::testing::{FakeModel, Reply};
use serde_json::{Value, json};

use crate::support::{Client, TestApp, api_connection, assert_error};

const SECRET: &str = "identity-secret-0123456789";

/// An account API that answers any e-mail it is asked about, recording each one.
async fn accounts_backend() -> (String, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let router = Router::new().route(
        "/api/accounts",
        get(move |Query(q): Query<std::collections::HashMap<String, String>>| {
            let seen = seen.clone();
            async move {
                let email = q.get("email").cloned().unwrap_or_default();
                seen.lock().unwrap().push(email.clone());
                axum::Json(json!({"email": email, "plan": "Premium"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, asked)
}

async fn app_for(
    url: &str,
    tweak: impl Fn(&mut switchboard::config::Config) + Send + 'static,
) -> TestApp {
    let allow = url.trim_start_matches("http://").to_owned();
    TestApp::sqlite_with(move |c| {
        c.security.ssrf_allow = vec![allow.clone()];
        tweak(c);
    })
    .await
}

async fn account_endpoint(
    owner: &Client,
    connection: &str,
    email_template: &str,
) -> (StatusCode, Value) {
    owner
        .post(
            format!("/api/v1/connections/{connection}/endpoints"),
            json!({
                "name": "get_account", "description": "The visitor's account and plan",
                "method": "GET", "path": "/accounts", "query": {"email": email_template},
                "response_mapping": {"plan": "plan"}, "requires_verified_visitor": true,
                "ai_tool": true
            }),
        )
        .await
}

#[tokio::test]
async fn a_signed_user_id_does_not_verify_the_email_typed_beside_it() {
    let (url, asked) = accounts_backend().await;
    let app = app_for(&url, |_| {}).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let crm = api_connection("CRM", &url, json!({"type": "none"}));
    let connection = &owner.create_connection(crm).await;

    // The endpoint the audit used: verified-only, picking the customer by the typed e-mail.
    let refused = account_endpoint(&owner, connection, "{visitor.email}").await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unverified_variable",
        Some("query.email"),
    );
    assert!(refused.1["error"]["message"].as_str().unwrap().contains("visitor.verified_email"));
    let (status, _) = account_endpoint(&owner, connection, "{visitor.verified_email}").await;
    assert_eq!(status, StatusCode::CREATED);

    let widget = owner.create_widget_with(json!({"name": "Shop", "identity_secret": SECRET})).await;
    owner.create_rule(json!({
        "name": "Plan", "priority": 1, "trigger": {"type": "any"},
        "actions": [
            {"type": "CALL_API", "endpoint_id": endpoint_id(&owner, connection).await,
             "on_error": [{"type": "REPLY_TEXT", "text": "No account details without a signed e-mail."}]},
            {"type": "REPLY_TEXT", "text": "{visitor.verified_email} is on {plan}."}
        ]
    }))
    .await;

    // u-123 signs in and claims vip's address: verified as u-123, the e-mail stays unverified.
    let user_hash = sb_engine::user_hash(SECRET, "u-123");
    let start = json!({"user_id": "u-123", "user_hash": user_hash, "email": "vip@example.com"});
    let (status, started) = app
        .anonymous()
        .post(format!("/api/v1/widget/{widget}/conversations"), json!({"visitor": start.clone()}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(
        (&started["data"]["verified"], &started["data"]["email_verified"]),
        (&json!(true), &json!(false))
    );
    let intruder = app.start_conversation_as(&widget, start).await;
    assert_eq!(
        intruder.say("what plan am I on?").await,
        ["No account details without a signed e-mail."]
    );
    assert!(asked.lock().unwrap().is_empty(), "vip's address never reached the backend");
    let shown = owner.conversation(&intruder.conversation_id).await;
    assert_eq!(shown["visitor"]["verified"], true);
    assert_eq!(shown["visitor"]["email_verified"], false);

    // The site signs the e-mail as well (email_hash): now it is the visitor's own, and used.
    let email_hash = sb_engine::user_hash(SECRET, "ann@example.com");
    let ann = app.start_conversation_as(&widget, json!({"user_id": "u-7", "user_hash": sb_engine::user_hash(SECRET, "u-7"), "email": "ann@example.com", "email_hash": email_hash})).await;
    let replies = ann.say("what plan am I on?").await;
    let events = owner.trace(&ann.conversation_id).await;
    assert_eq!(replies, ["ann@example.com is on Premium."], "{events:?}");
    assert_eq!(*asked.lock().unwrap(), ["ann@example.com"]);

    // A wrong e-mail signature is refused, not ignored.
    let forged = json!({"visitor": {"email": "vip@example.com", "email_hash": sb_engine::user_hash("guess", "vip@example.com")}});
    let forged =
        app.anonymous().post(format!("/api/v1/widget/{widget}/conversations"), forged).await;
    assert_error(
        &forged,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_email_hash",
        Some("visitor.email_hash"),
    );
}

async fn endpoint_id(owner: &Client, connection: &str) -> String {
    let (_, list) = owner.get(format!("/api/v1/connections/{connection}/endpoints")).await;
    list["data"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_connection_header_with_a_typed_value_is_refused_at_call_time() {
    let (url, asked) = accounts_backend().await;
    let app = app_for(&url, |_| {}).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    // The connection's own headers apply to every endpoint, so they are checked at each call.
    let connection = &owner
        .create_connection(json!({"name": "CRM", "base_url": format!("{url}/api"), "auth": {"type": "none"}, "headers": {"X-Customer": "{visitor.email}"}}))
        .await;
    let (status, _) = account_endpoint(&owner, connection, "{visitor.verified_email}").await;
    assert_eq!(status, StatusCode::CREATED);
    let widget = owner.create_widget_with(json!({"name": "Shop", "identity_secret": SECRET})).await;
    owner.create_rule(json!({
        "name": "Plan", "trigger": {"type": "any"},
        "actions": [{"type": "CALL_API", "endpoint_id": endpoint_id(&owner, connection).await,
                     "on_error": [{"type": "REPLY_TEXT", "text": "failed: {api.get_account.error}"}]}]
    }))
    .await;
    let hash = sb_engine::user_hash(SECRET, "ann@example.com");
    let ann = app
        .start_conversation_as(&widget, json!({"email": "ann@example.com", "user_hash": hash}))
        .await;
    assert_eq!(ann.say("my plan?").await, ["failed: unverified_variable"]);
    assert!(asked.lock().unwrap().is_empty());
    let events = owner.trace(&ann.conversation_id).await;
    let call = events.iter().find(|e| e["kind"] == "api_call").unwrap();
    assert_eq!(call["data"]["error"]["code"], "unverified_variable");
    assert!(
        call["data"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("connection.headers.X-Customer")
    );
}

#[tokio::test]
async fn the_ai_is_offered_verified_only_tools_for_verified_visitors_only() {
    let (url, _) = accounts_backend().await;
    let model = FakeModel::start(|_| Reply::Text("Hello!".into())).await;
    let base = model.openai_url();
    let app = app_for(&url, move |c| {
        c.ai.provider = "openai".into();
        c.ai.base_url = base.clone();
        c.ai.model = "fake-model".into();
    })
    .await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let crm = api_connection("CRM", &url, json!({"type": "none"}));
    let connection = &owner.create_connection(crm).await;
    account_endpoint(&owner, connection, "{visitor.verified_email}").await;
    let widget = owner
        .create_widget_with(json!({"name": "Shop", "ai_enabled": true, "identity_secret": SECRET}))
        .await;
    let anonymous = app.start_conversation_as(&widget, json!({"email": "ann@example.com"})).await;
    assert_eq!(anonymous.say("what plan am I on?").await, ["Hello!"]);
    let hash = sb_engine::user_hash(SECRET, "ann@example.com");
    let signed = app
        .start_conversation_as(&widget, json!({"email": "ann@example.com", "user_hash": hash}))
        .await;
    assert_eq!(signed.say("what plan am I on?").await, ["Hello!"]);
    let offered: Vec<Vec<String>> = model
        .requests()
        .iter()
        .filter(|r| r.structured.is_none())
        .map(|r| r.tools.clone())
        .collect();
    assert_eq!(offered, [vec![], vec!["get_account".to_owned()]]);
}
