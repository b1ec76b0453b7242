//! Ratings and feedback: a visitor rates a closed conversation (again replacing it) and marks
//! the assistant's replies helpful or not; the account's people see both on the conversation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, Visitor, assert_error};

async fn post(visitor: &Visitor, path: &str, body: Value) -> (StatusCode, Value) {
    let url = format!("/api/v1/widget/conversations/{}{path}", visitor.conversation_id);
    let request =
        visitor.client.request(Method::POST, &url).bearer_auth(&visitor.token).json(&body);
    visitor.client.send(request).await
}

#[tokio::test]
async fn visitors_rate_closed_conversations_and_mark_replies_helpful() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        owner
            .create_rule(json!({"name": "Hours", "trigger": {"type": "keywords", "any": ["open"]},
                "actions": [{"type": "REPLY_TEXT", "text": "We are open 9 to 5."}]}))
            .await;
        let ann = app.start_conversation(&widget).await;
        ann.say("when are you open?").await;
        let messages = ann.messages().await;
        let (mine, reply) =
            (messages[0]["id"].as_str().unwrap(), messages[1]["id"].as_str().unwrap());

        let (status, given) =
            post(&ann, &format!("/messages/{reply}/feedback"), json!({"helpful": false})).await;
        assert_eq!((status, &given["data"]["helpful"]), (StatusCode::OK, &json!(false)), "{given}");
        let (status, _) =
            post(&ann, &format!("/messages/{reply}/feedback"), json!({"helpful": true})).await;
        assert_eq!(status, StatusCode::OK, "marking again replaces it");
        let own = post(&ann, &format!("/messages/{mine}/feedback"), json!({"helpful": true})).await;
        assert_error(&own, StatusCode::CONFLICT, "not_a_bot_reply", None);
        let bob = app.start_conversation(&widget).await;
        let (status, _) =
            post(&bob, &format!("/messages/{reply}/feedback"), json!({"helpful": true})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another conversation's reply");

        let early = post(&ann, "/rating", json!({"score": 5})).await;
        assert_error(&early, StatusCode::CONFLICT, "not_closed", None);
        owner
            .post(&format!("/api/v1/conversations/{}/close", ann.conversation_id), json!({}))
            .await;
        let zero = post(&ann, "/rating", json!({"score": 0})).await;
        assert_error(&zero, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range", Some("score"));
        let (status, rated) =
            post(&ann, "/rating", json!({"score": 5, "comment": "  Quick!  "})).await;
        assert_eq!(
            (status, &rated["data"]["comment"]),
            (StatusCode::OK, &json!("Quick!")),
            "{rated}"
        );
        post(&ann, "/rating", json!({"score": 4})).await;

        let conversation = owner.conversation(&ann.conversation_id).await;
        assert_eq!(
            (&conversation["rating"]["score"], &conversation["rating"]["comment"]),
            (&json!(4), &Value::Null)
        );
        assert_eq!(conversation["feedback"][0]["message_id"], reply);
        assert_eq!(conversation["feedback"][0]["helpful"], true);
        assert_eq!(owner.conversation(&bob.conversation_id).await["rating"], Value::Null);
    }
}
