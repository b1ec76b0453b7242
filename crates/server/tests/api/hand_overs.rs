//! A hand-over never goes to nobody silently: a new account's owner is available and gets the
//! conversation; with nobody available the visitor is told so (and where the answer will come),
//! and the team hears of it through the `conversation.unattended` webhook.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Client, TestApp, kinds};

const CONNECTED: &str =
    "You're being connected with a member of our team. They will reply here shortly.";

/// A shop whose "human" rule hands over to whoever is available.
async fn shop(app: &TestApp) -> (Client, String) {
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    owner
        .create_rule(
            json!({"name": "A person, please", "trigger": {"type": "keywords", "any": ["human"]},
            "actions": [{"type": "ASSIGN_TO_OPERATOR"}]}),
        )
        .await;
    (owner, widget)
}

#[tokio::test]
async fn a_new_owner_is_available_and_the_first_hand_over_reaches_them() {
    for app in TestApp::every_backend().await {
        let (owner, widget) = shop(&app).await;
        let me = owner.me().await;
        assert_eq!(me["user"]["available"], true, "{me}");
        let visitor = app.start_conversation(&widget).await;
        assert_eq!(visitor.say("a human please").await, [CONNECTED]);
        let conversation = owner.conversation(&visitor.conversation_id).await;
        assert_eq!(conversation["assigned_to"], me["user"]["id"], "{conversation}");
        let trace = owner.trace(&visitor.conversation_id).await;
        let assigned = trace.iter().find(|e| e["kind"] == "assigned").unwrap();
        assert_eq!(assigned["data"]["attended"], true, "{assigned}");
    }
}

#[tokio::test]
async fn with_nobody_available_the_visitor_is_told_and_the_team_hears_of_it() {
    let (hooks, received) = crate::support::webhook_receiver().await;
    let allow = vec![hooks.to_string()];
    for app in TestApp::every_backend_with(|config| {
        config.security.ssrf_allow = allow.clone();
        config.webhooks.poll_interval_ms = 50;
    })
    .await
    {
        received.lock().unwrap().clear();
        let (owner, widget) = shop(&app).await;
        let events = ["conversation.unattended", "conversation.assigned"];
        let url = format!("http://{hooks}/hooks");
        let (status, body) =
            owner.post("/api/v1/webhooks", json!({"url": url, "events": events})).await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        let (status, body) =
            owner.put("/api/v1/me/availability", json!({"available": false})).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");

        let anonymous = app.start_conversation(&widget).await;
        assert_eq!(
            anonymous.say("I need a human").await,
            [
                "Nobody from our team is available right now. Your message is waiting for them, and someone will reply here as soon as they're back."
            ]
        );
        let conversation = owner.conversation(&anonymous.conversation_id).await;
        assert_eq!(
            (&conversation["status"], &conversation["assigned_to"]),
            (&json!("pending"), &Value::Null)
        );
        let trace = owner.trace(&anonymous.conversation_id).await;
        assert!(kinds(&trace).contains(&"assigned".to_owned()));
        let assigned = trace.iter().find(|e| e["kind"] == "assigned").unwrap();
        assert_eq!(assigned["data"]["attended"], false, "{assigned}");

        // The address they gave is where the answer is promised, in their language.
        let known = json!({"email": "ann@example.com", "language": "de"});
        let ann = app.start_conversation_as(&widget, known).await;
        assert_eq!(
            ann.say("ein human bitte").await,
            [
                "Gerade ist niemand aus unserem Team erreichbar. Ihre Nachricht wartet auf uns, und jemand antwortet Ihnen an ann@example.com, sobald wir wieder da sind."
            ]
        );

        let deadline = Instant::now() + Duration::from_secs(10);
        let unattended = loop {
            let bodies = received.lock().unwrap().clone();
            let found: Vec<Value> =
                bodies.into_iter().filter(|b| b["type"] == "conversation.unattended").collect();
            if found.len() == 2 || Instant::now() > deadline {
                break found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let ids: Vec<&Value> =
            unattended.iter().map(|b| &b["data"]["conversation"]["id"]).collect();
        assert!(ids.contains(&&json!(anonymous.conversation_id)), "{unattended:?}");
        assert!(ids.contains(&&json!(ann.conversation_id)), "{unattended:?}");

        // Back again: the next hand-over reaches the owner, and no unattended event comes.
        owner.make_available().await;
        let later = app.start_conversation(&widget).await;
        assert_eq!(later.say("human").await, [CONNECTED]);
        let assigned_events = || {
            received.lock().unwrap().iter().filter(|b| b["type"] == "conversation.assigned").count()
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while assigned_events() < 3 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(assigned_events(), 3, "every hand-over is an assignment");
        let count = received
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "conversation.unattended")
            .count();
        assert_eq!(count, 2, "an attended hand-over is not unattended");
    }
}
