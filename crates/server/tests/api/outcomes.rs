//! What analytics reads of conversations: the source of each assistant reply, and how each
//! conversation ended — decided as it closes, undecided when it opens again, changed by a bad
//! rating (docs/analytics.md).

use reqwest::StatusCode;
use sb_llm::testing::{FakeModel, Reply};
use serde_json::{Value, json};

use crate::support::{Client, TestApp, Visitor};

fn reply(text: &str) -> Value {
    json!({"type": "REPLY_TEXT", "text": text})
}

/// The sources of the assistant's replies in the conversation, in order.
async fn sources(owner: &Client, visitor: &Visitor) -> Vec<String> {
    let (_, messages) =
        owner.get(format!("/api/v1/conversations/{}/messages", visitor.conversation_id)).await;
    let bot = messages["data"].as_array().unwrap().iter().filter(|m| m["author"] == "bot");
    bot.map(|m| m["source"].as_str().unwrap_or("none").to_owned()).collect()
}

#[tokio::test]
async fn each_reply_says_which_source_answered_it() {
    let model = FakeModel::start(|seen| {
        if seen.last_user_text.contains("broken") {
            Reply::Status(500, json!({"error": "down"}))
        } else {
            Reply::Text("The AI says hello.".into())
        }
    })
    .await;
    let (backend, _) = crate::test_runs::watched_backend().await;
    let app = crate::ai::openai_app(&model, vec![backend.to_string()]).await;
    let (owner, widget, endpoint) = crate::test_runs::shop(&app, backend).await;
    owner.patch(format!("/api/v1/widgets/{widget}"), json!({"ai_enabled": true})).await;
    crate::kb::add_document(&owner, json!({"title": "Returns", "content": "# Returns\nYou can return any lamp within 30 days for a full refund."})).await;
    for (priority, words, actions) in [
        (1, "hours", vec![reply("We open at 9.")]),
        (
            2,
            "order",
            vec![
                json!({"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "(\\d{4})"}}),
                json!({"type": "CALL_API", "endpoint_id": endpoint}),
                reply("Order {order_id}: {order_status}."),
            ],
        ),
        (3, "return", vec![json!({"type": "REPLY_KB"})]),
        (
            4,
            "warranty",
            vec![json!({"type": "REPLY_KB", "fallback": "Ask the team about the warranty."})],
        ),
        (
            5,
            "broken",
            vec![json!({"type": "REPLY_AI", "fallback": "Sorry, please try again later."})],
        ),
    ] {
        owner
            .create_rule(json!({"name": words, "priority": priority, "trigger": {"type": "keywords", "any": [words]},
                "actions": actions, "stop": true, "suppress_ai_reply": true}))
            .await;
    }
    let visitor = app.start_conversation_as(&widget, json!({"language": "en"})).await;
    for said in [
        "What are your hours?",
        "Where is order 4521?",
        "How do I return a lamp?",
        "What about the warranty?",
        "It is broken",
        "Hello there",
    ] {
        assert!(!visitor.say(said).await.is_empty(), "no reply to {said:?}");
    }
    assert_eq!(
        sources(&owner, &visitor).await,
        ["rule", "api", "kb", "fallback", "fallback", "ai"]
    );
    // The visitor's own view names no source.
    assert!(visitor.messages().await.iter().all(|m| m.get("source").is_none()));

    // A catch-all rule (trigger `any`) is the account's fallback.
    owner
        .create_rule(json!({"name": "Anything else", "priority": 99, "trigger": {"type": "any"},
            "actions": [reply("I can help with orders and returns.")], "suppress_ai_reply": true}))
        .await;
    let later = app.start_conversation_as(&widget, json!({"language": "en"})).await;
    assert_eq!(later.say("Hello again").await, ["I can help with orders and returns."]);
    assert_eq!(sources(&owner, &later).await, ["fallback"]);
}

async fn close(owner: &Client, visitor: &Visitor) -> Value {
    let (status, closed) = owner
        .post(&format!("/api/v1/conversations/{}/close", visitor.conversation_id), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    closed["data"].clone()
}

async fn outcome(owner: &Client, visitor: &Visitor) -> Value {
    owner.conversation(&visitor.conversation_id).await["outcome"].clone()
}

async fn rate(visitor: &Visitor, score: u8) {
    let request = visitor.request(reqwest::Method::POST, "/rating").json(&json!({"score": score}));
    assert_eq!(visitor.client.send(request).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_conversation_ends_as_its_facts_say() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        owner.create_rule(json!({"name": "Hours", "trigger": {"type": "keywords", "any": ["hours"]}, "actions": [reply("We open at 9.")]})).await;
        let ops = owner.create_user("ops@acme.test", "operator").await;

        // The assistant answered; nobody else came.
        let solved = app.start_conversation(&widget).await;
        solved.say("your hours?").await;
        assert_eq!(close(&owner, &solved).await["outcome"], "assistant_resolved");
        // Nobody answered the last question.
        let left = app.start_conversation(&widget).await;
        left.say("your hours?").await;
        left.say("and on Sunday, is anyone there").await;
        close(&owner, &left).await;
        assert_eq!(outcome(&owner, &left).await, "abandoned");
        // A person wrote.
        let helped = app.start_conversation(&widget).await;
        helped.say("your hours?").await;
        let write = format!("/api/v1/conversations/{}/messages", helped.conversation_id);
        assert_eq!(
            owner.post(&write, json!({"text": "Also on Sundays."})).await.0,
            StatusCode::CREATED
        );
        close(&owner, &helped).await;
        assert_eq!(outcome(&owner, &helped).await, "resolved_with_person");
        // Handed to a person who never wrote.
        let waiting = app.start_conversation(&widget).await;
        waiting.say("your hours?").await;
        let assign = format!("/api/v1/conversations/{}/assign", waiting.conversation_id);
        assert_eq!(owner.post(&assign, json!({"user_id": ops})).await.0, StatusCode::OK);
        close(&owner, &waiting).await;
        assert_eq!(outcome(&owner, &waiting).await, "handed_over");

        // Open again: undecided; closed again: decided again; a bad rating changes it.
        let reopen = format!("/api/v1/conversations/{}/reopen", solved.conversation_id);
        assert_eq!(owner.post(&reopen, json!({})).await.1["data"]["outcome"], Value::Null);
        assert_eq!(outcome(&owner, &solved).await, Value::Null);
        close(&owner, &solved).await;
        rate(&solved, 2).await;
        assert_eq!(outcome(&owner, &solved).await, "abandoned");
        rate(&solved, 5).await;
        assert_eq!(outcome(&owner, &solved).await, "assistant_resolved");
        // Open conversations have none; the list shows it too.
        let open = app.start_conversation(&widget).await;
        open.say("your hours?").await;
        assert_eq!(outcome(&owner, &open).await, Value::Null);
        let (_, listed) = owner.get("/api/v1/conversations?status=closed").await;
        let outcomes: Vec<&str> = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes.len(), 4, "{listed}");
    }
}

/// Two nodes on one database answer, close and rate conversations all at once while the added
/// counts are being folded: every figure still adds up, and no write waits on another in a
/// circle (on PostgreSQL, the unit that lost such a wait would fail its request).
#[tokio::test]
async fn counts_add_up_when_two_nodes_write_and_fold_at_once() {
    const CONVERSATIONS: usize = 8;
    for app in TestApp::every_backend().await {
        let node = app.another_node().await;
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        owner.create_rule(json!({"name": "Hours", "trigger": {"type": "keywords", "any": ["hours"]}, "actions": [reply("We open at 9.")]})).await;
        let mut on_node = Client::new(&node.base);
        on_node.api_key = Some(owner.create_api_key("second node").await);
        let store = switchboard::open_store(&app.config, false).await.unwrap();
        let folding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let folder = tokio::spawn({
            let (store, folding) = (store.clone(), folding.clone());
            async move {
                let mut folded = 0;
                while folding.load(std::sync::atomic::Ordering::Relaxed) {
                    folded += store.fold_counts(2).await.unwrap();
                    tokio::task::yield_now().await;
                }
                folded
            }
        });
        let mut visitors = Vec::new();
        for i in 0..CONVERSATIONS {
            let visitor = app.start_conversation(&widget).await;
            visitors.push(if i % 2 == 0 { visitor } else { visitor.through(node.anonymous()) });
        }
        let people = [&owner, &on_node];
        futures_util::future::join_all(visitors.iter().enumerate().map(
            |(i, visitor)| async move {
                assert_eq!(visitor.say("your hours?").await, ["We open at 9."]);
                close(people[i % 2], visitor).await;
                rate(visitor, if i % 4 == 0 { 1 } else { 5 }).await;
            },
        ))
        .await;
        folding.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(folder.await.unwrap() > 0, "the folds ran beside the writes");

        let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let (from, to) = (today.yesterday().unwrap(), today.tomorrow().unwrap());
        let (_, summary) =
            on_node.get(format!("/api/v1/analytics/summary?from={from}&to={to}")).await;
        let s = &summary["data"];
        let figures =
            [&s["conversations"], &s["visitor_messages"], &s["closed"], &s["rating"]["count"]];
        assert!(figures.iter().all(|n| **n == CONVERSATIONS), "{summary}");
        assert_eq!(s["outcomes"]["assistant_resolved"], 6, "{summary}");
        assert_eq!(s["outcomes"]["abandoned"], 2, "rated 1: {summary}");
        assert_eq!(s["rating"]["distribution"], json!({"1": 2, "2": 0, "3": 0, "4": 0, "5": 6}));
    }
}
