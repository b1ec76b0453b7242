//! Private notes: operators write them in a conversation, the account's people see them in
//! place, and nothing that serves the visitor — their API, their socket, the AI answering them,
//! `message.created` webhooks — ever carries one.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sb_llm::testing::{FakeModel, Reply};
use serde_json::{Value, json};

use crate::realtime::{connect, next};
use crate::support::{TestApp, assert_error};

const SECRET: &str = "NOTE-4711: refund already approved by finance";

#[tokio::test]
async fn a_note_reaches_the_team_in_place_and_never_the_visitor_or_the_ai() {
    let (hooks, received) = crate::support::webhook_receiver().await;
    let model = FakeModel::start(|_| Reply::Text("Happy to help.".into())).await;
    let (allow, base) = (vec![hooks.to_string()], model.openai_url());
    for app in TestApp::every_backend_with(|c| {
        c.ai.provider = "openai".into();
        c.ai.base_url = base.clone();
        c.ai.model = "fake".into();
        c.security.ssrf_allow = allow.clone();
        c.webhooks.poll_interval_ms = 50;
    })
    .await
    {
        received.lock().unwrap().clear();
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget_with(json!({"name": "Shop", "ai_enabled": true})).await;
        let url = format!("http://{hooks}/hooks");
        let events = ["message.created", "note.created"];
        owner.create("/api/v1/webhooks", json!({"url": url, "events": events})).await;
        let visitor = app.start_conversation(&widget).await;
        let path = format!(
            "/api/v1/widget/conversations/{}/ws?token={}",
            visitor.conversation_id, visitor.token
        );
        let mut feed = connect(&app, &path, &[]).await.unwrap();
        assert_eq!(visitor.say("Where is my refund?").await, ["Happy to help."]);

        let notes = format!("/api/v1/conversations/{}/messages", visitor.conversation_id);
        let (status, note) = owner.post(&notes, json!({"text": SECRET, "private": true})).await;
        assert_eq!(status, StatusCode::CREATED, "{note}");
        let note = note["data"].clone();
        assert_eq!(
            (&note["author"], &note["private"], &note["seq"]),
            (&json!("operator"), &json!(true), &json!(2))
        );
        // A note changes nothing about who has the conversation.
        let conversation = owner.conversation(&visitor.conversation_id).await;
        assert_eq!(
            (&conversation["status"], &conversation["assigned_to"]),
            (&json!("open"), &Value::Null)
        );

        assert_eq!(visitor.say("Any news?").await, ["Happy to help."]);
        let (_, listed) = owner.get(&notes).await;
        let texts: Vec<&str> = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            texts,
            ["Where is my refund?", "Happy to help.", SECRET, "Any news?", "Happy to help."]
        );
        let (_, after_note) =
            owner.get(format!("{notes}?after={}", note["id"].as_str().unwrap())).await;
        assert_eq!(after_note["data"][0]["text"], "Any news?", "{after_note}");

        // The visitor's side: their list, their socket, and the AI answering them.
        let seen = visitor.messages().await;
        assert_eq!(seen.len(), 4, "{seen:?}");
        assert!(!format!("{seen:?}").contains("NOTE-4711"));
        let mut socket_events = Vec::new();
        while socket_events.iter().filter(|e: &&Value| e["type"] == "message").count() < 4 {
            socket_events.push(next(&mut feed).await);
        }
        assert!(!json!(socket_events).to_string().contains("NOTE-4711"), "{socket_events:?}");
        assert!(model.requests().iter().all(|r| !r.body.to_string().contains("NOTE-4711")));

        // Webhooks: the note is its own event; no `message.created` carries it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !received.lock().unwrap().iter().any(|b| b["type"] == "note.created") {
            assert!(Instant::now() < deadline, "no note.created webhook");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let bodies = received.lock().unwrap().clone();
        let delivered = bodies.iter().find(|b| b["type"] == "note.created").unwrap();
        assert_eq!(delivered["data"]["note"]["text"], SECRET);
        assert!(
            bodies
                .iter()
                .filter(|b| b["type"] == "message.created")
                .all(|b| !b.to_string().contains("NOTE-4711"))
        );

        // Empty notes are refused; another account cannot write one.
        let empty = owner.post(&notes, json!({"text": " ", "private": true})).await;
        assert_error(&empty, StatusCode::UNPROCESSABLE_ENTITY, "required", Some("text"));
        let stranger = app.signup("Beta", "bob@beta.test").await;
        let (status, _) = stranger.post(&notes, json!({"text": "hi", "private": true})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = stranger.get(&notes).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
