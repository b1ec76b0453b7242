//! Test cases through the API: stored as written, changed field by field, kept to the account
//! (its widget, endpoints and teams), refused with the field when anything is wrong.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, TestApp, api_connection, assert_error};

/// A shop with a widget and a `get_order` endpoint; the owner and the widget.
async fn shop(app: &TestApp) -> (Client, String) {
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    let connection = owner
        .create_connection(api_connection(
            "Shop",
            "https://shop.example.com",
            json!({"type": "none"}),
        ))
        .await;
    let endpoint = json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}"});
    owner.create_endpoint(&connection, endpoint).await;
    (owner, widget)
}

fn order_case(widget: &str) -> Value {
    json!({
        "name": "Where is my order",
        "suite": "orders",
        "widget_id": widget,
        "visitor": {"language": "de", "verified": true, "user_id": "u-1", "variables": {"tier": "gold"}},
        "turns": [
            {"text": "Wo ist Bestellung 4521?", "expect": [
                {"reply_contains": "versandt"}, {"called": "get_order", "with": {"order_id": "4521"}}]},
            {"text": "Danke", "expect": [{"reply_matches": "(?i)gern"}, {"not_called": "get_order"}]},
        ],
        "fakes": [
            {"endpoint": "get_order", "when": {"order_id": "4521"}, "body": {"data": {"status": "versandt"}}},
            {"endpoint": "get_order", "status": 404, "delay_ms": 50},
        ],
        "expect": [{"handed_over": false}, {"variable": "order_status", "equals": "versandt"},
            {"no_invented_values": true}, {"reply_language": "de"}],
    })
}

#[tokio::test]
async fn test_cases_are_stored_as_written_and_changed_field_by_field() {
    for app in TestApp::every_backend().await {
        let (owner, widget) = shop(&app).await;
        let created = owner.create("/api/v1/test-cases", order_case(&widget)).await;
        let id = created["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("tc_"), "{created}");
        let mut expected = order_case(&widget);
        expected["fakes"][1]["status"] = json!(404);
        expected["fakes"][0]["status"] = json!(200);
        for key in ["name", "suite", "widget_id", "visitor", "turns", "fakes", "expect"] {
            assert_eq!(created[key], expected[key], "{key}: {created}");
        }
        let (_, shown) = owner.get(format!("/api/v1/test-cases/{id}")).await;
        for key in ["id", "name", "suite", "widget_id", "visitor", "turns", "fakes", "expect"] {
            assert_eq!(shown["data"][key], created[key], "{key}");
        }

        let other = json!({"name": "Hello", "widget_id": widget, "turns": [{"text": "hi"}]});
        owner.create("/api/v1/test-cases", other).await;
        let (_, all) = owner.get("/api/v1/test-cases").await;
        assert_eq!(all["data"].as_array().unwrap().len(), 2, "{all}");
        let (_, suite) = owner.get("/api/v1/test-cases?suite=orders").await;
        assert_eq!(suite["data"].as_array().unwrap().len(), 1, "{suite}");

        let change =
            json!({"name": "Order 4521", "suite": null, "turns": [{"text": "Bestellung 4521?"}]});
        let (status, changed) = owner.patch(format!("/api/v1/test-cases/{id}"), change).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["data"]["name"], "Order 4521");
        assert!(changed["data"].get("suite").is_none(), "{changed}");
        assert_eq!(changed["data"]["fakes"], created["fakes"], "untouched fields stay");
        let (_, suite) = owner.get("/api/v1/test-cases?suite=orders").await;
        assert_eq!(suite["data"], json!([]));

        let (status, _) = owner.delete(format!("/api/v1/test-cases/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = owner.get(format!("/api/v1/test-cases/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_bad_test_case_is_refused_with_the_field() {
    let app = TestApp::sqlite().await;
    let (owner, widget) = shop(&app).await;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut case = order_case(&widget);
        change(&mut case);
        case
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with(&|c| c["fakes"][0]["endpoint"] = json!("get_ordr")),
            "unknown_endpoint",
            "fakes[0].endpoint",
        ),
        (with(&|c| c["fakes"][1]["status"] = json!(700)), "invalid_status", "fakes[1].status"),
        (with(&|c| c["fakes"][1]["delay_ms"] = json!(60_000)), "out_of_range", "fakes[1].delay_ms"),
        (
            with(&|c| c["turns"][1]["expect"][0] = json!({"reply_matches": "("})),
            "invalid_pattern",
            "turns[1].expect[0].reply_matches",
        ),
        (
            with(&|c| c["turns"][0]["expect"][1] = json!({"called": "nope"})),
            "unknown_endpoint",
            "turns[0].expect[1].called",
        ),
        (
            with(&|c| {
                c["expect"][0] =
                    json!({"handed_over": true, "team_id": "team_00000000000000000000000000"})
            }),
            "unknown_team",
            "expect[0].team_id",
        ),
        (with(&|c| c["turns"] = json!([])), "invalid_field", "turns"),
        (with(&|c| c["turns"][0]["text"] = json!("  ")), "invalid_field", "turns[0].text"),
        (
            with(&|c| c["widget_id"] = json!("wid_00000000000000000000000000")),
            "unknown_widget",
            "widget_id",
        ),
        (
            with(&|c| c["visitor"]["variables"] = json!({"visitor.name": "x"})),
            "read_only_variable",
            "visitor.variables.visitor.name",
        ),
        (with(&|c| c["name"] = json!("")), "required", "name"),
    ];
    for (body, code, field) in cases {
        let answer = owner.post("/api/v1/test-cases", body).await;
        assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, code, Some(field));
    }
    // Malformed shapes are named by the JSON reader.
    let unknown = with(&|c| c["expect"][1] = json!({"reply_has": "x"}));
    let (status, body) = owner.post("/api/v1/test-cases", unknown).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("unknown expectation"), "{body}");
    assert_eq!(body["error"]["field"], "expect[1]", "{body}");
    let (_, listed) = owner.get("/api/v1/test-cases").await;
    assert_eq!(listed["data"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn test_cases_are_the_admins_and_the_accounts_own() {
    let app = TestApp::sqlite().await;
    let (owner, widget) = shop(&app).await;
    let id = owner.create("/api/v1/test-cases", order_case(&widget)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    owner.create_user("op@acme.test", "operator").await;
    let operator = app.login("op@acme.test", crate::support::PASSWORD).await;
    let (status, _) = operator.get("/api/v1/test-cases").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = app.signup("Beta", "bob@beta.test").await;
    let (status, _) = stranger.get(format!("/api/v1/test-cases/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = stranger.get("/api/v1/test-cases").await;
    assert_eq!(listed["data"], json!([]));
}
