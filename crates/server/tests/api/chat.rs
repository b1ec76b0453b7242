//! Helpers for conversation tests: widgets, rules and a visitor talking through the widget API.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, TestApp};

pub async fn create_widget(owner: &Client, body: Value) -> String {
    let (status, created) = owner.post("/api/v1/widgets", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["data"]["id"].as_str().unwrap().to_owned()
}

pub async fn create_rule(owner: &Client, body: Value) -> String {
    let (status, created) = owner.post("/api/v1/rules", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["data"]["id"].as_str().unwrap().to_owned()
}

/// A visitor in one conversation.
pub struct Visitor {
    pub client: Client,
    pub conversation_id: String,
    pub token: String,
}

impl Visitor {
    pub async fn start(app: &TestApp, widget: &str, visitor: Value) -> Self {
        Self::start_with(app.anonymous(), widget, visitor).await
    }

    /// Starts a conversation through `client`, which may point at any server.
    pub async fn start_with(client: Client, widget: &str, visitor: Value) -> Self {
        let (status, started) = client
            .post(&format!("/api/v1/widget/{widget}/conversations"), json!({"visitor": visitor}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{started}");
        let token = started["data"]["visitor_token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("sbv_"));
        Self {
            client,
            conversation_id: started["data"]["conversation_id"].as_str().unwrap().to_owned(),
            token,
        }
    }

    fn path(&self, rest: &str) -> String {
        format!("/api/v1/widget/conversations/{}{rest}", self.conversation_id)
    }

    /// Sends a message and waits (up to 10 s) for the engine to finish with it; returns the
    /// texts of the replies.
    pub async fn say(&self, text: &str) -> Vec<String> {
        let (status, body) = self.say_raw(text, 10_000).await;
        assert_eq!(status, StatusCode::OK, "the engine did not finish: {body}");
        body["data"]["replies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["text"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn say_raw(&self, text: &str, wait_ms: u64) -> (StatusCode, Value) {
        let request = self
            .client
            .request(reqwest::Method::POST, &self.path(&format!("/messages?wait_ms={wait_ms}")))
            .bearer_auth(&self.token)
            .json(&json!({"text": text}));
        self.client.send(request).await
    }

    pub async fn messages(&self) -> Vec<Value> {
        let request = self
            .client
            .request(reqwest::Method::GET, &self.path("/messages"))
            .bearer_auth(&self.token);
        let (status, body) = self.client.send(request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].as_array().unwrap().clone()
    }
}

/// The conversation as the operator API shows it.
pub async fn conversation(owner: &Client, id: &str) -> Value {
    let (status, body) = owner.get(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

/// The kinds of trace events, in order.
pub async fn trace(owner: &Client, id: &str) -> Vec<Value> {
    let (status, body) = owner.get(&format!("/api/v1/conversations/{id}/trace")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

pub fn kinds(trace: &[Value]) -> Vec<String> {
    trace.iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}
