//! Tenant isolation, driven by the API's own description: for every authenticated operation
//! with an id in its path, another tenant — by session and by API key — asking with the first
//! tenant's id gets 404, and nothing of the first tenant changes. A new route is crawled the
//! day it is registered.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Client, TestApp};

async fn id_of(client: &Client, path: &str, body: Value) -> String {
    client.create(path, body).await["id"].as_str().unwrap().to_owned()
}

/// A body the operation accepts, so that only the id can make it fail.
fn body_for(schema: &str) -> Value {
    match schema {
        "ConnectionInput" => json!({"name": "Mine"}),
        "EndpointInput" => json!({"name": "mine", "method": "GET", "path": "/x"}),
        "AssignInput" => json!({}),
        "MessageInput" => json!({"text": "hello"}),
        "OpenApiImportInput" => {
            json!({"spec": {"openapi": "3.0.0", "paths": {"/mine": {"get": {"operationId": "mine"}}}}})
        }
        "EndpointTestInput" => json!({"variables": {}}),
        "ConnectionTestBody" => json!({"variables": {}}),
        "DocumentInput" => json!({"title": "Mine"}),
        "RuleInput" => json!({"name": "Mine"}),
        "TeamUpdate" => json!({"name": "Mine"}),
        "WidgetInput" => json!({"name": "Mine"}),
        "WebhookUpdate" => json!({"description": "Mine"}),
        "PasswordSet" => json!({"password": "taken over by bob"}),
        "ActionDecisionInput" => json!({"note": "mine now"}),
        "TestCaseUpdate" => json!({"name": "Mine"}),
        "ConversationLabelsInput" => json!({"labels": []}),
        "CannedReplyUpdate" => json!({"text": "Mine"}),
        "ContactUpdate" => json!({"name": "Mine"}),
        "OperatorMessageInput" => json!({"text": "mine", "private": true}),
        "ToolPatch" => json!({"enabled": true}),
        "ChannelInput" => json!({"name": "Mine"}),
        "ChannelTestInput" => json!({}),
        other => panic!("no body for {other}: add one here"),
    }
}

#[tokio::test]
async fn every_route_with_an_id_answers_404_to_another_tenant() {
    for app in TestApp::every_backend().await {
        let alice = app.signup("Alpha", "alice@alpha.test").await;
        let widget = alice.create_widget("Shop").await;
        let connection = alice
            .create_connection(json!({"name": "C", "base_url": "https://api.example.com"}))
            .await;
        let endpoint = alice
            .create_endpoint(
                &connection,
                json!({"name": "get_order", "method": "GET", "path": "/orders"}),
            )
            .await;
        let rule = alice.create_rule(json!({"name": "R", "trigger": {"type": "any"}, "actions": [{"type": "REPLY_TEXT", "text": "x"}]})).await;
        let document =
            id_of(&alice, "/api/v1/kb/documents", json!({"title": "T", "content": "Text"})).await;
        let user = alice.create_user("op@alpha.test", "operator").await;
        let team = alice.create_team(json!({"name": "Support"})).await;
        alice.create_api_key("alpha").await;
        let key =
            alice.get("/api/v1/api-keys").await.1["data"][0]["id"].as_str().unwrap().to_owned();
        // Unread for Alpha: nothing Beta does (reading it included) may change that.
        let visitor = app.start_conversation(&widget).await;
        visitor.say("where is my parcel?").await;
        let (_, sent) = visitor.upload(&[("p.png", crate::attachments::PIXEL)], None).await;
        let attachment = sent["data"]["attachments"][0]["id"].as_str().expect("a file").to_owned();
        let conversation = visitor.conversation_id;
        let contact = alice.conversation(&conversation).await["contact_id"]
            .as_str()
            .expect("a contact")
            .to_owned();
        // A pending action: proposing renders the request, nothing is sent anywhere.
        let delete = alice
            .create_endpoint(
                &connection,
                json!({"name": "cancel_order", "method": "DELETE", "path": "/orders/1"}),
            )
            .await;
        alice.create_rule(json!({"name": "Cancel", "trigger": {"type": "keywords", "any": ["cancel"]}, "actions": [{"type": "CALL_API", "endpoint_id": delete}]})).await;
        app.start_conversation(&widget).await.say("cancel").await;
        let action = alice.get("/api/v1/actions?state=pending").await.1["data"][0]["id"]
            .as_str()
            .expect("a pending action")
            .to_owned();
        let webhook = id_of(
            &alice,
            "/api/v1/webhooks",
            json!({"url": "https://hooks.example.com/in", "events": ["message.created"]}),
        )
        .await;
        let (_, invited) = alice
            .post("/api/v1/invitations", json!({"email": "new@alpha.test", "role": "operator"}))
            .await;
        let invitation = invited["data"]["id"].as_str().unwrap().to_owned();
        let test_case = id_of(
            &alice,
            "/api/v1/test-cases",
            json!({"name": "Hello", "widget_id": widget, "turns": [{"text": "hi"}]}),
        )
        .await;
        let label = id_of(&alice, "/api/v1/labels", json!({"name": "vip"})).await;
        let canned =
            id_of(&alice, "/api/v1/canned-replies", json!({"shortcut": "hi", "text": "Hi"})).await;
        let (_, started) = alice.post("/api/v1/test-runs", json!({})).await;
        let test_run = started["data"]["id"].as_str().expect("a test run").to_owned();
        let channel = id_of(
            &alice,
            "/api/v1/channels",
            json!({"kind": "telegram", "name": "Bot", "widget_id": widget,
                "secrets": {"bot_token": "1:token"}}),
        )
        .await;
        let id_for = |path: &str| -> String {
            let resource = path.trim_start_matches("/api/v1/").split("/{id}").next().unwrap();
            match resource {
                "actions" => &action,
                "api-keys" => &key,
                "connections" => &connection,
                "conversations" => &conversation,
                "endpoints" => &endpoint,
                "invitations" => &invitation,
                "kb/documents" => &document,
                "labels" => &label,
                "canned-replies" => &canned,
                "channels" => &channel,
                "contacts" => &contact,
                "rules" => &rule,
                "teams" => &team,
                "test-cases" => &test_case,
                "test-runs" => &test_run,
                "users" => &user,
                "webhooks" => &webhook,
                "widgets" => &widget,
                other => panic!("no object of {other} to try: add one here"),
            }
            .clone()
        };

        let bob = app.signup("Beta", "bob@beta.test").await;
        let bob_key = app.with_api_key(&bob.create_api_key("beta").await);
        let (_, description) = bob.get("/api/v1/openapi.json").await;
        let mut tried = Vec::new();
        for (path, operations) in description["paths"].as_object().unwrap() {
            for (method, operation) in operations.as_object().unwrap() {
                let authenticated = operation["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s.get("session").is_some()));
                if !path.contains("{id}") || !authenticated {
                    continue;
                }
                let url =
                    path.replace("{id}", &id_for(path)).replace("{attachment_id}", &attachment);
                // An MCP tool's name (the connection's own answers first, 404 for others).
                let url = url.replace("{name}", "order_status");
                let schema =
                    operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                        .as_str()
                        .map(|r| r.rsplit('/').next().unwrap().to_owned());
                let method: Method = method.to_uppercase().parse().unwrap();
                for client in [&bob, &bob_key] {
                    let mut request = client.request(method.clone(), &url);
                    if let Some(schema) = &schema {
                        request = request.json(&body_for(schema));
                    }
                    let (status, answer) = client.send(request).await;
                    assert_eq!(
                        (status, answer["error"]["code"].as_str()),
                        (StatusCode::NOT_FOUND, Some("not_found")),
                        "{} {method} {url}: {answer}",
                        app.backend
                    );
                }
                tried.push(format!("{method} {path}"));
            }
        }
        assert!(tried.len() >= 50, "crawled only {tried:?}");
        let read = "POST /api/v1/conversations/{id}/read".to_owned();
        assert!(tried.contains(&read), "{read} was not crawled: {tried:?}");

        // Nothing of Alpha's changed or went away.
        for path in [
            format!("/api/v1/widgets/{widget}"),
            format!("/api/v1/connections/{connection}"),
            format!("/api/v1/endpoints/{endpoint}"),
            format!("/api/v1/rules/{rule}"),
            format!("/api/v1/kb/documents/{document}"),
            format!("/api/v1/teams/{team}"),
            format!("/api/v1/users/{user}"),
            format!("/api/v1/conversations/{conversation}"),
            format!("/api/v1/webhooks/{webhook}"),
        ] {
            let (status, answer) = alice.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {answer}");
            assert_ne!(answer["data"]["name"], "Mine", "{path} was changed by another tenant");
        }
        let (_, listed) = alice.get("/api/v1/conversations").await;
        let item = listed["data"].as_array().unwrap().iter().find(|c| c["id"] == conversation);
        assert_eq!(item.unwrap()["unread"], true, "read for Alpha by another tenant");
        let (_, messages) =
            alice.get(format!("/api/v1/conversations/{conversation}/messages")).await;
        assert!(messages["data"].as_array().unwrap().iter().all(|m| m["text"] != "hello"));
        assert_eq!(alice.get("/api/v1/api-keys").await.1["data"].as_array().unwrap().len(), 1);
        let (_, hook) = alice.get(format!("/api/v1/webhooks/{webhook}")).await;
        assert_ne!(hook["data"]["description"], "Mine");
        assert!(hook["data"]["previous_secret_expires_at"].is_null(), "the secret was not rotated");
        let (_, log) = alice.get(format!("/api/v1/webhooks/{webhook}/deliveries")).await;
        assert!(log["data"].as_array().unwrap().is_empty(), "no test event was queued");
    }
}
