//! Endpoint call health through whole conversations: every call a rule makes is counted per
//! endpoint and connection — failures and calls refused before sending as errors — with the
//! latency percentiles in the right bucket; endpoint tests are not counted; another tenant gets
//! 404; deleting an endpoint takes its statistics along.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend::{self, API_KEY};
use crate::support::{Client, TestApp, api_connection, assert_error};

/// A rule answering `<word> <argument>` by calling `endpoint` with the argument in `variable`.
async fn lookup_rule(owner: &Client, widget: &str, word: &str, endpoint: &str, variable: &str) {
    let pattern = format!("^{word} (\\S+)$");
    let rule = json!({"name": word, "widget_id": widget,
        "trigger": {"type": "regex", "pattern": pattern},
        "actions": [
            {"type": "SET_VARIABLE", "name": variable, "from_regex": {"pattern": pattern}},
            {"type": "CALL_API", "endpoint_id": endpoint, "on_error": [
                {"type": "REPLY_TEXT", "text": "failed"}
            ]},
            {"type": "REPLY_TEXT", "text": "done"}
        ], "stop": true});
    owner.create_rule(rule).await;
}

async fn stats(owner: &Client, path: &str) -> Value {
    let (status, body) = owner.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["data"].clone()
}

fn rate(value: &Value) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("not a rate: {value}"))
}

#[tokio::test]
async fn conversation_calls_are_counted_per_endpoint_and_connection() {
    let backend = backend::start().await;
    let slow = backend::delaying().await;
    for app in TestApp::every_backend_allowing(&[backend.addr(), slow]).await {
        let db = app.backend;
        let owner = app.signup("Acme", "owner@acme.test").await;
        let auth =
            json!({"type": "api_key", "placement": "query", "name": "api_key", "key": API_KEY});
        let shop = owner.create_connection(api_connection("Shop", &backend.url(), auth)).await;
        // No normal answers besides 2xx: a 404 counts as a failure here.
        let order = json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}",
            "variables": [{"name": "order_id", "required": true, "pattern": "[0-9]+"}],
            "response_mapping": {"order_status": "data.status"}, "expected_statuses": []});
        let get_order = owner.create_endpoint(&shop, order).await;
        let unused = json!({"name": "unused", "method": "GET", "path": "/orders/1"});
        let unused = owner.create_endpoint(&shop, unused).await;
        let delays = owner
            .create_connection(json!({"name": "Delays", "base_url": format!("http://{slow}")}))
            .await;
        let wait = json!({"name": "wait", "method": "GET",
            "path": "/delay/{ms}", "variables": [{"name": "ms", "required": true}],
            "response_mapping": {"waited": "ms"}});
        let wait = owner.create_endpoint(&delays, wait).await;
        let widget = owner.create_widget("Shop").await;
        lookup_rule(&owner, &widget, "order", &get_order, "order_id").await;
        lookup_rule(&owner, &widget, "wait", &wait, "ms").await;

        // Succeeding and failing calls, one of them refused before sending (not digits).
        let visitor = app.start_conversation(&widget).await;
        for (message, reply) in [
            ("order 4521", "done"),
            ("order abc", "failed"),
            ("order 999", "failed"),
            ("order 4521", "done"),
            ("wait 110", "done"),
            ("wait 110", "done"),
            ("wait 320", "done"),
            ("wait 110", "done"),
        ] {
            assert_eq!(visitor.say(message).await, [reply], "{db}: {message}");
        }
        // Conversations in parallel, on a shared row: every call adds up.
        let mut parallel = Vec::new();
        for _ in 0..6 {
            parallel.push(app.start_conversation(&widget).await);
        }
        let replies =
            futures_util::future::join_all(parallel.iter().map(|v| v.say("order 4521"))).await;
        assert!(replies.iter().all(|r| r == &["done"]), "{db}: {replies:?}");
        let last = visitor.say("order 4521").await;
        assert_eq!(last, ["done"]);

        // An endpoint test is not a conversation's call: not counted.
        let before = stats(&owner, &format!("/api/v1/endpoints/{get_order}/stats")).await;
        let (status, tested) = owner
            .post(
                format!("/api/v1/endpoints/{get_order}/test"),
                json!({"variables": {"order_id": "999"}}),
            )
            .await;
        assert_eq!((status, &tested["data"]["ok"]), (StatusCode::OK, &json!(false)));
        let order = stats(&owner, &format!("/api/v1/endpoints/{get_order}/stats")).await;
        assert_eq!(order, before, "{db}: the test changed the statistics");

        assert_eq!(
            (&order["endpoint_id"], &order["name"]),
            (&json!(get_order), &json!("get_order"))
        );
        for window in ["1h", "24h", "7d"] {
            let w = &order["windows"][window];
            assert_eq!((&w["calls"], &w["errors"]), (&json!(11), &json!(2)), "{db} {window}: {w}");
            assert!((rate(&w["error_rate"]) - 2.0 / 11.0).abs() < 1e-9, "{w}");
            // Ten calls were sent to a loopback backend: fast, whatever the machine.
            let (p50, p95) = (w["p50_ms"].as_u64().unwrap(), w["p95_ms"].as_u64().unwrap());
            assert!(p50 <= p95 && p95 <= 1000, "{db} {window}: {w}");
        }
        let last_call = &order["last_call"];
        assert_eq!(
            (&last_call["ok"], &last_call["status"]),
            (&json!(true), &json!(200)),
            "{order}"
        );
        assert!(last_call["latency_ms"].is_u64() && last_call.get("error_code").is_none());
        let error = &order["last_error"];
        assert_eq!(error["code"], "http_error", "{db}: the later of the two failures");
        assert!(error["message"].as_str().unwrap().contains("404"), "{error}");

        // Latency percentiles: three calls of ~110 ms (bucket ≤150) and one of ~320 (≤500).
        let waits = stats(&owner, &format!("/api/v1/endpoints/{wait}/stats")).await;
        let hour = &waits["windows"]["1h"];
        assert_eq!((&hour["calls"], &hour["errors"]), (&json!(4), &json!(0)), "{db}: {hour}");
        assert_eq!(rate(&hour["error_rate"]), 0.0);
        assert_eq!((&hour["p50_ms"], &hour["p95_ms"]), (&json!(150), &json!(500)), "{db}: {hour}");
        assert!(waits["last_error"].is_null());
        // The contract's flat form: one window's figures at the top, 24 h unless asked.
        assert_eq!((&waits["window"], &waits["calls"]), (&json!("24h"), &json!(4)), "{waits}");
        let flat = stats(&owner, &format!("/api/v1/endpoints/{wait}/stats?window=1h")).await;
        assert_eq!((&flat["window"], &flat["p95_ms"]), (&json!("1h"), &json!(500)), "{flat}");
        assert_eq!(flat["last_called_at"], flat["last_call"]["at"]);
        let (status, refused) =
            owner.get(format!("/api/v1/endpoints/{wait}/stats?window=2w")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["error"]["field"], "window");

        // The connection: the total of its endpoints and each endpoint, used or not.
        let connection = stats(&owner, &format!("/api/v1/connections/{shop}/stats")).await;
        assert_eq!(connection["connection_id"], json!(shop));
        assert_eq!(connection["windows"], order["windows"]);
        assert_eq!((&connection["last_call"], &connection["last_error"]), (last_call, error));
        let endpoints = connection["endpoints"].as_array().unwrap();
        assert_eq!(endpoints.len(), 2, "{connection}");
        let listed = endpoints.iter().find(|e| e["endpoint_id"] == json!(get_order)).unwrap();
        for key in ["name", "windows", "last_call", "last_error"] {
            assert_eq!(listed[key], order[key], "{key}");
        }
        let idle = endpoints.iter().find(|e| e["endpoint_id"] == json!(unused)).unwrap();
        assert_eq!(
            idle["windows"]["24h"],
            json!({"calls": 0, "errors": 0, "error_rate": null, "p50_ms": null, "p95_ms": null})
        );
        assert!(idle["last_call"].is_null() && idle["last_error"].is_null());

        // Connections and endpoints carry their health.
        let (_, listed) = owner.get("/api/v1/connections").await;
        let health_of = |id: &str| {
            listed["data"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["health"]
                .clone()
        };
        let health = health_of(&shop);
        assert_eq!((&health["calls_24h"], &health["errors_24h"]), (&json!(11), &json!(2)));
        assert!((rate(&health["error_rate_24h"]) - 2.0 / 11.0).abs() < 1e-9);
        assert_eq!(&health["last_call"], last_call);
        assert_eq!(health_of(&delays)["error_rate_24h"], json!(0.0));
        assert_eq!(stats(&owner, &format!("/api/v1/connections/{shop}")).await["health"], health);
        let endpoint = stats(&owner, &format!("/api/v1/endpoints/{get_order}")).await;
        assert_eq!(&endpoint["last_call"], last_call);
        assert_eq!(endpoint["last_test"]["status"], 404, "the test is the last test, not call");
        let (_, listed) = owner.get(format!("/api/v1/connections/{shop}/endpoints")).await;
        let last_calls: Vec<&Value> =
            listed["data"].as_array().unwrap().iter().map(|e| &e["last_call"]).collect();
        assert_eq!(last_calls, [last_call, &Value::Null]);

        // The trace stays small: no parsed answers in it.
        let events = owner.trace(&visitor.conversation_id).await;
        let calls: Vec<&Value> = events.iter().filter(|e| e["kind"] == "api_call").collect();
        assert_eq!(calls.len(), 9);
        assert!(calls.iter().all(|e| e["data"].get("body_json").is_none()), "{calls:?}");

        // Another tenant's ids are unknown.
        let other = app.signup("Beta", "bob@beta.test").await;
        for path in [
            format!("/api/v1/endpoints/{get_order}/stats"),
            format!("/api/v1/connections/{shop}/stats"),
        ] {
            assert_error(&other.get(&path).await, StatusCode::NOT_FOUND, "not_found", None);
        }

        // Deleting an endpoint deletes its statistics.
        assert_eq!(owner.delete(format!("/api/v1/endpoints/{get_order}")).await.0, StatusCode::OK);
        let connection = stats(&owner, &format!("/api/v1/connections/{shop}/stats")).await;
        assert_eq!(connection["windows"]["7d"]["calls"], 0, "{db}: {connection}");
        assert!(connection["last_call"].is_null());
        assert_eq!(
            stats(&owner, &format!("/api/v1/connections/{shop}")).await["health"]["calls_24h"],
            0
        );
    }
}

#[tokio::test]
async fn calls_refused_before_sending_count_as_errors() {
    let backend = backend::start().await;
    let allow = vec![backend.addr().to_string()];
    let app = TestApp::sqlite_with(|c| {
        c.security.ssrf_allow = allow;
        c.outbound.calls_per_minute_per_tenant = 2;
    })
    .await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let auth = json!({"type": "api_key", "key": API_KEY});
    let shop = owner.create_connection(api_connection("Shop", &backend.url(), auth)).await;
    let order = json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}",
        "variables": [{"name": "order_id", "required": true}]});
    let get_order = owner.create_endpoint(&shop, order).await;
    let private = json!({"name": "private", "method": "GET", "path": "/orders/{order_id}",
        "variables": [{"name": "order_id", "required": true}], "requires_verified_visitor": true});
    let private = owner.create_endpoint(&shop, private).await;
    let widget = owner.create_widget("Shop").await;
    lookup_rule(&owner, &widget, "order", &get_order, "order_id").await;
    lookup_rule(&owner, &widget, "private", &private, "order_id").await;

    let visitor = app.start_conversation(&widget).await;
    // The budget allows two calls a minute: the third is refused.
    for (message, reply) in
        [("order 4521", "done"), ("order 4521", "done"), ("order 4521", "failed")]
    {
        assert_eq!(visitor.say(message).await, [reply], "{message}");
    }
    assert_eq!(visitor.say("private 4521").await, ["failed"], "the visitor is not verified");

    let order = stats(&owner, &format!("/api/v1/endpoints/{get_order}/stats")).await;
    let hour = &order["windows"]["1h"];
    assert_eq!((&hour["calls"], &hour["errors"]), (&json!(3), &json!(1)), "{order}");
    assert_eq!(order["last_error"]["code"], "budget_exceeded");
    assert_eq!(order["last_call"]["error_code"], "budget_exceeded");
    assert!(order["last_call"].get("status").is_none(), "nothing was sent: {order}");
    let private = stats(&owner, &format!("/api/v1/endpoints/{private}/stats")).await;
    let hour = &private["windows"]["1h"];
    assert_eq!(
        (&hour["calls"], &hour["errors"], rate(&hour["error_rate"])),
        (&json!(1), &json!(1), 1.0)
    );
    assert!(hour["p50_ms"].is_null(), "a refused call has no latency: {hour}");
    assert_eq!(private["last_error"]["code"], "visitor_not_verified");
    let connection = stats(&owner, &format!("/api/v1/connections/{shop}")).await;
    assert_eq!(
        (&connection["health"]["calls_24h"], &connection["health"]["errors_24h"]),
        (&json!(4), &json!(2))
    );
}
