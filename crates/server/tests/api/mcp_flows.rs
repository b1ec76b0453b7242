//! MCP tools in conversations, against the server written with the official Python SDK: the AI
//! calls a switched-on tool; a verified visitor's id reaches the server in the connection's
//! identity header (an unverified one's never does); a tool that may change data waits for the
//! visitor's button and then runs once (docs/mcp.md).

use reqwest::{Method, StatusCode};
use sb_llm::testing::{FakeModel, Reply, Seen};
use serde_json::{Value, json};

use crate::mcp_peer::PythonMcp;
use crate::support::Client;

const SECRET: &str = "identity secret of the shop";

/// The MCP connection's tools, read, with those named switched on.
async fn tools_on(owner: &Client, server: &PythonMcp, on: &[&str]) -> Vec<Value> {
    let connection = owner
        .create_connection(json!({"name": "Shop MCP", "kind": "mcp", "base_url": server.url(),
            "identity_header": "X-Customer-Id"}))
        .await;
    owner.post(&format!("/api/v1/connections/{connection}/tools/refresh"), json!({})).await;
    for name in on {
        let path = format!("/api/v1/connections/{connection}/tools/{name}");
        let (status, body) = owner.patch(&path, json!({"enabled": true, "approval": "none"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, tools) = owner.get(&format!("/api/v1/connections/{connection}/tools")).await;
    tools["data"].as_array().unwrap().clone()
}

fn endpoint_of(tools: &[Value], name: &str) -> String {
    let tool = tools.iter().find(|t| t["name"] == name).unwrap();
    tool["endpoint_id"].as_str().unwrap().to_owned()
}

/// A model that asks the order tool about a number and answers with what it said.
fn assistant(seen: &Seen) -> Reply {
    if let Some(result) = seen.tool_results.last() {
        let data: Value = serde_json::from_str(result).unwrap_or_default();
        let status = data["result"]["status"].as_str().unwrap_or("unknown");
        return Reply::Text(format!("The tool says: {status}."));
    }
    if seen.tools.contains(&"order_status".to_owned()) && seen.last_user_text.contains("4521") {
        return Reply::ToolCalls(vec![(
            "order_status".into(),
            json!({"order_id": "4521"}).to_string(),
        )]);
    }
    Reply::Text("Which order?".into())
}

#[tokio::test]
async fn the_ai_calls_tools_identity_is_verified_and_changes_wait_for_the_button() {
    let Some(server) = PythonMcp::start().await else { return };
    let model = FakeModel::start(assistant).await;
    let app = crate::ai::openai_app(&model, vec![server.addr.to_string()]).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner
        .create_widget_with(json!({"name": "Shop", "identity_secret": SECRET, "ai_enabled": true}))
        .await;
    let tools = tools_on(&owner, &server, &["order_status", "my_orders"]).await;

    // The AI is offered the switched-on tool (not the others) and answers from its result.
    let visitor = app.start_conversation_as(&widget, json!({"language": "en"})).await;
    assert_eq!(visitor.say("where is order 4521?").await, ["The tool says: shipped."]);
    assert!(server.calls().iter().any(|c| c["tool"] == "order_status"));

    // Identity: only a verified visitor's id is sent, in the connection's header.
    let mine = endpoint_of(&tools, "my_orders");
    owner
        .create_rule(json!({"name": "Mine", "priority": 1, "trigger": {"type": "keywords", "any": ["my orders"]},
            "actions": [{"type": "CALL_API", "endpoint_id": mine}, {"type": "REPLY_TEXT", "text": "{text}"}],
            "suppress_ai_reply": true}))
        .await;
    let (status, body) = owner
        .patch(
            &format!("/api/v1/endpoints/{mine}"),
            json!({"response_mapping": {"text": "result"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "a tool's settings may change: {body}");
    let hash = sb_engine::user_hash(SECRET, "cus_7");
    let verified = app
        .start_conversation_as(
            &widget,
            json!({"user_id": "cus_7", "user_hash": hash, "language": "en"}),
        )
        .await;
    assert_eq!(verified.say("show my orders").await, ["orders of cus_7"]);
    let forged =
        app.start_conversation_as(&widget, json!({"user_id": "cus_7", "language": "en"})).await;
    assert_eq!(forged.say("show my orders").await, ["no customer"], "an unsigned id is not sent");

    // A tool that may change data waits for the visitor's button, then runs once.
    let cancel = endpoint_of(&tools, "cancel_order");
    owner
        .create_rule(json!({"name": "Cancel", "priority": 2, "trigger": {"type": "regex", "pattern": "cancel order (\\d{4})"},
            "actions": [{"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "(\\d{4})"}},
                {"type": "CALL_API", "endpoint_id": cancel}, {"type": "REPLY_TEXT", "text": "Cancelled."}],
            "suppress_ai_reply": true}))
        .await;
    let shopper = app.start_conversation_as(&widget, json!({"language": "en"})).await;
    let (_, asked) = shopper.say_raw("please cancel order 4521", 10_000).await;
    let action = asked["data"]["replies"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|r| r["action"]["id"].as_str());
    let action = action.unwrap_or_else(|| panic!("no action proposed: {asked}")).to_owned();
    let cancelled =
        |calls: Vec<Value>| calls.iter().filter(|c| c["tool"] == "cancel_order").count();
    assert_eq!(cancelled(server.calls()), 0, "nothing runs before the button");
    let confirm = shopper.request(Method::POST, &format!("/actions/{action}/confirm"));
    let (status, decided) = shopper.client.send(confirm).await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["data"]["action"]["state"], "executed", "{decided}");
    assert_eq!(cancelled(server.calls()), 1);
}
