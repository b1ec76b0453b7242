//! The inbox list: conversations by latest activity, each with the first line of its newest
//! message and whether the person asking has read what the visitor wrote; read marks per
//! person and per tenant; what names an anonymous visitor, and how that input is checked.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Client, PASSWORD, TestApp, Visitor, assert_error};

const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/131.0.0.0 Safari/537.36";

/// The conversations `client` sees, in the list's order.
async fn listed(client: &Client, query: &str) -> Vec<Value> {
    let (status, body) = client.get(format!("/api/v1/conversations{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

async fn names(client: &Client) -> Vec<String> {
    let items = listed(client, "").await;
    items.iter().map(|c| c["visitor"]["name"].as_str().unwrap_or("?").to_owned()).collect()
}

/// Whether `client` sees conversation `id` as unread.
async fn unread(client: &Client, id: &str) -> bool {
    let items = listed(client, "").await;
    let item = items.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("{id} not listed"));
    item["unread"].as_bool().unwrap()
}

async fn mark_read(client: &Client, id: &str) -> (StatusCode, Value) {
    client.post(format!("/api/v1/conversations/{id}/read"), json!({})).await
}

#[tokio::test]
async fn the_list_goes_by_latest_activity_and_shows_the_newest_first_line() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        let olga = app.start_conversation_as(&widget, json!({"name": "Olga"})).await;
        let nina = app.start_conversation_as(&widget, json!({"name": "Nina"})).await;
        assert_eq!(names(&owner).await, ["Nina", "Olga"], "no messages yet: the newest first");
        assert!(listed(&owner, "").await.iter().all(|c| c["last_message"].is_null()));

        assert!(olga.say("Where is my order?\nIt is 4521.").await.is_empty(), "nobody answers");
        assert_eq!(names(&owner).await, ["Olga", "Nina"], "a message moves it up");
        let top = &listed(&owner, "").await[0];
        assert_eq!(top["last_message"]["text"], "Where is my order?");
        assert_eq!(top["last_message"]["author"], "visitor");
        assert_eq!(top["last_message"]["created_at"], top["last_message_at"]);

        nina.say(&format!("{} and more", "ä".repeat(300))).await;
        let top = &listed(&owner, "").await[0];
        assert_eq!(top["visitor"]["name"], "Nina");
        let text = top["last_message"]["text"].as_str().unwrap();
        assert_eq!(text.chars().count(), 140, "{text}");
        assert!(text.ends_with('…'), "{text}");

        let (_, reply) = owner
            .post(
                format!("/api/v1/conversations/{}/messages", olga.conversation_id),
                json!({"text": "Let me look.\nOne moment."}),
            )
            .await;
        let top = &listed(&owner, "").await[0];
        assert_eq!(top["visitor"]["name"], "Olga", "an operator's reply is activity too");
        assert_eq!(top["last_message"]["text"], "Let me look.");
        assert_eq!(top["last_message"]["author"], "operator");
        assert_eq!(top["last_message"]["author_user_id"], reply["data"]["author_user_id"]);

        // One at a time, the pages follow the same order and end.
        let third = app.start_conversation_as(&widget, json!({"name": "Tom"})).await;
        let mut paged = Vec::new();
        let mut query = "?limit=1".to_owned();
        loop {
            let (_, page) = owner.get(format!("/api/v1/conversations{query}")).await;
            paged.extend(page["data"].as_array().unwrap().iter().map(|c| c["id"].clone()));
            let Some(next) = page["next"].as_str() else { break };
            query = format!("?limit=1&cursor={next}");
        }
        let ids = [&third, &olga, &nina].map(|v| json!(v.conversation_id));
        assert_eq!(paged, ids, "{}", app.backend);
        assert_error(
            &owner.get("/api/v1/conversations?cursor=cnv_00000000000000000000000000").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("cursor"),
        );
    }
}

#[tokio::test]
async fn a_visitor_message_is_unread_for_each_person_until_they_read_it() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        owner.create_user("ann@acme.test", "operator").await;
        let ann = app.login("ann@acme.test", PASSWORD).await;
        let owner_key = app.with_api_key(&owner.create_api_key("integration").await);
        let widget = owner.create_widget("Shop").await;
        let visitor = app.start_conversation(&widget).await;
        let id = visitor.conversation_id.as_str();
        assert!(!unread(&owner, id).await, "nothing written yet");

        visitor.say("Hello?").await;
        assert!(unread(&owner, id).await && unread(&ann, id).await);
        let (status, body) = mark_read(&owner, id).await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, json!("")));
        assert!(!unread(&owner, id).await);
        assert!(unread(&ann, id).await, "Ann has not read it yet");
        assert!(!unread(&owner_key, id).await, "a key reads as the person who made it");

        owner.post(format!("/api/v1/conversations/{id}/messages"), json!({"text": "Hi!"})).await;
        assert!(!unread(&owner, id).await, "an operator's reply is nothing new to read");
        visitor.say("Are you there?").await;
        assert!(unread(&owner, id).await, "the visitor's new message is");
        assert_eq!(mark_read(&ann, id).await.0, StatusCode::NO_CONTENT);
        assert_eq!(mark_read(&ann, id).await.0, StatusCode::NO_CONTENT, "twice is fine");
        assert!(!unread(&ann, id).await);
        assert!(unread(&owner, id).await, "Ann's reading is hers");
    }
}

#[tokio::test]
async fn another_tenant_cannot_mark_a_conversation_read() {
    for app in TestApp::every_backend().await {
        let alpha = app.signup("Alpha", "owner@alpha.test").await;
        let widget = alpha.create_widget("W").await;
        let visitor = app.start_conversation(&widget).await;
        visitor.say("hello").await;
        let id = visitor.conversation_id.as_str();
        let beta = app.signup("Beta", "owner@beta.test").await;
        let beta_key = app.with_api_key(&beta.create_api_key("k").await);
        for other in [&beta, &beta_key] {
            assert_error(&mark_read(other, id).await, StatusCode::NOT_FOUND, "not_found", None);
            assert!(listed(other, "").await.is_empty());
        }
        assert!(unread(&alpha, id).await, "still unread for Alpha");
        let (status, _) = mark_read(&alpha, "cnv_00000000000000000000000000").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

/// Starts a conversation with `visitor` as the body's visitor and `user_agent` as the
/// browser's; the answer as it came.
async fn start(app: &TestApp, widget: &str, visitor: Value, agent: &str) -> (StatusCode, Value) {
    let client = app.anonymous();
    let request = client
        .request(Method::POST, &format!("/api/v1/widget/{widget}/conversations"))
        .header("user-agent", agent)
        .json(&json!({"visitor": visitor}));
    client.send(request).await
}

#[tokio::test]
async fn an_anonymous_visitor_is_known_by_time_zone_and_browser_which_are_checked() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        let (status, started) =
            start(&app, &widget, json!({"time_zone": "Europe/Berlin"}), CHROME).await;
        assert_eq!(status, StatusCode::CREATED, "{started}");
        let id = started["data"]["conversation_id"].as_str().unwrap();
        let item = listed(&owner, "").await.remove(0);
        assert_eq!(item["visitor"]["time_zone"], "Europe/Berlin");
        assert_eq!(item["visitor"]["browser"], "Chrome");
        assert_eq!(owner.conversation(id).await["visitor"]["browser"], "Chrome");

        // Neither is a variable that rules or endpoint calls could use.
        let token = started["data"]["visitor_token"].as_str().unwrap().to_owned();
        let visitor = Visitor { client: app.anonymous(), conversation_id: id.to_owned(), token };
        visitor.say("hello").await;
        let variables = owner.conversation(id).await["variables"].to_string();
        assert!(!variables.contains("Berlin") && !variables.contains("Chrome"), "{variables}");

        // A script is not a browser; a body cannot claim one.
        let (_, scripted) = start(&app, &widget, json!({}), "curl/8.5.0").await;
        let scripted = scripted["data"]["conversation_id"].as_str().unwrap().to_owned();
        assert!(owner.conversation(&scripted).await["visitor"].get("browser").is_none());
        let claimed = start(&app, &widget, json!({"browser": "Chrome"}), CHROME).await;
        let unknown = "unknown_field";
        assert_error(&claimed, StatusCode::UNPROCESSABLE_ENTITY, unknown, Some("visitor.browser"));

        for zone in ["Berlin, Germany", "../../etc/passwd", "Europe//Berlin"] {
            assert_error(
                &start(&app, &widget, json!({"time_zone": zone}), CHROME).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_time_zone",
                Some("visitor.time_zone"),
            );
        }
        let long = format!("Europe/{}", "x".repeat(64));
        assert_error(
            &start(&app, &widget, json!({"time_zone": long}), CHROME).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("visitor.time_zone"),
        );
        assert_eq!(listed(&owner, "").await.len(), 2, "refused starts left nothing behind");
    }
}
