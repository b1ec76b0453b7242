//! Two nodes on one PostgreSQL database and one NATS server: a visitor on one node and an
//! operator on the other see each other live, and a visitor who reconnects to the other node
//! resumes without loss. Runs when `TEST_POSTGRES_URL` and `TEST_NATS_URL` are set (CI sets
//! both and `SWITCHBOARD_REQUIRE_NATS=1`, so it cannot skip).

use std::time::Duration;

use futures_util::SinkExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::chat::{Visitor, create_rule, create_widget};
use crate::realtime::{connect, next, operator_socket, until};
use crate::support::TestApp;

/// Two nodes joined by NATS, or `None` (with a note) when the services are not configured.
async fn two_nodes() -> Option<(TestApp, TestApp)> {
    let nats = std::env::var("TEST_NATS_URL").ok();
    let required = std::env::var("SWITCHBOARD_REQUIRE_NATS").is_ok_and(|v| v == "1");
    let Some(nats) = nats else {
        assert!(!required, "SWITCHBOARD_REQUIRE_NATS=1 but TEST_NATS_URL is not set");
        eprintln!("note: TEST_NATS_URL not set; the two-node tests are skipped");
        return None;
    };
    let Some(first) = TestApp::postgres_with(|c| c.bus.url = nats.clone()).await else {
        assert!(!required, "the two-node tests need TEST_POSTGRES_URL");
        eprintln!("note: TEST_POSTGRES_URL not set; the two-node tests are skipped");
        return None;
    };
    let second = first.another_node().await;
    for node in [&first, &second] {
        wait_for_bus(node).await;
    }
    Some((first, second))
}

/// Until the node says its bus is connected (its health answer).
async fn wait_for_bus(node: &TestApp) {
    for _ in 0..200 {
        let (_, health) = node.anonymous().get("/healthz").await;
        if health["bus"] == "connected" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the node at {} never joined the bus", node.base);
}

#[tokio::test]
async fn a_visitor_on_one_node_and_an_operator_on_another_see_each_other_live() {
    let Some((a, b)) = two_nodes().await else { return };
    let owner = a.signup("Acme", "owner@acme.test").await;
    let key = owner.create_api_key("nodes").await;
    let operator_on_b = b.with_api_key(&key);
    let widget = create_widget(&owner, json!({"name": "Shop"})).await;
    create_rule(&owner, json!({"name": "echo", "trigger": {"type": "keywords", "any": ["ping"]}, "actions": [{"type": "REPLY_TEXT", "text": "pong"}]})).await;
    let mut operators = operator_socket(&b, &key).await;

    let visitor = Visitor::start(&a, &widget, json!({"name": "Ann"})).await;
    let created = until(&mut operators, "conversation_created").await;
    assert_eq!(created["conversation_id"], visitor.conversation_id.as_str());
    let path = format!(
        "/api/v1/widget/conversations/{}/ws?token={}",
        visitor.conversation_id, visitor.token
    );
    let mut feed = connect(&a, &path, &[]).await.unwrap();

    // The visitor writes on A; the operator on B sees the message and the bot's answer.
    assert_eq!(visitor.say("ping").await, ["pong"]);
    assert_eq!(until(&mut operators, "message_created").await["message"]["text"], "ping");
    assert_eq!(until(&mut operators, "message_created").await["message"]["text"], "pong");

    // The operator, on B, types and replies; the visitor, on A, sees both.
    let typing =
        json!({"type": "typing", "conversation_id": visitor.conversation_id, "typing": true});
    operators.send(Frame::Text(typing.to_string().into())).await.unwrap();
    assert_eq!(until(&mut feed, "typing").await["typing"], true);
    let reply = format!("/api/v1/conversations/{}/messages", visitor.conversation_id);
    let (status, sent) = operator_on_b.post(&reply, json!({"text": "Hello from B"})).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    // The reply and the assignment it made, in whichever order they come.
    let (mut replied, mut assigned) = (false, false);
    while !(replied && assigned) {
        let event: Value = next(&mut feed).await;
        replied |= event["type"] == "message" && event["message"]["text"] == "Hello from B";
        assigned |= event["type"] == "conversation_updated" && event["status"] == "pending";
    }

    // The visitor drops off A and comes back on B from the last message seen: nothing lost.
    let last_seen = sent["data"]["id"].as_str().unwrap().to_owned();
    drop(feed);
    for text in ["First while away", "Second while away"] {
        let (status, _) = operator_on_b.post(&reply, json!({"text": text})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut resumed = connect(&b, &format!("{path}&after={last_seen}"), &[]).await.unwrap();
    let first = until(&mut resumed, "message").await;
    let second = until(&mut resumed, "message").await;
    assert_eq!(
        (first["message"]["text"].clone(), second["message"]["text"].clone()),
        (json!("First while away"), json!("Second while away"))
    );
}
