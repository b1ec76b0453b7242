//! Widgets and rules through the tenant API: validation, write-only secrets, the dry run, and
//! tenant isolation.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_error};

#[tokio::test]
async fn widgets_are_validated_and_their_identity_secret_is_write_only() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let (status, created) = owner
            .post("/api/v1/widgets", json!({"name": "Shop", "primary_color": "#FF8800", "position": "bottom-left", "allowed_origins": ["https://Shop.Example.com/"], "identity_secret": "0123456789abcdef-secret"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let widget = &created["data"];
        assert_eq!(
            (widget["primary_color"].clone(), widget["position"].clone()),
            (json!("#ff8800"), json!("bottom-left"))
        );
        assert_eq!(widget["allowed_origins"], json!(["https://shop.example.com"]));
        assert_eq!(widget["identity_secret_set"], true);
        assert_eq!(widget["active"], true);
        assert!(!created.to_string().contains("0123456789abcdef-secret"));
        let id = widget["id"].as_str().unwrap();
        let (_, patched) = owner
            .patch(
                format!("/api/v1/widgets/{id}"),
                json!({"greeting": "Hallo!", "ai_enabled": true}),
            )
            .await;
        assert_eq!(patched["data"]["identity_secret_set"], true, "kept when not sent");
        assert_eq!(patched["data"]["greeting"], "Hallo!");
        let (_, cleared) = owner
            .patch(
                format!("/api/v1/widgets/{id}"),
                json!({"identity_secret": null, "greeting": null}),
            )
            .await;
        assert_eq!(cleared["data"]["identity_secret_set"], false);
        assert!(cleared["data"]["greeting"].is_null());
        let database = app.database_text().await;
        assert!(
            !database.contains("0123456789abcdef-secret"),
            "the identity secret is sealed at rest"
        );

        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        let bad = [
            (json!({}), "missing_field", "name"),
            (json!({"name": "W", "primary_color": "red"}), "invalid_color", "primary_color"),
            (json!({"name": "W", "position": "top"}), "invalid_position", "position"),
            (
                json!({"name": "W", "allowed_origins": ["shop.example.com"]}),
                "invalid_origin",
                "allowed_origins[0]",
            ),
            (
                json!({"name": "W", "allowed_origins": ["https://a.example/path"]}),
                "invalid_origin",
                "allowed_origins[0]",
            ),
            (json!({"name": "W", "identity_secret": "short"}), "too_short", "identity_secret"),
        ];
        for (body, code, field) in bad {
            assert_error(
                &owner.post("/api/v1/widgets", body).await,
                unprocessable,
                code,
                Some(field),
            );
        }
    }
}

#[tokio::test]
async fn rules_are_validated_field_by_field() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let base = |extra: Value| {
        let mut body = json!({"name": "R", "trigger": {"type": "any"}, "actions": [{"type": "REPLY_TEXT", "text": "hi"}]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let cases = [
        (
            json!({"trigger": {"type": "regex", "pattern": "(unclosed"}}),
            "invalid_pattern",
            "trigger.pattern",
        ),
        (
            json!({"trigger": {"type": "regex", "pattern": "a{1000}{1000}{1000}"}}),
            "invalid_pattern",
            "trigger.pattern",
        ),
        (
            json!({"trigger": {"type": "regex", "pattern": "x", "flags": "g"}}),
            "invalid_pattern",
            "trigger.pattern",
        ),
        (json!({"trigger": {"type": "keywords", "any": [" "]}}), "required", "trigger.any"),
        (json!({"trigger": {"type": "sometimes"}}), "invalid_field", "trigger.type"),
        (json!({"actions": []}), "required", "actions"),
        (
            json!({"actions": [{"type": "REPLY_TEXT", "text": "{unclosed"}]}),
            "invalid_template",
            "actions[0].text",
        ),
        (
            json!({"actions": [{"type": "SET_VARIABLE", "name": "visitor.email", "value": "x"}]}),
            "read_only_variable",
            "actions[0].name",
        ),
        (
            json!({"actions": [{"type": "SET_VARIABLE", "name": "x"}]}),
            "invalid_action",
            "actions[0]",
        ),
        (
            json!({"actions": [{"type": "SET_VARIABLE", "name": "x", "from_regex": {"pattern": "("}}]}),
            "invalid_pattern",
            "actions[0].from_regex.pattern",
        ),
        (json!({"actions": [{"type": "SEND_FAX"}]}), "invalid_field", "actions[0].type"),
        (
            json!({"conditions": [{"variable": "tier", "op": "eq"}]}),
            "missing_field",
            "conditions[0].value",
        ),
        (
            json!({"conditions": [{"variable": "tier", "op": "in", "value": "gold"}]}),
            "invalid_field",
            "conditions[0].value",
        ),
        (
            json!({"conditions": [{"variable": "tier", "op": "around", "value": 1}]}),
            "invalid_field",
            "conditions[0]",
        ),
        (json!({"priority": "high"}), "invalid_field", "priority"),
        (json!({"colour": "blue"}), "unknown_field", "colour"),
    ];
    for (extra, code, field) in cases {
        let answer = owner.post("/api/v1/rules", base(extra.clone())).await;
        assert_error(&answer, unprocessable, code, Some(field));
    }
    assert_error(
        &owner
            .post(
                "/api/v1/rules",
                json!({"name": "R", "actions": [{"type": "REPLY_TEXT", "text": "x"}]}),
            )
            .await,
        unprocessable,
        "missing_field",
        Some("trigger"),
    );

    let id = owner.create_rule(base(json!({"conditions": {"operator_online": true}}))).await;
    let (_, shown) = owner.get(format!("/api/v1/rules/{id}")).await;
    assert_eq!(
        shown["data"]["conditions"],
        json!([{"operator_online": true}]),
        "a single condition object is accepted"
    );
    assert_eq!(
        (
            shown["data"]["priority"].clone(),
            shown["data"]["enabled"].clone(),
            shown["data"]["match"].clone()
        ),
        (json!(100), json!(true), json!("all"))
    );
    let (status, patched) =
        owner.patch(format!("/api/v1/rules/{id}"), json!({"priority": 5, "stop": true})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (patched["data"]["priority"].clone(), patched["data"]["stop"].clone()),
        (json!(5), json!(true))
    );
    assert_eq!(patched["data"]["actions"], shown["data"]["actions"], "untouched fields stay");
    let (_, listed) = owner.get("/api/v1/rules").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(owner.delete(format!("/api/v1/rules/{id}")).await.0, StatusCode::OK);
    assert_eq!(owner.get(format!("/api/v1/rules/{id}")).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_dry_run_shows_what_would_happen_without_doing_it() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    let connection =
        owner.create_connection(json!({"name": "C", "base_url": "https://api.example.com"})).await;
    let endpoint = owner
        .create_endpoint(
            &connection,
            json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}"}),
        )
        .await;
    owner.create_rule(json!({"name": "Order", "priority": 1, "trigger": {"type": "regex", "pattern": "#(\\d+)"}, "actions": [
        {"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "#(\\d+)"}},
        {"type": "CALL_API", "endpoint_id": endpoint},
        {"type": "REPLY_TEXT", "text": "Looking up {order_id} for {visitor.name}"}
    ], "stop": true})).await;
    owner.create_rule(json!({"name": "Fallback", "priority": 2, "trigger": {"type": "any"}, "actions": [{"type": "REPLY_TEXT", "text": "hi"}]})).await;

    let (status, run) = owner.post("/api/v1/rules/dry-run", json!({"widget_id": widget, "message": "where is #4521", "variables": {"visitor.name": "Ann"}})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let fired = run["data"]["fired"].as_array().unwrap();
    assert_eq!(fired.len(), 1, "the stop ends it: {run}");
    assert_eq!(fired[0]["name"], "Order");
    assert_eq!(fired[0]["actions"][0]["result"], "4521");
    let request = &fired[0]["actions"][1]["request"];
    assert_eq!(
        (&request["method"], &request["url"]),
        (&json!("GET"), &json!("https://api.example.com/orders/4521"))
    );
    assert_eq!(fired[0]["actions"][2]["preview"], "Looking up 4521 for Ann");
    assert_eq!(run["data"]["variables"]["order_id"], "4521");
    let (_, conversations) = owner.get("/api/v1/conversations").await;
    assert_eq!(conversations["data"], json!([]), "nothing was created");
    let (_, fallback) =
        owner.post("/api/v1/rules/dry-run", json!({"widget_id": widget, "message": "hello"})).await;
    assert_eq!(fallback["data"]["fired"][0]["name"], "Fallback");
}

#[tokio::test]
async fn a_rule_changed_on_one_node_is_followed_at_once_on_another() {
    for first in TestApp::every_backend().await {
        let second = first.another_node().await;
        let owner = first.signup("Acme", "owner@acme.test").await;
        let key = owner.create_api_key("nodes").await;
        let elsewhere = second.with_api_key(&key);
        let widget = owner.create_widget("Shop").await;
        let fired = |message: &'static str| {
            let (elsewhere, widget) = (&elsewhere, widget.clone());
            async move {
                let body = json!({"widget_id": widget, "message": message});
                let (status, run) = elsewhere.post("/api/v1/rules/dry-run", body).await;
                assert_eq!(status, StatusCode::OK, "{run}");
                let names = run["data"]["fired"].as_array().unwrap().iter();
                names.map(|f| f["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
            }
        };
        assert!(fired("hello").await.is_empty(), "no rules yet (and now cached as none)");
        let rule = owner.create_rule(json!({"name": "Greet", "trigger": {"type": "keywords", "any": ["hello"]}, "actions": [{"type": "REPLY_TEXT", "text": "hi"}]})).await;
        assert_eq!(fired("hello").await, ["Greet"], "a new rule is seen");
        let change = json!({"trigger": {"type": "keywords", "any": ["bye"]}});
        let (status, body) = owner.patch(format!("/api/v1/rules/{rule}"), change).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(fired("hello").await.is_empty(), "a changed rule is seen");
        assert_eq!(fired("bye").await, ["Greet"]);
        owner.delete(format!("/api/v1/rules/{rule}")).await;
        assert!(fired("bye").await.is_empty(), "a deleted rule is gone");
    }
}

#[tokio::test]
async fn widgets_and_rules_of_another_tenant_are_not_found() {
    for app in TestApp::every_backend().await {
        let alpha = app.signup("Alpha", "owner@alpha.test").await;
        let widget = alpha.create_widget("W").await;
        let rule = alpha.create_rule(json!({"name": "R", "trigger": {"type": "any"}, "actions": [{"type": "REPLY_TEXT", "text": "x"}]})).await;
        let beta = app.signup("Beta", "owner@beta.test").await;
        let not_found = |answer| assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        not_found(beta.get(format!("/api/v1/widgets/{widget}")).await);
        not_found(beta.patch(format!("/api/v1/widgets/{widget}"), json!({"name": "mine"})).await);
        not_found(beta.delete(format!("/api/v1/widgets/{widget}")).await);
        not_found(beta.get(format!("/api/v1/rules/{rule}")).await);
        not_found(beta.patch(format!("/api/v1/rules/{rule}"), json!({"priority": 1})).await);
        not_found(beta.delete(format!("/api/v1/rules/{rule}")).await);
        not_found(
            beta.post("/api/v1/rules/dry-run", json!({"widget_id": widget, "message": "x"})).await,
        );
        assert_eq!(beta.get("/api/v1/widgets").await.1["data"], json!([]));
        assert_eq!(beta.get("/api/v1/rules").await.1["data"], json!([]));
        assert_eq!(alpha.get(format!("/api/v1/widgets/{widget}")).await.1["data"]["name"], "W");
    }
}
