//! What a tenant's admin sets up, one typed call each. Each asserts that the object was created
//! and returns its id.

use serde_json::{Value, json};

use super::Client;
use super::client::id;

impl Client {
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
}
