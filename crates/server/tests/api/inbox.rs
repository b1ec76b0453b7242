//! The operator side of conversations: list and filter, read, reply, assign, close, reopen —
//! and none of it across tenants.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, TestApp, assert_error};

#[tokio::test]
async fn operators_read_reply_assign_close_and_reopen() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let ann_id = owner.create_user("ann@acme.test", "operator").await;
        let ann = app.login("ann@acme.test", PASSWORD).await;
        let widget = owner.create_widget("Shop").await;
        let other_widget = owner.create_widget("Other").await;
        owner.create_rule(json!({"name": "bot", "trigger": {"type": "any"}, "actions": [{"type": "REPLY_TEXT", "text": "bot here"}]})).await;

        let visitor = app.start_conversation_as(&widget, json!({"name": "Vera"})).await;
        assert_eq!(visitor.say("hello").await, ["bot here"]);
        let elsewhere = app.start_conversation(&other_widget).await;
        let id = visitor.conversation_id.clone();

        let (_, open) = ann.get("/api/v1/conversations?status=open").await;
        assert_eq!(open["data"].as_array().unwrap().len(), 2);
        let (_, by_widget) = ann.get(format!("/api/v1/conversations?widget_id={widget}")).await;
        assert_eq!(by_widget["data"][0]["id"], id.as_str());
        assert_eq!(by_widget["data"].as_array().unwrap().len(), 1);
        let (_, unassigned) = ann.get("/api/v1/conversations?assigned=unassigned").await;
        assert_eq!(unassigned["data"].as_array().unwrap().len(), 2);
        assert_error(
            &ann.get("/api/v1/conversations?status=lost").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("status"),
        );

        // Replying takes the conversation over: the bot goes quiet.
        let (status, reply) = ann
            .post(
                format!("/api/v1/conversations/{id}/messages"),
                json!({"text": "Hi Vera, Ann here."}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        assert_eq!(
            (reply["data"]["author"].clone(), reply["data"]["author_user_id"].clone()),
            (json!("operator"), json!(ann_id))
        );
        let (_, conv) = ann.get(format!("/api/v1/conversations/{id}")).await;
        assert_eq!(
            (conv["data"]["status"].clone(), conv["data"]["assigned_to"].clone()),
            (json!("pending"), json!(ann_id))
        );
        assert!(visitor.say("thanks").await.is_empty());
        let (_, mine) = ann.get("/api/v1/conversations?assigned=me").await;
        assert_eq!(mine["data"][0]["id"], id.as_str());
        let texts: Vec<String> = visitor
            .messages()
            .await
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(texts, ["hello", "bot here", "Hi Vera, Ann here.", "thanks"]);
        let shown = visitor.messages().await;
        assert!(
            shown.iter().all(|m| m.get("author_user_id").is_none()),
            "visitors get no internal ids: {shown:?}"
        );

        let owner_id = owner.me().await["user"]["id"].as_str().unwrap().to_owned();
        let (status, assigned) = ann
            .post(format!("/api/v1/conversations/{id}/assign"), json!({"user_id": owner_id}))
            .await;
        assert_eq!(status, StatusCode::OK, "{assigned}");
        assert_eq!(assigned["data"]["assigned_to"], json!(owner_id));
        assert_error(
            &ann.post(
                format!("/api/v1/conversations/{id}/assign"),
                json!({"user_id": "usr_00000000000000000000000000"}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
            Some("user_id"),
        );

        let (_, closed) = ann.post(format!("/api/v1/conversations/{id}/close"), json!({})).await;
        assert_eq!(closed["data"]["status"], "closed");
        let (_, closed_list) = ann.get("/api/v1/conversations?status=closed").await;
        assert_eq!(closed_list["data"][0]["id"], id.as_str());
        let (_, reopened) = ann.post(format!("/api/v1/conversations/{id}/reopen"), json!({})).await;
        assert_eq!(reopened["data"]["status"], "pending", "back to its operator");
        ann.post(format!("/api/v1/conversations/{id}/close"), json!({})).await;
        // A visitor writing to a closed conversation reopens it, and the bot answers again.
        assert_eq!(visitor.say("one more thing").await, ["bot here"]);
        let (_, conv) = ann.get(format!("/api/v1/conversations/{id}")).await;
        assert_eq!(conv["data"]["status"], "open");

        let (_, messages) = ann.get(format!("/api/v1/conversations/{id}/messages")).await;
        let authors: Vec<&str> = messages["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["author"].as_str().unwrap())
            .collect();
        assert!(authors.contains(&"system"), "closing tells the visitor: {authors:?}");
        let (_, trace) = ann.get(format!("/api/v1/conversations/{id}/trace")).await;
        assert!(trace["data"].as_array().unwrap().iter().any(|e| e["kind"] == "reopened"));
        drop(elsewhere);
    }
}

#[tokio::test]
async fn another_tenants_conversations_are_not_found() {
    for app in TestApp::every_backend().await {
        let alpha = app.signup("Alpha", "owner@alpha.test").await;
        let widget = alpha.create_widget("W").await;
        let visitor = app.start_conversation(&widget).await;
        visitor.say("hello").await;
        let id = &visitor.conversation_id;
        let beta = app.signup("Beta", "owner@beta.test").await;
        let beta_key = app.with_api_key(&beta.create_api_key("k").await);
        for other in [&beta, &beta_key] {
            let not_found =
                |answer| assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
            not_found(other.get(format!("/api/v1/conversations/{id}")).await);
            not_found(other.get(format!("/api/v1/conversations/{id}/messages")).await);
            not_found(
                other
                    .post(format!("/api/v1/conversations/{id}/messages"), json!({"text": "hi"}))
                    .await,
            );
            not_found(other.post(format!("/api/v1/conversations/{id}/assign"), json!({})).await);
            not_found(other.post(format!("/api/v1/conversations/{id}/close"), json!({})).await);
            not_found(other.post(format!("/api/v1/conversations/{id}/reopen"), json!({})).await);
            not_found(other.get(format!("/api/v1/conversations/{id}/trace")).await);
            assert_eq!(other.get("/api/v1/conversations").await.1["data"], json!([]));
        }
        assert_eq!(
            visitor.messages().await.len(),
            1,
            "nothing was written into Alpha's conversation"
        );
    }
}
