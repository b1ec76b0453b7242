//! MCP connections against a server written with the official Python SDK: the session,
//! the tool list, each tool switched on with its approval, and a tool answering a visitor's
//! question through a rule — with the same checks as endpoint calls (docs/mcp.md).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::mcp_peer::PythonMcp;
use crate::support::{Client, TestApp};

/// The account's MCP connection to `server`, its tools read.
async fn connect(owner: &Client, server: &PythonMcp) -> (String, Vec<Value>) {
    let connection = owner
        .create_connection(json!({"name": "Shop MCP", "kind": "mcp", "base_url": server.url(),
            "identity_header": "X-Customer-Id"}))
        .await;
    let (status, tools) =
        owner.post(&format!("/api/v1/connections/{connection}/tools/refresh"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{tools}");
    (connection, tools["data"].as_array().unwrap().clone())
}

fn tool<'a>(tools: &'a [Value], name: &str) -> &'a Value {
    tools.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no {name} in {tools:?}"))
}

#[tokio::test]
async fn an_mcp_servers_tools_are_listed_switched_on_and_answer_a_rule() {
    let Some(server) = PythonMcp::start().await else { return };
    for app in TestApp::every_backend_allowing(&[server.addr]).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let (connection, tools) = connect(&owner, &server).await;
        let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names.len(), 4, "{names:?}");
        let status = tool(&tools, "order_status");
        assert_eq!(
            (&status["enabled"], &status["approval"], &status["read_only"]),
            (&json!(false), &json!("visitor"), &json!(true)),
            "a new tool starts off and waits for the visitor: a read-only hint is only a hint"
        );
        assert_eq!(status["input_schema"]["required"], json!(["order_id"]));

        // The test button opens a session and reads the list.
        let (_, tested) =
            owner.post(&format!("/api/v1/connections/{connection}/test"), json!({})).await;
        assert_eq!(tested["data"]["ok"], true, "{tested}");
        assert!(tested["data"]["notes"][0].as_str().unwrap().contains("4 tool(s)"), "{tested}");

        // Switched on with a mapping over its structured result.
        let (status_code, patched) = owner
            .patch(
                &format!("/api/v1/connections/{connection}/tools/order_status"),
                json!({"enabled": true, "approval": "none", "response_mapping": {"order_state": "status", "delivery_eta": "eta"}}),
            )
            .await;
        assert_eq!(status_code, StatusCode::OK, "{patched}");
        assert_eq!(patched["data"]["enabled"], true);
        let endpoint = patched["data"]["endpoint_id"].as_str().unwrap().to_owned();
        let (_, listed) = owner.get(&format!("/api/v1/connections/{connection}/tools")).await;
        assert_eq!(tool(listed["data"].as_array().unwrap(), "order_status")["enabled"], true);

        // The endpoint test calls the tool once confirmed (no tool is taken at its word that it
        // changes nothing).
        let test = format!("/api/v1/endpoints/{endpoint}/test");
        let (unconfirmed, _) = owner.post(&test, json!({"variables": {"order_id": "4521"}})).await;
        assert_eq!(unconfirmed, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, called) =
            owner.post(&test, json!({"variables": {"order_id": "4521"}, "confirm": true})).await;
        assert_eq!(
            called["data"]["mapped"],
            json!({"order_state": "shipped", "delivery_eta": "2026-12-09"}),
            "{called}"
        );

        // A rule looks the order up through the tool and answers with it.
        let widget = owner.create_widget("Shop").await;
        owner
            .create_rule(json!({"name": "Order", "trigger": {"type": "regex", "pattern": "order #?(\\d{4})"},
                "actions": [
                    {"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "(\\d{4})"}},
                    {"type": "CALL_API", "endpoint_id": endpoint,
                     "on_error": [{"type": "REPLY_TEXT", "text": "I could not find order {order_id}."}]},
                    {"type": "REPLY_TEXT", "text": "Order {order_id} is {order_state}, arriving {delivery_eta}."}
                ]}))
            .await;
        let visitor = app.start_conversation(&widget).await;
        assert_eq!(
            visitor.say("where is my order #4521?").await,
            ["Order 4521 is shipped, arriving 2026-12-09."]
        );
        // The tool failing (the server marks the result an error) runs on_error.
        assert_eq!(visitor.say("and order 0000?").await, ["I could not find order 0000."]);
        let (_, trace) =
            owner.get(&format!("/api/v1/conversations/{}/trace", visitor.conversation_id)).await;
        let calls: Vec<&Value> =
            trace["data"].as_array().unwrap().iter().filter(|e| e["kind"] == "api_call").collect();
        assert_eq!(calls.len(), 2, "{trace}");
        assert_eq!(calls[1]["data"]["error"]["code"], "tool_error", "{}", calls[1]);
        let first = &calls[0]["data"];
        assert_eq!(
            (&first["tool"], &first["arguments"]),
            (&json!("order_status"), &json!({"order_id": "4521"}))
        );
        assert_eq!(first["result"]["status"], "shipped", "{first}");

        // An MCP connection's endpoints are its tools: none are added by hand.
        let (refused, body) = owner
            .post(
                &format!("/api/v1/connections/{connection}/endpoints"),
                json!({"name": "extra", "method": "GET", "path": "/x"}),
            )
            .await;
        assert_eq!(
            (refused, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("mcp_connection"))
        );
    }
    let asked: Vec<Value> =
        server.calls().into_iter().map(|c| c["arguments"]["order_id"].clone()).collect();
    assert!(asked.contains(&json!("4521")), "{asked:?}");
}

/// The answer of the endpoint test of the tool called `name`.
async fn try_tool(owner: &Client, tools: &[Value], name: &str) -> Value {
    let endpoint = tool(tools, name)["endpoint_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/endpoints/{endpoint}/test");
    let body = json!({"variables": {"order_id": "17"}, "confirm": true});
    let (status, tested) = owner.post(&path, body).await;
    assert_eq!(status, StatusCode::OK, "{tested}");
    tested["data"].clone()
}

#[tokio::test]
async fn every_way_an_mcp_server_can_fail_is_a_named_error() {
    let fake = crate::mcp_fake::start().await;
    let allow = vec![fake.addr.to_string()];
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = allow).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let connection = owner
        .create_connection(
            json!({"name": "Fake", "kind": "mcp", "base_url": fake.url(), "timeout_ms": 1000}),
        )
        .await;
    let (_, tools) =
        owner.post(&format!("/api/v1/connections/{connection}/tools/refresh"), json!({})).await;
    let tools = tools["data"].as_array().unwrap().clone();
    assert_eq!(tools.len(), 5, "both pages read: {tools:?}");
    let lists = fake.methods().iter().filter(|m| *m == "tools/list").count();
    assert_eq!(lists, 2);

    // Answered as plain JSON, without a session; the argument typed as its schema says.
    let found = try_tool(&owner, &tools, "lookup").await;
    assert_eq!(found["ok"], true, "{found}");
    assert_eq!(found["body_json"], json!({"order_id": 17, "status": "packed"}));
    for (name, code) in [
        ("hang", "timeout"),
        ("broken", "invalid_response"),
        ("huge", "response_too_large"),
        ("failing", "http_error"),
    ] {
        let failed = try_tool(&owner, &tools, name).await;
        assert_eq!(
            (&failed["ok"], failed["error"]["code"].as_str()),
            (&json!(false), Some(code)),
            "{name}: {failed}"
        );
    }

    // A server at a private address is refused before anything is sent.
    let (status, refused) = owner
        .post(
            "/api/v1/connections",
            json!({"name": "Inside", "kind": "mcp", "base_url": "http://10.20.30.40/mcp"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    // Who the visitor is comes from the conversation alone: no answer may be mapped into it.
    let (status, refused) = owner
        .patch(
            &format!("/api/v1/connections/{connection}/tools/lookup"),
            json!({"response_mapping": {"visitor.user_id": "order_id"}}),
        )
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("built_in_variable"))
    );
    // Its headers go with every message as written: no placeholders.
    let (status, refused) = owner
        .patch(
            &format!("/api/v1/connections/{connection}"),
            json!({"headers": {"X-Shop": "{shop_id}"}}),
        )
        .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("headers.X-Shop"))
    );
    // Nor does an HTTP connection list tools, or take an identity header.
    let http = owner.create_connection(json!({"name": "Plain", "base_url": fake.url()})).await;
    let (status, _) = owner.get(&format!("/api/v1/connections/{http}/tools")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = owner
        .patch(&format!("/api/v1/connections/{http}"), json!({"identity_header": "X-Customer-Id"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_rule_calls_a_tool_by_name_and_maps_its_result() {
    let fake = crate::mcp_fake::start().await;
    for app in TestApp::every_backend_allowing(&[fake.addr]).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let connection = owner
            .create_connection(
                json!({"name": "Fake", "kind": "mcp", "base_url": fake.url(), "timeout_ms": 1000}),
            )
            .await;
        owner.post(&format!("/api/v1/connections/{connection}/tools/refresh"), json!({})).await;
        for name in ["lookup", "hang"] {
            let path = format!("/api/v1/connections/{connection}/tools/{name}");
            owner.patch(&path, json!({"approval": "none"})).await;
        }
        let widget = owner.create_widget("Shop").await;
        let call = |tool: &str| {
            json!({"type": "CALL_TOOL", "connection_id": connection, "tool": tool,
                "arguments": {"order_id": {"from_message": "#?(\\d{2,})", "ask": "Which order?"}},
                "response_mapping": {"state": "status"},
                "on_error": [{"type": "REPLY_TEXT", "text": "The shop does not answer ({api.lookup.error}{api.hang.error})."}]})
        };
        owner
            .create_rule(json!({"name": "Order", "priority": 1, "trigger": {"type": "keywords", "any": ["order"]},
                "actions": [call("lookup"), {"type": "REPLY_TEXT", "text": "Order {order_id} is {state}."}]}))
            .await;
        owner
            .create_rule(json!({"name": "Slow", "priority": 2, "trigger": {"type": "keywords", "any": ["report"]},
                "actions": [call("hang"), {"type": "REPLY_TEXT", "text": "never"}]}))
            .await;
        let visitor = app.start_conversation(&widget).await;
        assert_eq!(visitor.say("where is order 4521?").await, ["Order 4521 is packed."]);
        // No number: asked, and the answer goes on with the rule.
        assert_eq!(visitor.say("my order please").await, ["Which order?"]);
        assert_eq!(visitor.say("it is 77").await, ["Order 77 is packed."]);
        // A tool that hangs: the call's deadline, then on_error.
        assert_eq!(visitor.say("the report for 12").await, ["The shop does not answer (timeout)."]);

        // A tool the connection does not have is refused when saved, naming the field.
        let (status, refused) = owner
            .post(
                "/api/v1/rules",
                json!({"name": "Bad", "trigger": {"type": "any"}, "actions": [call("nope")]}),
            )
            .await;
        assert_eq!(
            (status, refused["error"]["code"].as_str(), refused["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_tool"), Some("actions[0].tool"))
        );
    }
}

#[tokio::test]
async fn a_servers_changed_tool_list_is_read_again_by_itself() {
    let fake = crate::mcp_fake::start().await;
    let allow = vec![fake.addr.to_string()];
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = allow).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let connection = owner
        .create_connection(json!({"name": "Fake", "kind": "mcp", "base_url": fake.url()}))
        .await;
    let (_, first) =
        owner.post(&format!("/api/v1/connections/{connection}/tools/refresh"), json!({})).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 5);

    // The server adds a tool that may change data; the periodic read (what the server's
    // housekeeping runs each quarter of an hour) picks it up, switched off, waiting for the visitor.
    *fake.added.lock().unwrap() = Some(crate::mcp_fake::tool("restock", "Orders more", false));
    let store = switchboard::open_store(&app.config, false).await.unwrap();
    let services =
        switchboard::build_services(&app.config, store, sb_realtime::Hub::new()).unwrap();
    assert_eq!(services.connections.refresh_all_tools().await.unwrap(), 1);
    let (_, now) = owner.get(&format!("/api/v1/connections/{connection}/tools")).await;
    let tools = now["data"].as_array().unwrap();
    let restock = tool(tools, "restock");
    assert_eq!(
        (tools.len(), &restock["enabled"], &restock["approval"]),
        (6, &json!(false), &json!("visitor"))
    );
}
