//! The knowledge base in conversations: `REPLY_KB`, answers with AI off, AI replies grounded in
//! passages, and hybrid search with embeddings where exact tokens still win.

use sb_llm::testing::{FakeModel, Reply};
use serde_json::{Value, json};

use crate::kb::{RETURNS, add_document};
use crate::support::TestApp;

#[tokio::test]
async fn reply_kb_answers_with_the_best_passage_or_the_fallback() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget_with(json!({"name": "Shop", "ai_enabled": false})).await;
    add_document(&owner, json!({"title": "Help centre", "content": RETURNS})).await;
    let fallback = "I don't know that one, {visitor.name}.";
    owner
        .create_rule(json!({"name": "Answer from the help centre", "trigger": {"type": "any"},
            "actions": [{"type": "REPLY_KB", "fallback": fallback}]}))
        .await;

    let visitor = app.start_conversation_as(&widget, json!({"name": "Ann"})).await;
    let replies = visitor.say("How long can I return an unused item?").await;
    assert_eq!(
        replies,
        [
            "You can return any unused item within 30 days of delivery. Refunds reach your card within five business days.\n\n— Help centre"
        ]
    );
    assert!(owner.trace_kinds(&visitor.conversation_id).await.contains(&"kb_search".to_owned()));
    // Sharing one common word is not an answer.
    assert_eq!(visitor.say("Can I pay with bitcoin?").await, ["I don't know that one, Ann."]);
    assert!(owner.trace_kinds(&visitor.conversation_id).await.contains(&"kb_no_answer".to_owned()));
}

#[tokio::test]
async fn with_ai_off_the_knowledge_base_answers_what_it_can() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget_with(json!({"name": "Shop", "ai_enabled": true})).await;
    add_document(&owner, json!({"title": "Help centre", "content": RETURNS})).await;
    let visitor = app.start_conversation(&widget).await;
    let replies = visitor.say("when does delivery in the EU arrive?").await;
    assert_eq!(replies.len(), 1);
    assert!(replies[0].starts_with("Orders ship the next business day"), "{replies:?}");
    let kinds = owner.trace_kinds(&visitor.conversation_id).await;
    assert!(
        kinds.contains(&"ai_off".to_owned()) && kinds.contains(&"kb_search".to_owned()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn ai_replies_are_grounded_in_passages_and_cite_their_titles() {
    let model = FakeModel::start(|seen| {
        if seen.system.contains("### Help centre") && seen.system.contains("within 30 days") {
            Reply::Text("You have 30 days to return it (Help centre).".into())
        } else {
            Reply::Text("I have no passage about that.".into())
        }
    })
    .await;
    let base = model.openai_url();
    let app = TestApp::sqlite_with(|c| {
        c.ai.provider = "openai".into();
        c.ai.base_url = base.clone();
        c.ai.model = "fake-model".into();
    })
    .await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget_with(json!({"name": "Shop", "ai_enabled": true})).await;
    add_document(&owner, json!({"title": "Help centre", "content": RETURNS})).await;
    let visitor = app.start_conversation_as(&widget, json!({"language": "en"})).await;
    assert_eq!(
        visitor.say("How long do I have to return something?").await,
        ["You have 30 days to return it (Help centre)."]
    );
    let system = &model.requests()[0].system;
    assert!(system.contains("cite the title"), "{system}");
}

/// A catalogue where the embedding cannot tell one model number from another.
const ORDERS: [(&str, &str); 3] = [
    ("Order 4512", "Order 4512 was shipped yesterday and arrives on Friday."),
    ("Order 4521", "Order 4521 is delayed: a part is missing, it ships next week."),
    ("Shipping", "Orders usually ship within one business day and arrive within a week."),
];

#[tokio::test]
async fn embeddings_join_full_text_and_exact_tokens_still_rank_first() {
    let model = FakeModel::start(|_| Reply::Text("unused".into())).await;
    let base = model.openai_url();
    let allow = vec![model.addr.to_string()];
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = allow.clone()).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let settings = json!({"provider": "openai", "base_url": base, "model": "chat", "embedding_model": "embed-small"});
    let (status, body) = owner.put("/api/v1/ai-settings", settings).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert_eq!(body["data"]["embedding_model"], "embed-small");
    for (title, text) in ORDERS {
        let document = add_document(&owner, json!({"title": title, "content": text})).await;
        assert_eq!(document["status"], "ready");
        assert_eq!(document["embedding_model"], "embed-small", "{document}");
    }
    assert!(
        model.embedded().iter().any(|t| t.contains("4521 is delayed")),
        "passages were embedded"
    );

    let (_, found) = owner.get("/api/v1/kb/search?q=what%20about%20order%204521").await;
    let hits: &Vec<Value> = found["data"].as_array().unwrap();
    assert_eq!(hits[0]["title"], "Order 4521", "{found}");
    assert_eq!(hits[0]["exact"], true);
    assert!(hits.iter().any(|h| h["vector_rank"].is_number()), "the vectors took part: {found}");

    // A question with no shared words is found by meaning alone.
    let (_, found) = owner.get("/api/v1/kb/search?q=yesterday%20Friday").await;
    assert_eq!(found["data"][0]["title"], "Order 4512", "{found}");

    // Anthropic has no embeddings endpoint: refused, naming the field.
    let anthropic =
        json!({"provider": "anthropic", "model": "claude", "embedding_model": "embed-small"});
    let (status, body) = owner.put("/api/v1/ai-settings", anthropic).await;
    crate::support::assert_error(
        &(status, body),
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "not_supported",
        Some("embedding_model"),
    );
}
