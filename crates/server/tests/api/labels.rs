//! Labels: admins define them, operators and the `ADD_LABEL` action put them on conversations,
//! the inbox filters by them exactly (a name never matches as a prefix or a pattern), and
//! deleting one takes it off every conversation.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Client, PASSWORD, TestApp, assert_error};

async fn labelled(owner: &Client, query: &str) -> Vec<String> {
    let (status, listed) = owner.get(format!("/api/v1/conversations?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn labels_are_set_by_operators_and_rules_filtered_exactly_and_deleted_everywhere() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        for (name, color) in [
            ("Refund-Request", "#d97706"),
            ("vip", "#7c3aed"),
            ("a_b", "#111111"),
            ("axb", "#222222"),
        ] {
            let label = owner.create("/api/v1/labels", json!({"name": name, "color": color})).await;
            assert_eq!(label["name"], name.to_lowercase());
        }
        let duplicate = owner.post("/api/v1/labels", json!({"name": "VIP"})).await;
        assert_error(&duplicate, StatusCode::CONFLICT, "name_taken", Some("name"));
        let spaced = owner.post("/api/v1/labels", json!({"name": "refund request"})).await;
        assert_error(&spaced, StatusCode::UNPROCESSABLE_ENTITY, "invalid_label", Some("name"));
        let colour = owner.post("/api/v1/labels", json!({"name": "x", "color": "red"})).await;
        assert_error(&colour, StatusCode::UNPROCESSABLE_ENTITY, "invalid_color", Some("color"));
        owner.create_user("op@acme.test", "operator").await;
        let operator = app.login("op@acme.test", PASSWORD).await;
        let (status, _) = operator.post("/api/v1/labels", json!({"name": "mine"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // A rule names labels the account has, as they are written.
        let rule = |label: &str| {
            json!({"name": "Refunds", "trigger": {"type": "keywords", "any": ["refund"]},
            "actions": [{"type": "ADD_LABEL", "label": label}, {"type": "REPLY_TEXT", "text": "On it."}]})
        };
        let unknown = owner.post("/api/v1/rules", rule("returns")).await;
        assert_error(
            &unknown,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_label",
            Some("actions[0].label"),
        );
        let unwritten = owner.post("/api/v1/rules", rule("Refund-Request")).await;
        assert_error(
            &unwritten,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_label",
            Some("actions[0].label"),
        );
        owner.create_rule(rule("refund-request")).await;

        // In a test run too: the account's labels, on the sandbox's conversation.
        let case = json!({"name": "Refund", "widget_id": widget,
            "turns": [{"text": "I want a refund", "expect": [{"reply_contains": "On it."}]}]});
        let case = owner.create("/api/v1/test-cases", case).await;
        let result = crate::test_runs::run(&owner, json!({"case_ids": [case["id"]]})).await;
        let trace = result["cases"][0]["trace"].to_string();
        assert!(trace.contains("label_added") && !trace.contains("label_missing"), "{trace}");

        let ann = app.start_conversation(&widget).await;
        assert_eq!(ann.say("I want a refund").await, ["On it."]);
        let conversation = owner.conversation(&ann.conversation_id).await;
        assert_eq!(conversation["labels"], json!(["refund-request"]));
        let trace = owner.trace(&ann.conversation_id).await;
        assert!(
            trace
                .iter()
                .any(|e| e["kind"] == "label_added" && e["data"]["label"] == "refund-request")
        );
        // Again: a label is there once.
        ann.say("refund, please").await;
        assert_eq!(
            owner.conversation(&ann.conversation_id).await["labels"],
            json!(["refund-request"])
        );

        // Operators set the whole list; names are checked against the account's.
        let bob = app.start_conversation(&widget).await;
        bob.say("hello").await;
        let path = format!("/api/v1/conversations/{}/labels", bob.conversation_id);
        let (status, set) = operator.put(&path, json!({"labels": ["VIP", "axb", "vip"]})).await;
        assert_eq!((status, &set["data"]["labels"]), (StatusCode::OK, &json!(["axb", "vip"])));
        let unknown = operator.put(&path, json!({"labels": ["vip", "gold"]})).await;
        assert_error(
            &unknown,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_label",
            Some("labels[1]"),
        );

        // Filters match the whole name: no prefixes, and `_` is not a wildcard.
        assert_eq!(labelled(&owner, "label=vip").await, std::slice::from_ref(&bob.conversation_id));
        assert_eq!(
            labelled(&owner, "label=refund-request").await,
            std::slice::from_ref(&ann.conversation_id)
        );
        assert!(labelled(&owner, "label=vi").await.is_empty());
        assert!(labelled(&owner, "label=a_b").await.is_empty());
        assert_eq!(
            labelled(&owner, "label=axb&status=open").await,
            std::slice::from_ref(&bob.conversation_id)
        );

        // Deleting a label takes it off every conversation; the rule then skips it.
        let (_, labels) = owner.get("/api/v1/labels").await;
        let vip =
            labels["data"].as_array().unwrap().iter().find(|l| l["name"] == "vip").unwrap()["id"]
                .clone();
        let (status, _) = owner.delete(format!("/api/v1/labels/{}", vip.as_str().unwrap())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(owner.conversation(&bob.conversation_id).await["labels"], json!(["axb"]));
        assert!(labelled(&owner, "label=vip").await.is_empty());

        // Another account sees none of it and cannot label this one's conversations.
        let stranger = app.signup("Beta", "bob@beta.test").await;
        let (_, theirs) = stranger.get("/api/v1/labels").await;
        assert_eq!(theirs["data"], json!([]));
        stranger.create("/api/v1/labels", json!({"name": "vip"})).await;
        let (status, _) = stranger.put(&path, json!({"labels": ["vip"]})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(owner.conversation(&bob.conversation_id).await["labels"], json!(["axb"]));
    }
}
