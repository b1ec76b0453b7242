//! Canned replies: admins keep them; operators read them filled in for a conversation with the
//! variables rules use, an unknown value left as `{name}` to fill by hand.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, TestApp, assert_error};

#[tokio::test]
async fn canned_replies_are_kept_by_admins_and_filled_for_each_conversation() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        owner
            .create_rule(json!({"name": "Orders", "trigger": {"type": "keywords", "any": ["order"]},
                "actions": [{"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "(\\d{4})"}},
                    {"type": "REPLY_TEXT", "text": "Looking at {order_id}."}]}))
            .await;
        let refund = owner
            .create(
                "/api/v1/canned-replies",
                json!({"shortcut": "/Refund",
                "text": "Hi {visitor.name}, your refund for order {order_id} is on its way."}),
            )
            .await;
        assert_eq!(refund["shortcut"], "refund");
        owner
            .create(
                "/api/v1/canned-replies",
                json!({"shortcut": "hello", "text": "Hello from {widget.name}!"}),
            )
            .await;
        let taken =
            owner.post("/api/v1/canned-replies", json!({"shortcut": "refund", "text": "x"})).await;
        assert_error(&taken, StatusCode::CONFLICT, "shortcut_taken", Some("shortcut"));
        let spaced = owner
            .post("/api/v1/canned-replies", json!({"shortcut": "two words", "text": "x"}))
            .await;
        assert_error(
            &spaced,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_shortcut",
            Some("shortcut"),
        );
        let broken = owner
            .post("/api/v1/canned-replies", json!({"shortcut": "x", "text": "Hi {unclosed"}))
            .await;
        assert_eq!(broken.1["error"]["field"], "text", "{}", broken.1);

        owner.create_user("op@acme.test", "operator").await;
        let operator = app.login("op@acme.test", PASSWORD).await;
        let (status, _) =
            operator.post("/api/v1/canned-replies", json!({"shortcut": "mine", "text": "x"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, listed) = operator.get("/api/v1/canned-replies").await;
        let shortcuts: Vec<&str> = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["shortcut"].as_str().unwrap())
            .collect();
        assert_eq!(shortcuts, ["hello", "refund"]);

        let ann = app.start_conversation_as(&widget, json!({"name": "Ann"})).await;
        ann.say("about order 4521").await;
        let path = format!("/api/v1/conversations/{}/canned-replies", ann.conversation_id);
        let (status, filled) = operator.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{filled}");
        assert_eq!(
            filled["data"][0],
            json!({"id": filled["data"][0]["id"], "shortcut": "hello", "text": "Hello from Shop!", "missing": []})
        );
        assert_eq!(filled["data"][1]["text"], "Hi Ann, your refund for order 4521 is on its way.");
        // Where a value is unknown, it stays to be filled by hand.
        let bob = app.start_conversation(&widget).await;
        bob.say("hi").await;
        let (_, unknown) = operator
            .get(format!("/api/v1/conversations/{}/canned-replies", bob.conversation_id))
            .await;
        assert_eq!(
            unknown["data"][1]["text"],
            "Hi {visitor.name}, your refund for order {order_id} is on its way."
        );
        assert_eq!(unknown["data"][1]["missing"], json!(["visitor.name", "order_id"]));

        let id = refund["id"].as_str().unwrap();
        let (status, changed) = owner
            .patch(
                format!("/api/v1/canned-replies/{id}"),
                json!({"text": "Refund sent, {visitor.name}."}),
            )
            .await;
        assert_eq!((status, &changed["data"]["shortcut"]), (StatusCode::OK, &json!("refund")));
        let stranger = app.signup("Beta", "bob@beta.test").await;
        let (status, _) = stranger.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = stranger.delete(format!("/api/v1/canned-replies/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, theirs) = stranger.get("/api/v1/canned-replies").await;
        assert_eq!(theirs["data"], json!([]));
        let (status, _) = owner.delete(format!("/api/v1/canned-replies/{id}")).await;
        assert_eq!(status, StatusCode::OK);
    }
}
