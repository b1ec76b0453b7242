//! A visitor talking through the widget API, and what the operator API shows of their
//! conversation: the conversation itself and its trace.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Client, TestApp};

/// A visitor in one conversation.
pub struct Visitor {
    pub client: Client,
    pub conversation_id: String,
    pub token: String,
}

impl TestApp {
    /// An anonymous visitor starts a conversation on `widget`.
    pub async fn start_conversation(&self, widget: &str) -> Visitor {
        self.start_conversation_as(widget, json!({})).await
    }

    /// A visitor as `visitor` describes them (name, e-mail, language, signed identity) starts a
    /// conversation on `widget`.
    pub async fn start_conversation_as(&self, widget: &str, visitor: Value) -> Visitor {
        Visitor::start_with(self.anonymous(), widget, visitor).await
    }
}

impl Visitor {
    /// Starts a conversation through `client`, which may point at any server.
    pub async fn start_with(client: Client, widget: &str, visitor: Value) -> Self {
        let (status, started) = client
            .post(format!("/api/v1/widget/{widget}/conversations"), json!({"visitor": visitor}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "starting a conversation on {widget}: {started}");
        let token = started["data"]["visitor_token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("sbv_"));
        Self {
            client,
            conversation_id: started["data"]["conversation_id"].as_str().unwrap().to_owned(),
            token,
        }
    }

    /// The same visitor, in the same conversation, talking through `client` (another node).
    pub fn through(&self, client: Client) -> Self {
        Self { client, conversation_id: self.conversation_id.clone(), token: self.token.clone() }
    }

    /// The path of this conversation in the widget API, followed by `rest`.
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/widget/conversations/{}{rest}", self.conversation_id)
    }

    /// A request to this conversation's `rest` (`/messages`, …) with the visitor's token.
    pub fn request(&self, method: Method, rest: &str) -> reqwest::RequestBuilder {
        self.client.request(method, &self.path(rest)).bearer_auth(&self.token)
    }

    /// Sends a message and waits (up to 10 s) for the engine to finish with it; returns the
    /// texts of the replies.
    pub async fn say(&self, text: &str) -> Vec<String> {
        let (status, body) = self.say_raw(text, 10_000).await;
        assert_eq!(status, StatusCode::OK, "the engine did not finish with {text:?}: {body}");
        body["data"]["replies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["text"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Sends a message, waiting up to `wait_ms` for the replies; the answer as it came.
    pub async fn say_raw(&self, text: &str, wait_ms: u64) -> (StatusCode, Value) {
        let request = self
            .request(Method::POST, &format!("/messages?wait_ms={wait_ms}"))
            .json(&json!({"text": text}));
        self.client.send(request).await
    }

    /// The conversation's messages as the visitor sees them.
    pub async fn messages(&self) -> Vec<Value> {
        let (status, body) = self.client.send(self.request(Method::GET, "/messages")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].as_array().unwrap().clone()
    }
}

impl Client {
    /// The conversation as the operator API shows it.
    pub async fn conversation(&self, id: &str) -> Value {
        let (status, body) = self.get(format!("/api/v1/conversations/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    /// The conversation's trace events, in order.
    pub async fn trace(&self, id: &str) -> Vec<Value> {
        let (status, body) = self.get(format!("/api/v1/conversations/{id}/trace")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].as_array().unwrap().clone()
    }

    /// The kinds of the conversation's trace events, in order.
    pub async fn trace_kinds(&self, id: &str) -> Vec<String> {
        kinds(&self.trace(id).await)
    }
}

/// The kinds of trace events, in order.
pub fn kinds(trace: &[Value]) -> Vec<String> {
    trace.iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}
