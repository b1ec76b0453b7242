//! Malformed configuration from a tenant: valid bodies with one field at a time replaced by a
//! hostile value (wrong types, huge or empty strings, deep nesting, control characters, paths
//! that climb) are refused with a 4xx in the error format — never a 5xx, never a panic — and
//! the server answers normally afterwards.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

fn hostile_values() -> Vec<Value> {
    let deep = (0..200).fold(json!(1), |inner, _| json!([inner]));
    vec![
        Value::Null,
        json!(true),
        json!(-1),
        json!(1e308),
        json!(""),
        json!("x".repeat(20_000)),
        json!([]),
        json!({}),
        deep,
        json!("{unclosed"),
        json!("/../../etc/passwd"),
        json!("\u{0}\u{7}\r\n"),
        json!("http://169.254.169.254/latest/meta-data"),
        json!({"type": "unknown"}),
        json!([{"type": "REPLY_TEXT"}]),
    ]
}

/// Every way of replacing one top-level field (or adding an unknown one) of `body`.
fn mutations(body: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let Value::Object(fields) = body else { return out };
    for key in fields.keys() {
        let mut without = fields.clone();
        without.remove(key);
        out.push(Value::Object(without));
        for value in hostile_values() {
            let mut changed = fields.clone();
            changed.insert(key.clone(), value);
            out.push(Value::Object(changed));
        }
    }
    let mut extra = fields.clone();
    extra.insert("surprise".into(), json!(1));
    out.push(Value::Object(extra));
    out
}

#[tokio::test]
async fn every_malformed_configuration_gets_a_4xx_with_a_code() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    let connection =
        owner.create_connection(json!({"name": "C", "base_url": "https://api.example.com"})).await;
    let valid = [
        (
            "/api/v1/widgets".to_owned(),
            json!({"name": "W", "greeting": "Hi", "allowed_origins": ["https://a.example"]}),
        ),
        (
            "/api/v1/connections".to_owned(),
            json!({"name": "N", "base_url": "https://api.example.com", "auth": {"type": "bearer", "token": "t"}, "timeout_ms": 3000}),
        ),
        (
            format!("/api/v1/connections/{connection}/endpoints"),
            json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}", "query": {"a": "{b}"}, "variables": [{"name": "order_id", "pattern": "[0-9]+"}], "response_mapping": {"s": "data.status"}}),
        ),
        (
            "/api/v1/rules".to_owned(),
            json!({"name": "R", "priority": 1, "trigger": {"type": "regex", "pattern": "#(\\d+)"}, "conditions": [{"variable": "x", "op": "eq", "value": 1}], "actions": [{"type": "REPLY_TEXT", "text": "{x}"}]}),
        ),
        (
            "/api/v1/rules/dry-run".to_owned(),
            json!({"widget_id": widget, "message": "hi", "variables": {"a": 1}}),
        ),
        (
            "/api/v1/kb/documents".to_owned(),
            json!({"title": "T", "content": "Text", "format": "markdown"}),
        ),
        ("/api/v1/teams".to_owned(), json!({"name": "Team", "member_ids": []})),
        (
            "/api/v1/webhooks".to_owned(),
            json!({"url": "https://hooks.example.com/in", "events": ["message.created"], "description": "CRM", "active": true}),
        ),
    ];
    let mut tried = 0;
    for (path, body) in &valid {
        for (i, mutated) in mutations(body).into_iter().enumerate() {
            // Unique names, so that a mutation that happens to be valid does not collide.
            let mutated = match mutated {
                Value::Object(mut map) if map.get("name").is_some_and(Value::is_string) => {
                    map.insert("name".into(), json!(format!("n{tried}x{i}")));
                    Value::Object(map)
                }
                other => other,
            };
            let (status, answer) = owner.post(path, mutated.clone()).await;
            tried += 1;
            assert!(!status.is_server_error(), "{path} answered {status} to {mutated}: {answer}");
            if status.is_client_error() {
                let code = answer["error"]["code"].as_str().unwrap_or_default();
                assert!(!code.is_empty(), "{path}: a 4xx without a code: {answer}");
                assert!(answer["error"]["message"].is_string(), "{answer}");
            }
        }
    }
    assert!(tried >= 400, "{tried} bodies tried");
    let (status, _) = owner.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "the server still answers");
}
