//! "Save as test": a real conversation becomes a test case that replays it — its turns, its
//! endpoint answers as fakes, its replies as expectations — and passes in the sandbox without
//! calling the backend again.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::lookup_inputs::{order_backend, shop};
use crate::support::TestApp;

#[tokio::test]
async fn a_conversation_saved_as_a_test_replays_and_passes_without_the_backend() {
    let (backend, seen) = order_backend().await;
    for app in TestApp::every_backend_allowing(&[backend]).await {
        seen.lock().unwrap().clear();
        let (owner, widget, endpoint) = shop(&app, backend).await;
        owner
            .create_rule(json!({"name": "Orders", "trigger": {"type": "keywords", "any": ["order"]}, "stop": true,
                "actions": [{"type": "CALL_API", "endpoint_id": endpoint, "arguments": {"orderId": {"from_message": "(\\d{4})"}},
                    "on_error": [{"type": "REPLY_TEXT", "text": "I couldn't find order {orderId}."}]},
                    {"type": "REPLY_TEXT", "text": "Order {orderId} is {order_status}."}]}))
            .await;
        owner
            .create_rule(
                json!({"name": "Person", "trigger": {"type": "keywords", "any": ["human"]},
                "actions": [{"type": "ASSIGN_TO_OPERATOR"}]}),
            )
            .await;
        let visitor =
            app.start_conversation_as(&widget, json!({"name": "Ann", "language": "en"})).await;
        assert_eq!(visitor.say("Where is order 4521?").await, ["Order 4521 is shipped."]);
        assert_eq!(visitor.say("and order 9999?").await, ["I couldn't find order 9999."]);
        visitor.say("a human please").await;
        let calls_so_far = seen.lock().unwrap().len();

        let path = format!("/api/v1/conversations/{}/save-as-test", visitor.conversation_id);
        let (status, saved) = owner.post(&path, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{saved}");
        let case = &saved["data"];
        assert_eq!(case["name"], "Saved: “Where is order 4521?”");
        assert_eq!(case["visitor"], json!({"name": "Ann", "language": "en", "verified": false}));
        assert_eq!(
            case["turns"][0]["expect"],
            json!([
            {"reply_contains": "Order 4521 is shipped."},
            {"called": "get_order", "with": {"orderId": "4521"}}])
        );
        assert_eq!(
            case["fakes"],
            json!([
            {"endpoint": "get_order", "when": {"orderId": "4521"}, "status": 200, "body": {"status": "shipped"}},
            {"endpoint": "get_order", "when": {"orderId": "9999"}, "status": 404}])
        );
        assert!(
            case["turns"][2]["expect"][0]["reply_contains"].as_str().unwrap().contains("connected"),
            "{case}"
        );

        let (status, run) =
            owner.post("/api/v1/test-runs", json!({"case_ids": [case["id"]]})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{run}");
        let id = run["data"]["id"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(20);
        let result = loop {
            let (_, run) = owner.get(format!("/api/v1/test-runs/{id}")).await;
            if run["data"]["state"] != "running" {
                break run["data"].clone();
            }
            assert!(Instant::now() < deadline, "the run did not finish");
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        assert_eq!(result["state"], "passed", "{result}");
        assert_eq!(seen.lock().unwrap().len(), calls_so_far, "the replay never called the backend");

        // An empty conversation has nothing to save; another account's is not found.
        let empty = app.start_conversation(&widget).await;
        let (status, body) = owner
            .post(
                &format!("/api/v1/conversations/{}/save-as-test", empty.conversation_id),
                json!({}),
            )
            .await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (StatusCode::UNPROCESSABLE_ENTITY, &json!("empty_conversation"))
        );
        let stranger = app.signup("Beta", "bob@beta.test").await;
        let (status, _) = stranger.post(&path, json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

/// A conversation longer than a case may be keeps its first 50 turns, each with its own replies
/// (the replies to later messages are not piled onto the last kept turn).
#[tokio::test]
async fn a_long_conversation_keeps_its_first_fifty_turns_each_with_its_own_replies() {
    let app =
        TestApp::sqlite_with(|c| c.security.visitor_messages_per_minute_per_conversation = 100)
            .await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    owner
        .create_rule(json!({"name": "Echo", "trigger": {"type": "keywords", "any": ["line"]},
            "actions": [{"type": "REPLY_TEXT", "text": "Noted."}]}))
        .await;
    let visitor = app.start_conversation(&widget).await;
    for n in 1..=52 {
        assert_eq!(visitor.say(&format!("line {n}")).await, ["Noted."]);
    }
    let path = format!("/api/v1/conversations/{}/save-as-test", visitor.conversation_id);
    let (status, saved) = owner.post(&path, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let turns = saved["data"]["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 50);
    assert_eq!(turns[49], json!({"text": "line 50", "expect": [{"reply_contains": "Noted."}]}));
}
