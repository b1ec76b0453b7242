//! Conversation search: by what was said (in any language's word forms), by who the visitor is,
//! by notes, labels and variables, with the inbox's filters — and only within the account.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Client, TestApp, assert_error};

/// `/api/v1/conversations?…` with `query` percent-encoded.
fn list_path(query: &[(&str, &str)]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    format!("/api/v1/conversations?{}", pairs.join("&"))
}

async fn found(owner: &Client, query: &[(&str, &str)]) -> Vec<String> {
    let (status, listed) = owner.get(list_path(query)).await;
    assert_eq!(status, StatusCode::OK, "{query:?}: {listed}");
    let items = listed["data"].as_array().unwrap();
    items.iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn conversations_are_found_by_words_people_notes_labels_and_dates() {
    for app in TestApp::every_backend().await {
        let started_on = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        owner
            .create_rule(json!({"name": "Order", "trigger": {"type": "regex", "pattern": "\\d{4}"},
                "actions": [{"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "(\\d{4})"}},
                    {"type": "REPLY_TEXT", "text": "Einen Moment."}]}))
            .await;
        let anna = app
            .start_conversation_as(
                &widget,
                json!({"name": "Anna Müller", "email": "anna@example.com", "language": "de"}),
            )
            .await;
        anna.say("Wo sind meine Bestellungen? Nummer 4521").await;
        let bob = app.start_conversation_as(&widget, json!({"name": "Bob"})).await;
        bob.say("I want refunds for my shoes").await;
        let (anna_id, bob_id) = (anna.conversation_id.clone(), bob.conversation_id.clone());
        let only = |id: &String| vec![id.clone()];

        // What was said, in its language's forms.
        assert_eq!(found(&owner, &[("q", "Bestellung")]).await, only(&anna_id));
        assert_eq!(found(&owner, &[("q", "refund")]).await, only(&bob_id));
        assert_eq!(found(&owner, &[("q", "SHOES refunds")]).await, only(&bob_id));
        assert!(found(&owner, &[("q", "refund Bestellung")]).await.is_empty(), "every word");
        // Who the visitor is, with or without accents, and the variables rules saved.
        assert_eq!(found(&owner, &[("q", "Müller")]).await, only(&anna_id));
        assert_eq!(found(&owner, &[("q", "muller")]).await, only(&anna_id));
        assert_eq!(found(&owner, &[("q", "anna@example.com")]).await, only(&anna_id));
        assert_eq!(found(&owner, &[("q", "4521")]).await, only(&anna_id));
        // The team's notes and labels.
        let notes = format!("/api/v1/conversations/{bob_id}/messages");
        let note = json!({"text": "Called about the invoice", "private": true});
        assert_eq!(owner.post(&notes, note).await.0, StatusCode::CREATED);
        assert_eq!(found(&owner, &[("q", "invoices")]).await, only(&bob_id));
        owner.create("/api/v1/labels", json!({"name": "vip-gold"})).await;
        let labels = format!("/api/v1/conversations/{bob_id}/labels");
        assert_eq!(owner.put(&labels, json!({"labels": ["vip-gold"]})).await.0, StatusCode::OK);
        assert_eq!(found(&owner, &[("q", "gold")]).await, only(&bob_id));
        // With the inbox's filters.
        assert_eq!(found(&owner, &[("q", "refund"), ("label", "vip-gold")]).await, only(&bob_id));
        assert!(found(&owner, &[("q", "refund"), ("assigned_to", "me")]).await.is_empty());
        owner.post(&format!("/api/v1/conversations/{bob_id}/close"), json!({})).await;
        assert!(found(&owner, &[("q", "refund"), ("status", "open")]).await.is_empty());
        assert_eq!(found(&owner, &[("q", "refund"), ("status", "closed")]).await, only(&bob_id));
        // Days in the account's time zone (UTC unless set), a day apart from the start of the
        // test on each side, so a run over midnight does not matter.
        let today = started_on;
        let tomorrow = today.tomorrow().unwrap().to_string();
        let yesterday = today.yesterday().unwrap().to_string();
        let later = today.tomorrow().unwrap().tomorrow().unwrap().to_string();
        let earlier = today.yesterday().unwrap().yesterday().unwrap().to_string();
        assert_eq!(
            found(&owner, &[("q", "refund"), ("from", &yesterday), ("to", &tomorrow)]).await,
            only(&bob_id)
        );
        assert!(found(&owner, &[("from", &later)]).await.is_empty());
        assert!(found(&owner, &[("to", &earlier)]).await.is_empty());

        // Another account finds only its own.
        let rival = app.signup("Rival", "owner@rival.test").await;
        let theirs = app.start_conversation(&rival.create_widget("Rival shop").await).await;
        theirs.say("refund please").await;
        assert_eq!(found(&rival, &[("q", "refund")]).await, only(&theirs.conversation_id));
        assert!(found(&rival, &[("q", "shoes")]).await.is_empty());
        // Something typed that holds no word finds nothing.
        assert!(found(&owner, &[("q", "?! …")]).await.is_empty());
        // Bad filters say which.
        let bad_day = owner.get(list_path(&[("from", "2026-13-01")])).await;
        assert_error(&bad_day, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("from"));
        let long = "x".repeat(201);
        let too_long = owner.get(list_path(&[("q", long.as_str())])).await;
        assert_error(&too_long, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("q"));
    }
}

/// Conversations stored before search had no search words; after `switchboard search rebuild`
/// (as after the upgrade that brought search), servers give them theirs.
#[tokio::test]
async fn conversations_from_before_search_are_found_after_a_rebuild() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        let listed = app.start_conversation(&widget).await;
        let (_, tenant) = owner.get("/api/v1/tenant").await;
        let tenant: sb_domain::TenantId = tenant["data"]["id"].as_str().unwrap().parse().unwrap();
        // Written as an older version wrote it: the message, and no search words.
        let store = switchboard::open_store(&app.config, false).await.unwrap();
        let id: sb_domain::ConversationId = listed.conversation_id.parse().unwrap();
        let old = sb_store::NewMessage {
            id: &sb_domain::MessageId::new(),
            conversation_id: &id,
            author: sb_domain::Author::Visitor,
            author_user_id: None,
            text: "Ich habe meine Lieferung nie bekommen",
            translation: None,
            created_at: sb_domain::Timestamp::now(),
            action: None,
            attachments: &[],
            search_terms: "",
            source: None,
        };
        store.append_message(&tenant, old).await.unwrap();
        assert!(found(&owner, &[("q", "Lieferungen")]).await.is_empty(), "not searchable yet");

        // What `switchboard search rebuild` does; a starting node works the backlog at once.
        assert!(store.queue_search_rebuild().await.unwrap() >= 1);
        let restarted = app.another_node().await;
        let owner = restarted.login("owner@acme.test", crate::support::PASSWORD).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while found(&owner, &[("q", "Lieferungen")]).await.is_empty() {
            assert!(std::time::Instant::now() < deadline, "never made searchable");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let ids = found(&owner, &[("q", "lieferung")]).await;
        assert_eq!(ids, std::slice::from_ref(&listed.conversation_id));
    }
}
