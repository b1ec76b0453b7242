//! What a tenant's admin sets up, one typed call each: connections, endpoints, rules, widgets,
//! and operators ready to take conversations. Each asserts that the object was created and
//! returns its id.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::client::id;
use super::{Client, PASSWORD, TestApp};

/// The body of a connection named `name` to the `/api` of the server at `base_url`, the way the
/// test backends serve it; an OAuth2 `token_url` in `auth` is pointed at its `/oauth/token`.
pub fn api_connection(name: &str, base_url: &str, mut auth: Value) -> Value {
    if let Some(url) = auth.get_mut("token_url") {
        *url = json!(format!("{base_url}/oauth/token"));
    }
    json!({"name": name, "base_url": format!("{base_url}/api"), "auth": auth})
}

impl Client {
    /// Creates a connection (see `api_connection`) and returns its id.
    pub async fn create_connection(&self, body: Value) -> String {
        id(&self.create("/api/v1/connections", body).await)
    }

    /// Creates an endpoint on `connection` and returns its id.
    pub async fn create_endpoint(&self, connection: &str, body: Value) -> String {
        id(&self.create(format!("/api/v1/connections/{connection}/endpoints"), body).await)
    }

    /// Creates a rule and returns its id.
    pub async fn create_rule(&self, body: Value) -> String {
        id(&self.create("/api/v1/rules", body).await)
    }

    /// Creates a widget with nothing but a name and returns its id.
    pub async fn create_widget(&self, name: &str) -> String {
        self.create_widget_with(json!({"name": name})).await
    }

    /// Creates a widget with these settings and returns its id.
    pub async fn create_widget_with(&self, body: Value) -> String {
        id(&self.create("/api/v1/widgets", body).await)
    }

    /// Creates a team and returns its id.
    pub async fn create_team(&self, body: Value) -> String {
        id(&self.create("/api/v1/teams", body).await)
    }

    /// Marks the signed-in user away (a new account's owner starts available).
    pub async fn make_away(&self) {
        let (status, body) = self.put("/api/v1/me/availability", json!({"available": false})).await;
        assert_eq!(status, StatusCode::OK, "PUT /api/v1/me/availability: {body}");
    }

    /// Marks the signed-in user available to take conversations.
    pub async fn make_available(&self) {
        let (status, body) = self.put("/api/v1/me/availability", json!({"available": true})).await;
        assert_eq!(status, StatusCode::OK, "PUT /api/v1/me/availability: {body}");
    }
}

impl TestApp {
    /// An operator whom `admin` creates, who then goes away (new users start available).
    pub async fn away_operator(&self, admin: &Client, email: &str) -> String {
        let id = admin.create_user(email, "operator").await;
        self.login(email, PASSWORD).await.make_away().await;
        id
    }

    /// An operator whom `admin` creates, signed in and available: their id and their client.
    pub async fn available_operator(&self, admin: &Client, email: &str) -> (String, Client) {
        let id = admin.create_user(email, "operator").await;
        let operator = self.login(email, PASSWORD).await;
        operator.make_available().await;
        (id, operator)
    }
}
