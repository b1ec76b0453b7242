//! What the black-box tests stand on: `TestApp`, the real server on 127.0.0.1:0 over a fresh
//! database (`app`), and `Client`, a small HTTP client with one method per API call the tests
//! need (`client`).

mod app;
mod client;

use reqwest::StatusCode;
use serde_json::Value;

pub use app::TestApp;
pub use client::Client;

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
