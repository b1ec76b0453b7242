//! Configuring a tenant in a Switchboard under measurement, through its HTTP API as a person
//! would: sign up, connect the backend, describe the endpoint, add a widget and a rule.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

pub struct Admin {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

/// A visitor's conversation: where to post and the token to post with.
#[derive(Clone)]
pub struct Conversation {
    pub id: String,
    pub token: String,
}

impl Admin {
    /// Signs a new tenant up; `name` makes the account unique on the server.
    pub async fn sign_up(base: &str, name: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().cookie_store(true).build()?;
        let mut admin = Self { http, base: base.to_owned(), csrf: String::new() };
        let body = json!({"tenant_name": name, "email": format!("owner@{name}.test"),
            "password": "a long bench password"});
        let answer = admin.call(Method::POST, "/api/v1/auth/signup", body).await?;
        admin.csrf = answer["csrf_token"].as_str().context("a CSRF token")?.to_owned();
        Ok(admin)
    }

    /// Calls the API; the answer's `data`, or an error saying what went wrong.
    pub async fn call(&self, method: Method, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        if !status.is_success() {
            bail!("{path} answered {status}: {answer}");
        }
        Ok(answer["data"].clone())
    }

    /// A connection to `backend` with `auth`, its `get_order` endpoint, a widget and a
    /// lookup-and-reply rule; returns the widget's id.
    pub async fn lookup_and_reply(
        &self,
        backend: SocketAddr,
        auth: Value,
    ) -> anyhow::Result<String> {
        let connection = self
            .call(
                Method::POST,
                "/api/v1/connections",
                json!({"name": "Shop", "base_url": format!("http://{backend}/api"), "auth": auth}),
            )
            .await?;
        let connection = connection["id"].as_str().context("a connection id")?;
        let endpoint = json!({
            "name": "get_order",
            "description": "Looks up an order by its number.",
            "method": "GET",
            "path": "/orders/{order_id}",
            "variables": [{"name": "order_id", "required": true, "pattern": "[0-9]{4}"}],
            "response_mapping": {"order_status": "data.status", "eta": "data.shipping.eta",
                "carrier": "data.shipping.carrier"}
        });
        let path = format!("/api/v1/connections/{connection}/endpoints");
        let endpoint = self.call(Method::POST, &path, endpoint).await?;
        let widget = self.widget("Shop").await?;
        let rule = json!({
            "name": "Order status",
            "priority": 10,
            "trigger": {"type": "regex", "pattern": "\\border\\b.*\\b\\d{4}\\b|#\\d{4}", "flags": "i"},
            "actions": [
                {"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "(\\d{4})"}},
                {"type": "CALL_API", "endpoint_id": endpoint["id"],
                 "on_error": [{"type": "REPLY_TEXT", "text": "I couldn't find order {order_id}."}]},
                {"type": "REPLY_TEXT",
                 "text": "Order {order_id} is {order_status}. It should arrive on {eta} with {carrier}."}
            ],
            "stop": true
        });
        self.call(Method::POST, "/api/v1/rules", rule).await?;
        Ok(widget)
    }

    /// A new widget's id.
    pub async fn widget(&self, name: &str) -> anyhow::Result<String> {
        let widget = self.call(Method::POST, "/api/v1/widgets", json!({"name": name})).await?;
        Ok(widget["id"].as_str().context("a widget id")?.to_owned())
    }
}

/// Starts `count` conversations on `widget`, `parallel` at a time.
pub async fn conversations(
    http: &reqwest::Client,
    base: &str,
    widget: &str,
    count: usize,
    parallel: usize,
) -> anyhow::Result<Vec<Conversation>> {
    use futures_util::StreamExt;
    let url = format!("{base}/api/v1/widget/{widget}/conversations");
    futures_util::stream::iter(0..count)
        .map(|_| async {
            let response = http.post(&url).json(&json!({})).send().await?;
            let status = response.status();
            let answer: Value = response.json().await?;
            if !status.is_success() {
                bail!("starting a conversation answered {status}: {answer}");
            }
            let data = &answer["data"];
            Ok(Conversation {
                id: data["conversation_id"].as_str().context("an id")?.to_owned(),
                token: data["visitor_token"].as_str().context("a token")?.to_owned(),
            })
        })
        .buffer_unordered(parallel)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}
