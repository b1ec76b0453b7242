//! `Client`: an HTTP client with its own cookie jar, the HTTP verbs answering `(status, body)`,
//! and `create` for any object the API makes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::PASSWORD;

/// An HTTP client with its own cookie jar; sends the CSRF token or API key it holds. A clone
/// shares the jar.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
    pub api_key: Option<String>,
}

impl Client {
    /// A client with no credentials for the server at `base` (`http://host:port`).
    pub fn new(base: &str) -> Self {
        sb_net::install_crypto_provider();
        let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
        Self { http, base: base.to_owned(), csrf: None, api_key: None }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(key) = &self.api_key {
            request = request.header("x-api-key", key);
        }
        request
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn get(&self, path: impl AsRef<str>) -> (StatusCode, Value) {
        self.send(self.request(Method::GET, path.as_ref())).await
    }

    pub async fn post(&self, path: impl AsRef<str>, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::POST, path.as_ref()).json(&body)).await
    }

    pub async fn put(&self, path: impl AsRef<str>, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::PUT, path.as_ref()).json(&body)).await
    }

    pub async fn patch(&self, path: impl AsRef<str>, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::PATCH, path.as_ref()).json(&body)).await
    }

    pub async fn delete(&self, path: impl AsRef<str>) -> (StatusCode, Value) {
        self.send(self.request(Method::DELETE, path.as_ref())).await
    }

    /// POSTs `body` to `path`, which must answer 201 Created; returns the created object.
    pub async fn create(&self, path: impl AsRef<str>, body: Value) -> Value {
        let path = path.as_ref();
        let (status, created) = self.post(path, body).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {created}");
        created["data"].clone()
    }

    /// Creates an API key and returns its secret value.
    pub async fn create_api_key(&self, name: &str) -> String {
        let created = self.create("/api/v1/api-keys", json!({ "name": name })).await;
        created["key"].as_str().unwrap().to_owned()
    }

    /// Creates a user and returns their id.
    pub async fn create_user(&self, email: &str, role: &str) -> String {
        let body = json!({ "email": email, "password": PASSWORD, "role": role });
        id(&self.create("/api/v1/users", body).await)
    }

    pub async fn me(&self) -> Value {
        let (status, body) = self.get("/api/v1/me").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }
}

/// The id of a created object.
pub fn id(created: &Value) -> String {
    created["id"].as_str().unwrap_or_else(|| panic!("no id in {created}")).to_owned()
}
