//! What the black-box tests stand on: `TestApp`, the real server on 127.0.0.1:0 over a fresh
//! database; `Client`, an HTTP client with a typed method for each call the tests make often
//! (each asserting the answer it needs, naming the call when it does not come); and `Visitor`,
//! someone chatting through a widget.
//!
//! - `app`: starting servers, signing up and logging in.
//! - `client`: the HTTP verbs, and creating anything through `create`.
//! - `tenant`: what an admin sets up — connections, endpoints, rules, widgets, operators.
//! - `visitor`: conversations from the visitor's side, and what the operator API shows of them.
//! - `upload`: files sent as multipart forms, and downloads.

mod app;
mod client;
mod tenant;
mod upload;
mod visitor;

use reqwest::StatusCode;
use serde_json::Value;

pub use app::TestApp;
pub use client::Client;
pub use tenant::api_connection;
pub use upload::form;
pub use visitor::{Visitor, kinds};

pub const PASSWORD: &str = "correct horse battery";

/// A plain HTTP client for tests (TLS needs the process's crypto provider installed first).
pub fn http() -> reqwest::Client {
    sb_net::install_crypto_provider();
    reqwest::Client::new()
}

/// Asserts an error answer: status, machine code and (if given) the field.
#[track_caller]
pub fn assert_error(
    answer: &(StatusCode, Value),
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    let (got_status, body) = answer;
    assert_eq!(*got_status, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    match field {
        Some(field) => assert_eq!(body["error"]["field"], field, "{body}"),
        None => assert!(body["error"]["field"].is_null(), "{body}"),
    }
}

/// A webhook receiver on loopback (`POST /hooks`) that keeps every body it is sent.
pub async fn webhook_receiver()
-> (std::net::SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    let bodies: std::sync::Arc<std::sync::Mutex<Vec<Value>>> = Default::default();
    let kept = bodies.clone();
    let router = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move { kept.lock().unwrap().push(serde_json::from_slice(&body).unwrap()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, bodies)
}
