//! The three patterns end to end, through the public API, against a live backend on loopback.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::backend::{self, API_KEY, Backend, CLIENT_ID, CLIENT_SECRET};
use crate::support::{Client, TestApp, api_connection, kinds};

#[tokio::test]
async fn lookup_and_reply_answers_with_the_live_order_status() {
    let backend = backend::start().await;
    for app in TestApp::every_backend_allowing(&[backend.addr()]).await {
        let tokens_before = backend.tokens();
        let owner = app.signup("Acme", "owner@acme.test").await;
        let auth = json!({"type": "oauth2_client_credentials", "token_url": "TOKEN_URL", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET});
        let connection =
            owner.create_connection(api_connection("Shop", &backend.url(), auth)).await;
        let endpoint = json!({
            "name": "get_order", "method": "GET", "path": "/orders/{order_id}",
            "variables": [{"name": "order_id", "required": true, "pattern": "[0-9]+"}],
            "response_mapping": {"order_status": "data.status", "delivery_eta": "data.shipping.eta"}
        });
        let endpoint_id = owner.create_endpoint(&connection, endpoint).await;
        let widget = owner.create_widget("Shop").await;
        owner.create_rule(json!({
            "name": "Order status", "priority": 10,
            "trigger": {"type": "regex", "pattern": "order\\s*#?\\s*\\d+", "flags": "i"},
            "actions": [
                {"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "#?(\\d{3,})"}},
                {"type": "CALL_API", "endpoint_id": endpoint_id, "on_error": [
                    {"type": "REPLY_TEXT", "text": "Sorry, I could not look up order {order_id} right now."}
                ]},
                {"type": "REPLY_TEXT", "text": "Order {order_id} is {order_status}; it should arrive on {delivery_eta}."}
            ],
            "stop": true
        })).await;

        let visitor = app.start_conversation_as(&widget, json!({"name": "Ann"})).await;
        let replies = visitor.say("Where is my order #4521?").await;
        assert_eq!(
            replies,
            vec!["Order 4521 is shipped; it should arrive on 2026-12-01."],
            "{}",
            app.backend
        );

        let conv = owner.conversation(&visitor.conversation_id).await;
        assert_eq!(conv["variables"]["order_id"], "4521");
        assert_eq!(conv["variables"]["order_status"], "shipped");
        let events = owner.trace(&visitor.conversation_id).await;
        assert_eq!(
            kinds(&events),
            [
                "rule_fired",
                "variable_set",
                "api_call",
                "variable_set",
                "variable_set",
                "reply",
                "evaluation_stopped"
            ]
        );
        let call = &events[2]["data"];
        assert_eq!(
            (call["status"].clone(), call["ok"].clone(), call["endpoint"].clone()),
            (json!(200), json!(true), json!("get_order"))
        );
        assert!(call["url"].as_str().unwrap().ends_with("/api/orders/4521"), "{call}");
        assert!(call["latency_ms"].is_u64());
        assert!(!events.iter().any(|e| e.to_string().contains(CLIENT_SECRET)));

        // An unknown order (a 404, the lookup's normal "not found") lands in on_error; the
        // conversation goes on.
        let replies = visitor.say("and order #9999?").await;
        assert_eq!(replies, vec!["Sorry, I could not look up order 9999 right now."]);
        let conv = owner.conversation(&visitor.conversation_id).await;
        assert_eq!(conv["variables"]["api.get_order.found"], false, "{conv}");
        assert!(conv["variables"].get("order_status").is_none(), "{conv}");
        assert_eq!(conv["status"], "open");
        assert_eq!(
            backend.tokens() - tokens_before,
            1,
            "the OAuth token was fetched once and reused"
        );
    }
}

#[tokio::test]
async fn lookup_and_route_hands_vip_accounts_to_a_person() {
    let backend = backend::start().await;
    for app in TestApp::every_backend_allowing(&[backend.addr()]).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        // Only the operator below takes conversations.
        owner.make_away().await;
        let (agent_id, _agent) = app.available_operator(&owner, "agent@acme.test").await;
        let crm = api_connection("CRM", &backend.url(), json!({"type": "api_key", "key": API_KEY}));
        let connection = owner.create_connection(crm).await;
        let endpoint = json!({
            "name": "get_account", "method": "GET", "path": "/orders/{visitor.user_id}",
            "response_mapping": {"account_status": "data.status"}, "requires_verified_visitor": true
        });
        let endpoint_id = owner.create_endpoint(&connection, endpoint).await;
        let secret = "identity-secret-0123456789";
        let widget =
            owner.create_widget_with(json!({"name": "Shop", "identity_secret": secret})).await;
        owner.create_rule(json!({
            "name": "Look up the account", "priority": 1, "trigger": {"type": "first_message"},
            "actions": [{"type": "CALL_API", "endpoint_id": endpoint_id, "on_error": [{"type": "SET_VARIABLE", "name": "account_status", "value": "unknown"}]}]
        })).await;
        owner.create_rule(json!({
            "name": "VIPs talk to people", "priority": 2, "trigger": {"type": "any"},
            "conditions": [{"variable": "account_status", "op": "in", "value": ["shipped", "vip"]}],
            "actions": [{"type": "ASSIGN_TO_OPERATOR", "note": "VIP account"}]
        })).await;
        owner
            .create_rule(json!({
                "name": "Everyone else", "priority": 3, "trigger": {"type": "any"},
                "actions": [{"type": "REPLY_TEXT", "text": "Thanks! Our assistant will help you."}]
            }))
            .await;

        // A verified visitor whose account the API reports as "shipped" (our stand-in for VIP).
        let hash = sb_engine::user_hash(secret, "4521");
        let vip =
            app.start_conversation_as(&widget, json!({"user_id": "4521", "user_hash": hash})).await;
        let replies = vip.say("Hello, I need help").await;
        assert_eq!(
            replies,
            vec!["You're being connected with a member of our team. They will reply here shortly."]
        );
        let conv = owner.conversation(&vip.conversation_id).await;
        assert_eq!(
            (conv["status"].clone(), conv["assigned_to"].clone()),
            (json!("pending"), json!(agent_id)),
            "{}",
            app.backend
        );
        assert_eq!(conv["visitor"]["verified"], true);

        // Someone who only claims the same user id is not verified: the API is never asked.
        let claimer = app.start_conversation_as(&widget, json!({"user_id": "4521"})).await;
        assert_eq!(
            claimer.say("Hello, I need help").await,
            vec!["Thanks! Our assistant will help you."]
        );
        let events = owner.trace(&claimer.conversation_id).await;
        let call = events.iter().find(|e| e["kind"] == "api_call").unwrap();
        assert_eq!(call["data"]["error"]["code"], "visitor_not_verified");
        assert_eq!(owner.conversation(&claimer.conversation_id).await["status"], "open");

        // While an operator owns the conversation the bot stays quiet.
        assert!(vip.say("are you there?").await.is_empty());
        assert!(owner.trace_kinds(&vip.conversation_id).await.contains(&"bot_skipped".to_owned()));
    }
}

#[tokio::test]
async fn a_multi_step_flow_collects_context_across_messages() {
    let backend = backend::start().await;
    for app in TestApp::every_backend_allowing(&[backend.addr()]).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let auth = json!({"type": "bearer", "token": backend::BEARER});
        let connection =
            owner.create_connection(api_connection("Shop", &backend.url(), auth)).await;
        let endpoint = json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}", "response_mapping": {"eta": "data.shipping.eta", "carrier": "data.shipping.carrier"}});
        let endpoint_id = owner.create_endpoint(&connection, endpoint).await;
        let widget = owner.create_widget("Shop").await;
        // Step 1: the visitor mentions a delivery problem — ask for the order number.
        owner.create_rule(json!({
            "name": "Delivery problem", "priority": 1, "trigger": {"type": "keywords", "any": ["delivery", "parcel"]},
            "conditions": [{"variable": "topic", "op": "unset"}],
            "actions": [{"type": "SET_VARIABLE", "name": "topic", "value": "delivery"}, {"type": "REPLY_TEXT", "text": "Sure — what is your order number?"}],
            "stop": true
        })).await;
        // Step 2: once the topic is known and a number arrives, call the API.
        owner.create_rule(json!({
            "name": "Order number", "priority": 2, "trigger": {"type": "regex", "pattern": "\\b\\d{4,}\\b"},
            "conditions": [{"variable": "topic", "op": "eq", "value": "delivery"}],
            "actions": [{"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "(\\d{4,})"}}]
        })).await;
        owner.create_rule(json!({
            "name": "Look it up", "priority": 3, "trigger": {"type": "variable", "name": "order_id"},
            "actions": [{"type": "CALL_API", "endpoint_id": endpoint_id}, {"type": "REPLY_TEXT", "text": "Found it. Shall I tell you when it arrives, or who delivers it?"}],
            "stop": true
        })).await;
        // Step 3: compose the answer from what the API said two messages ago.
        owner.create_rule(json!({
            "name": "Answer", "priority": 4, "trigger": {"type": "keywords", "any": ["when", "who"]},
            "conditions": [{"variable": "eta", "op": "set"}],
            "actions": [{"type": "REPLY_TEXT", "text": "{carrier} delivers order {order_id} on {eta}."}]
        })).await;

        let visitor = app.start_conversation(&widget).await;
        assert_eq!(
            visitor.say("My parcel has not arrived").await,
            vec!["Sure — what is your order number?"]
        );
        assert_eq!(
            visitor.say("It's 4521").await,
            vec!["Found it. Shall I tell you when it arrives, or who delivers it?"]
        );
        assert_eq!(
            visitor.say("When will it come?").await,
            vec!["DHL delivers order 4521 on 2026-12-01."],
            "{}",
            app.backend
        );
        let texts: Vec<String> = visitor
            .messages()
            .await
            .iter()
            .map(|m| m["author"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(texts, ["visitor", "bot", "visitor", "bot", "visitor", "bot"]);
    }
}

#[tokio::test]
async fn a_backend_that_hangs_yields_the_on_error_reply_within_about_five_seconds() {
    let hanging = crate::backend::hanging().await;
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = vec![hanging.to_string()]).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let slow = api_connection("Slow", &format!("http://{hanging}"), json!({"type": "none"}));
    let connection = owner.create_connection(slow).await;
    let endpoint = json!({"name": "slow", "method": "GET", "path": "/x"});
    let endpoint = owner.create_endpoint(&connection, endpoint).await;
    let widget = owner.create_widget("Shop").await;
    owner.create_rule(json!({
        "name": "Slow lookup", "trigger": {"type": "any"},
        "actions": [{"type": "CALL_API", "endpoint_id": endpoint, "on_error": [{"type": "REPLY_TEXT", "text": "Our order system is slow right now ({api.slow.error})."}]}]
    })).await;
    owner
        .create_rule(json!({
            "name": "Quick", "priority": 1, "trigger": {"type": "keywords", "any": ["quick"]},
            "actions": [{"type": "REPLY_TEXT", "text": "quick answer"}], "stop": true
        }))
        .await;
    let visitor = app.start_conversation(&widget).await;
    let other = app.start_conversation(&widget).await;
    let started = Instant::now();
    let slow = visitor.say("hello");
    let quick = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let replies = other.say("quick question").await;
        (replies, started.elapsed())
    };
    let (replies, (quick_replies, quick_took)) = tokio::join!(slow, quick);
    assert_eq!(quick_replies, vec!["quick answer"]);
    assert!(
        quick_took < Duration::from_secs(2),
        "another conversation was held up: {quick_took:?}"
    );
    let took = started.elapsed();
    assert_eq!(replies, vec!["Our order system is slow right now (timeout)."]);
    assert!(
        took >= Duration::from_millis(4500) && took < Duration::from_millis(7000),
        "took {took:?}"
    );
}

#[tokio::test]
async fn past_its_outbound_budget_a_tenant_gets_the_on_error_answer_not_another_call() {
    let backend = backend::start().await;
    let allow = vec![backend.addr().to_string()];
    let app = TestApp::sqlite_with(|c| {
        c.security.ssrf_allow = allow;
        c.outbound.calls_per_minute_per_tenant = 3;
    })
    .await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let busy = json!([{"type": "REPLY_TEXT", "text": "Busy ({api.get_order.error})"}]);
    let widget = order_status_shop(&owner, &backend, Some(busy)).await;

    let visitor = app.start_conversation(&widget).await;
    for _ in 0..3 {
        assert_eq!(visitor.say("where is #4521?").await, ["shipped"]);
    }
    assert_eq!(visitor.say("and #4521?").await, ["Busy (budget_exceeded)"]);
    let events = owner.trace(&visitor.conversation_id).await;
    let refused = events
        .iter()
        .filter(|e| e["kind"] == "api_call" && e["data"]["error"]["code"] == "budget_exceeded");
    assert_eq!(refused.count(), 1, "the refusal is in the trace");
    // Another tenant has a budget of its own.
    let other = app.signup("Beta", "owner@beta.test").await;
    let widget = order_status_shop(&other, &backend, None).await;
    let visitor = app.start_conversation(&widget).await;
    assert_eq!(visitor.say("where is #4521?").await, ["shipped"]);
}

/// `owner`'s shop at `backend`: a widget whose rule answers "#<number>" with the order's status
/// from the `get_order` endpoint, or with the `on_error` actions when the lookup fails.
async fn order_status_shop(owner: &Client, backend: &Backend, on_error: Option<Value>) -> String {
    let auth = json!({"type": "api_key", "key": API_KEY});
    let connection = owner.create_connection(api_connection("Shop", &backend.url(), auth)).await;
    let endpoint = json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}",
        "response_mapping": {"order_status": "data.status"}});
    let endpoint = owner.create_endpoint(&connection, endpoint).await;
    let mut call = json!({"type": "CALL_API", "endpoint_id": endpoint});
    if let Some(on_error) = on_error {
        call["on_error"] = on_error;
    }
    let widget = owner.create_widget("Shop").await;
    owner
        .create_rule(json!({
            "name": "Order", "trigger": {"type": "regex", "pattern": "#(\\d+)"},
            "actions": [
                {"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "#(\\d+)"}},
                call,
                {"type": "REPLY_TEXT", "text": "{order_status}"}
            ],
            "stop": true
        }))
        .await;
    widget
}
