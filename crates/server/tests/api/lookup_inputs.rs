//! A lookup's inputs on the `CALL_API` itself: filled from the message, a template or the
//! conversation, asked for when the message lacks them, and never taken silently from an
//! earlier message. The order API records every path that reaches it.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode as BackendStatus;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, TestApp, api_connection, assert_error, kinds};

/// An order API on loopback: orders 4521 and 4522 exist, any other number is a 404.
pub(crate) async fn order_backend() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let router = Router::new().route(
        "/api/orders/{id}",
        get(move |Path(id): Path<String>| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(id.clone());
                match id.as_str() {
                    "4521" => (BackendStatus::OK, axum::Json(json!({"status": "shipped"}))),
                    "4522" => (BackendStatus::OK, axum::Json(json!({"status": "packed"}))),
                    _ => (BackendStatus::NOT_FOUND, axum::Json(json!({"error": "no such order"}))),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, seen)
}

/// A shop with `get_order` (`GET /orders/{orderId}`, `status` mapped to `order_status`).
/// The channels' order rule, as a flow: an order number in the message is looked up; without
/// one, the customer is asked for it and the next message goes on.
pub(crate) fn order_flow_rule(endpoint: &str) -> Value {
    json!({"name": "Order", "stop": true,
        "trigger": {"type": "regex", "pattern": r"\border\b|^\d{4}$", "flags": "i"},
        "actions": [
            {"type": "CALL_API", "endpoint_id": endpoint, "arguments": {"orderId":
                {"from_message": {"pattern": r"#?(\d{4})"}, "ask": "Which order number?"}}},
            {"type": "REPLY_TEXT", "text": "Order {orderId} is {order_status}."}]})
}

/// The channels' order rule at its simplest: a four-digit number is an order to look up.
pub(crate) fn order_rule(endpoint: &str) -> Value {
    json!({"name": "Order", "stop": true, "trigger": {"type": "regex", "pattern": r"\d{4}"},
        "actions": [
            {"type": "CALL_API", "endpoint_id": endpoint, "arguments": {"orderId": {"from_message": {"pattern": r"(\d{4})"}}}},
            {"type": "REPLY_TEXT", "text": "Order {orderId} is {order_status}."}]})
}

pub(crate) async fn shop(app: &TestApp, backend: std::net::SocketAddr) -> (Client, String, String) {
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    let base = format!("http://{backend}");
    let connection =
        owner.create_connection(api_connection("Shop", &base, json!({"type": "none"}))).await;
    let endpoint = owner
        .create_endpoint(
            &connection,
            json!({
                "name": "get_order",
                "method": "GET",
                "path": "/orders/{orderId}",
                "variables": [{"name": "orderId", "description": "the order number"}],
                "response_mapping": {"order_status": "status"},
            }),
        )
        .await;
    (owner, widget, endpoint)
}

fn order_number(ask: Option<&str>, reuse: bool) -> Value {
    let mut input = json!({"from_message": {"pattern": r"#?(\d{4})"}});
    if let Some(ask) = ask {
        input["ask"] = json!(ask);
    }
    if reuse {
        input["reuse"] = json!(true);
    }
    input
}

fn lookup_rule(name: &str, trigger: Value, endpoint: &str, input: Value) -> Value {
    json!({"name": name, "trigger": trigger, "stop": true, "actions": [
        {"type": "CALL_API", "endpoint_id": endpoint, "arguments": {"orderId": input},
         "on_error": [{"type": "REPLY_TEXT", "text": "No order to look up ({api.get_order.error})."}]},
        {"type": "REPLY_TEXT", "text": "Order {orderId} is {order_status}."},
    ]})
}

#[tokio::test]
async fn a_lookup_asks_for_a_missing_input_and_goes_on_with_the_answer() {
    let (backend, seen) = order_backend().await;
    for app in TestApp::every_backend_allowing(&[backend]).await {
        seen.lock().unwrap().clear();
        let (owner, widget, endpoint) = shop(&app, backend).await;
        let regex = json!({"type": "regex", "pattern": r"\border\b", "flags": "i"});
        let ask = order_number(Some("Which order number?"), false);
        owner.create_rule(lookup_rule("Order status", regex, &endpoint, ask)).await;
        let catch_all = json!({"name": "Anything else", "priority": 200, "trigger": {"type": "any"},
            "actions": [{"type": "REPLY_TEXT", "text": "I can look up orders."}]});
        owner.create_rule(catch_all).await;
        let visitor = app.start_conversation(&widget).await;

        assert_eq!(visitor.say("Where is order 4521?").await, ["Order 4521 is shipped."]);
        assert_eq!(visitor.say("And order #4522?").await, ["Order 4522 is packed."]);
        // No number: the earlier one must not answer for it.
        assert_eq!(visitor.say("Where is my other order?").await, ["Which order number?"]);
        assert_eq!(*seen.lock().unwrap(), ["4521", "4522"]);
        assert_eq!(visitor.say("It's 4521 I think").await, ["Order 4521 is shipped."]);
        assert_eq!(*seen.lock().unwrap(), ["4521", "4522", "4521"]);

        // A message that is no answer drops the question and is handled like any other.
        assert_eq!(visitor.say("Where is my order?").await, ["Which order number?"]);
        assert_eq!(visitor.say("what are your opening hours").await, ["I can look up orders."]);
        assert_eq!(visitor.say("4522").await, ["I can look up orders."]);
        assert_eq!(seen.lock().unwrap().len(), 3, "no call after the question was dropped");

        let trace = owner.trace(&visitor.conversation_id).await;
        let kinds = kinds(&trace);
        assert_eq!(kinds.iter().filter(|k| *k == "input_asked").count(), 2, "{kinds:?}");
        assert!(kinds.contains(&"question_answered".to_owned()), "{kinds:?}");
        let dropped = trace.iter().find(|e| e["kind"] == "question_dropped").unwrap();
        assert_eq!(dropped["data"]["name"], "orderId", "{dropped}");
        let conversation = owner.conversation(&visitor.conversation_id).await;
        assert!(conversation["variables"].get("conversation.question").is_none(), "{conversation}");
    }
}

#[tokio::test]
async fn an_earlier_value_is_used_only_where_the_rule_allows_it() {
    let (backend, seen) = order_backend().await;
    let allow = vec![backend.to_string()];
    let app = TestApp::sqlite_with(|config| config.security.ssrf_allow = allow).await;
    let (owner, widget, endpoint) = shop(&app, backend).await;
    let strict = json!({"type": "regex", "pattern": r"\border\b", "flags": "i"});
    owner.create_rule(lookup_rule("strict", strict, &endpoint, order_number(None, false))).await;
    let again = json!({"type": "keywords", "any": ["again"]});
    let reuse = order_number(None, true);
    owner.create_rule(lookup_rule("again", again, &endpoint, reuse)).await;
    let visitor = app.start_conversation(&widget).await;

    assert_eq!(visitor.say("order 4522 please").await, ["Order 4522 is packed."]);
    assert_eq!(visitor.say("where's my order").await, ["No order to look up (missing_input)."]);
    assert_eq!(visitor.say("check again").await, ["Order 4522 is packed."]);
    assert_eq!(*seen.lock().unwrap(), ["4522", "4522"]);
    let trace = owner.trace(&visitor.conversation_id).await;
    let missing = trace.iter().find(|e| e["kind"] == "input_missing").unwrap();
    assert_eq!(missing["data"]["reason"], "the message holds no orderId", "{missing}");
    let reused = trace.iter().find(|e| e["kind"] == "input_reused").unwrap();
    assert_eq!(reused["data"]["value"], "4522", "{reused}");

    // Templates fill inputs from the session; the dry run shows what each input would be.
    let template = json!({"name": "template", "priority": 1, "trigger": {"type": "keywords", "any": ["last"]},
        "actions": [{"type": "CALL_API", "endpoint_id": endpoint, "arguments": {"orderId": "{last_order}"}}]});
    owner.create_rule(template).await;
    let body =
        json!({"widget_id": widget, "message": "my last one", "variables": {"last_order": 4521}});
    let (status, run) = owner.post("/api/v1/rules/dry-run", body).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let action = &run["data"]["fired"][0]["actions"][0];
    assert_eq!(action["inputs"]["orderId"], json!({"value": 4521, "from": "found"}), "{action}");
    assert_eq!(action["request"]["url"], format!("http://{backend}/api/orders/4521"), "{action}");
    let body = json!({"widget_id": widget, "message": "where is my order"});
    let ask = json!({"name": "ask", "priority": 2, "trigger": {"type": "keywords", "any": ["where"]},
        "actions": [{"type": "CALL_API", "endpoint_id": endpoint,
            "arguments": {"orderId": order_number(Some("Which order?"), false)}}]});
    owner.create_rule(ask).await;
    let (_, run) = owner.post("/api/v1/rules/dry-run", body).await;
    let action = &run["data"]["fired"][0]["actions"][0];
    assert_eq!(action["would_send"], false, "{action}");
    assert_eq!(action["would_ask_for"]["question"], "Which order?", "{action}");
}

#[tokio::test]
async fn inputs_are_checked_against_the_endpoint_when_a_rule_is_saved() {
    let (backend, _) = order_backend().await;
    let allow = vec![backend.to_string()];
    let app = TestApp::sqlite_with(|config| config.security.ssrf_allow = allow).await;
    let (owner, _, endpoint) = shop(&app, backend).await;
    let with = |arguments: Value| {
        json!({"name": "r", "trigger": {"type": "any"}, "actions": [
            {"type": "CALL_API", "endpoint_id": endpoint, "arguments": arguments}]})
    };
    let cases = [
        (json!({"orderNo": "{x}"}), "actions[0].arguments.orderNo", "unknown_input"),
        (
            json!({"orderId": {"value": "{x}", "ask": "Which?"}}),
            "actions[0].arguments.orderId.ask",
            "invalid_argument",
        ),
        (json!({"orderId": {}}), "actions[0].arguments.orderId", "invalid_argument"),
        (
            json!({"orderId": {"from_message": {"pattern": "("}}}),
            "actions[0].arguments.orderId.from_message.pattern",
            "invalid_pattern",
        ),
        (
            json!({"visitor.email": "{x}"}),
            "actions[0].arguments.visitor.email",
            "read_only_variable",
        ),
    ];
    for (arguments, field, code) in cases {
        let answer = owner.post("/api/v1/rules", with(arguments)).await;
        assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, code, Some(field));
    }
    let (status, body) = owner.post("/api/v1/rules", with(json!({"orderId": 4521}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("template string or an object"), "{body}");
}

#[tokio::test]
async fn an_expected_status_is_a_normal_answer_that_found_nothing() {
    let (backend, _) = order_backend().await;
    for app in TestApp::every_backend_allowing(&[backend]).await {
        let (owner, widget, endpoint) = shop(&app, backend).await;
        let (_, shown) = owner.get(format!("/api/v1/endpoints/{endpoint}")).await;
        assert_eq!(shown["data"]["expected_statuses"], json!([404]), "GET's default: {shown}");
        assert_eq!(shown["data"]["inputs"], json!(["orderId"]), "{shown}");
        let regex = json!({"type": "regex", "pattern": r"\border\b", "flags": "i"});
        let rule = json!({"name": "Order status", "trigger": regex, "stop": true, "actions": [
            {"type": "CALL_API", "endpoint_id": endpoint, "arguments": {"orderId": order_number(None, false)},
             "on_error": [{"type": "REPLY_TEXT", "text": "No order {orderId} (found: {api.get_order.found})."}]},
            {"type": "REPLY_TEXT", "text": "Order {orderId} is {order_status}."},
        ]});
        owner.create_rule(rule).await;
        let visitor = app.start_conversation(&widget).await;
        assert_eq!(visitor.say("order 4521").await, ["Order 4521 is shipped."]);
        // The earlier answer's status must not pass for this one's.
        assert_eq!(visitor.say("order 9999").await, ["No order 9999 (found: false)."]);
        let conversation = owner.conversation(&visitor.conversation_id).await;
        assert!(conversation["variables"].get("order_status").is_none(), "{conversation}");
        assert!(conversation["variables"].get("api.get_order.error").is_none(), "{conversation}");

        // Not a failure of the endpoint: two calls, no errors.
        let (_, stats) = owner.get(format!("/api/v1/endpoints/{endpoint}/stats")).await;
        let day = &stats["data"]["windows"]["24h"];
        assert_eq!((&day["calls"], &day["errors"]), (&json!(2), &json!(0)), "{stats}");
        let test = json!({"variables": {"orderId": "9999"}});
        let (_, tested) = owner.post(format!("/api/v1/endpoints/{endpoint}/test"), test).await;
        assert_eq!(
            (&tested["data"]["ok"], &tested["data"]["found"]),
            (&json!(true), &json!(false))
        );

        // Without 404 among the normal answers, it is a failure again.
        let (status, body) = owner
            .patch(format!("/api/v1/endpoints/{endpoint}"), json!({"expected_statuses": []}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(visitor.say("order 9998").await, ["No order 9998 (found: )."]);
        let (_, stats) = owner.get(format!("/api/v1/endpoints/{endpoint}/stats")).await;
        assert_eq!(stats["data"]["windows"]["24h"]["errors"], 1, "{stats}");
        assert_eq!(stats["data"]["last_error"]["code"], "http_error", "{stats}");

        let both = json!({"expected_statuses": [404, 200]});
        let (_, body) = owner.patch(format!("/api/v1/endpoints/{endpoint}"), both).await;
        assert_eq!(body["data"]["expected_statuses"], json!([200, 404]), "{body}");
        for (statuses, field) in
            [(json!([99]), "expected_statuses[0]"), (json!([404, 600]), "expected_statuses[1]")]
        {
            let body = json!({"expected_statuses": statuses});
            let answer = owner.patch(format!("/api/v1/endpoints/{endpoint}"), body).await;
            assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_status", Some(field));
        }
    }
}

#[tokio::test]
async fn a_connection_test_answered_404_is_reachable_and_says_why() {
    let (backend, _) = order_backend().await;
    let allow = vec![backend.to_string()];
    let app = TestApp::sqlite_with(|config| config.security.ssrf_allow = allow).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let base = format!("http://{backend}");
    let connection =
        owner.create_connection(api_connection("Shop", &base, json!({"type": "none"}))).await;
    let (status, tested) =
        owner.post(format!("/api/v1/connections/{connection}/test"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{tested}");
    assert_eq!((&tested["data"]["ok"], &tested["data"]["status"]), (&json!(true), &json!(404)));
    let notes = tested["data"]["notes"].to_string();
    assert!(notes.contains("reachable") && notes.contains("test an endpoint"), "{tested}");
}
