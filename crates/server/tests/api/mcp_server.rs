//! Switchboard as an MCP server (`POST /api/v1/mcp`), used by the official Python SDK's client
//! (`crates/server/tests/mcp/agent_client.py`): the session starts, the tools a key's scopes
//! allow are listed with their schemas, each tool answers (the client checks every answer
//! against its tool's output schema), and keys of another account, without the scope or
//! without an MCP scope at all are refused (docs/mcp.md).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::kb::{RETURNS, add_document};
use crate::lookup_inputs::{order_backend, shop};
use crate::mcp_peer::{agent, sdk_python};
use crate::support::{Client, TestApp, assert_error};

fn mcp_url(app: &TestApp) -> String {
    format!("{}/api/v1/mcp", app.base)
}

async fn key_with(owner: &Client, name: &str, scopes: &[&str]) -> String {
    let created = owner.create("/api/v1/api-keys", json!({"name": name, "scopes": scopes})).await;
    assert_eq!(created["scopes"], json!(scopes), "{created}");
    created["key"].as_str().unwrap().to_owned()
}

fn call(tool: &str, arguments: Value) -> Value {
    json!({"call": tool, "arguments": arguments})
}

/// A successful call's structured result.
fn ok(answer: &Value) -> &Value {
    assert_eq!(answer["is_error"], false, "{answer}");
    &answer["structured"]
}

/// A failed call's error (`{code, message, field}`).
fn refused(answer: &Value) -> &Value {
    assert_eq!(answer["is_error"], true, "{answer}");
    &answer["structured"]["error"]
}

fn tool_names(listed: &Value) -> Vec<&str> {
    let tools = listed["tools"].as_array().unwrap_or_else(|| panic!("no tools: {listed}"));
    tools.iter().map(|t| t["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn an_agent_reads_the_desk_searches_asks_replies_and_assigns() {
    let Some(python) = sdk_python() else { return };
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let owner_id = owner.me().await["user"]["id"].as_str().unwrap().to_owned();
        let widget = owner.create_widget("Shop").await;
        add_document(&owner, json!({"title": "Help", "content": RETURNS})).await;
        owner
            .create_rule(json!({"name": "Hours", "trigger": {"type": "keywords", "any": ["hours"]},
                "actions": [{"type": "REPLY_TEXT", "text": "We answer from 9 to 17."}]}))
            .await;
        let visitor = app.start_conversation_as(&widget, json!({"name": "Ann"})).await;
        visitor.say("my parcel arrived damaged").await;
        let key = key_with(&owner, "desk agent", &["mcp:read", "mcp:write"]).await;
        let conversation = visitor.conversation_id.as_str();

        let steps = json!([
            {"list_tools": true},
            call("search_knowledge_base", json!({"query": "how long can I return an item"})),
            call("list_conversations", json!({"query": "damaged"})),
            call("get_conversation", json!({"conversation_id": conversation})),
            call("ask_assistant", json!({"question": "what are your opening hours?"})),
            call("reply_to_conversation", json!({"conversation_id": conversation,
                "text": "Sorry to hear that: a new one is on its way."})),
            call("reply_to_conversation", json!({"conversation_id": conversation,
                "text": "sent a replacement", "private": true})),
            call("assign_conversation", json!({"conversation_id": conversation, "user_id": owner_id})),
            call("get_conversation", json!({"conversation_id": "conv_nonsense"})),
            call("ask_assistant", json!({"question": "hours?", "live": true})),
            call("no_such_tool", json!({})),
        ]);
        let run = agent(&python, &mcp_url(&app), Some(&key), steps).await;
        let started = &run[0]["initialized"];
        assert_eq!((&started["server"], &started["tools"]), (&json!("switchboard"), &json!(true)));

        let listed = &run[1];
        let mut names = tool_names(listed);
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "ask_assistant",
                "assign_conversation",
                "get_conversation",
                "list_conversations",
                "reply_to_conversation",
                "search_knowledge_base"
            ]
        );
        for tool in listed["tools"].as_array().unwrap() {
            assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
            assert_eq!(tool["outputSchema"]["type"], "object", "{tool}");
        }

        let found = ok(&run[2]);
        assert_eq!(found["results"][0]["title"], "Help", "{found}");
        assert!(found["results"][0]["text"].as_str().unwrap().contains("30 days"), "{found}");

        let listed = ok(&run[3]);
        assert_eq!(listed["conversations"][0]["id"], conversation, "{listed}");
        assert_eq!(listed["conversations"][0]["customer"]["name"], "Ann", "{listed}");

        let shown = ok(&run[4]);
        assert_eq!(shown["messages"][0]["text"], "my parcel arrived damaged", "{shown}");
        assert_eq!(shown["messages"][0]["author"], "visitor", "{shown}");

        let asked = ok(&run[5]);
        assert_eq!(asked["mode"], "sandbox", "{asked}");
        assert_eq!(asked["replies"][0]["text"], "We answer from 9 to 17.", "{asked}");

        let replied = ok(&run[6]);
        assert_eq!(replied["message"]["author"], "operator", "{replied}");
        let noted = ok(&run[7]);
        assert_eq!(noted["message"]["private"], true, "{noted}");
        let assigned = ok(&run[8]);
        assert_eq!(assigned["conversation"]["assigned_to"], owner_id.as_str(), "{assigned}");

        let bad_id = refused(&run[9]);
        assert_eq!(bad_id["field"], "conversation_id", "{bad_id}");
        let not_live = refused(&run[10]);
        assert_eq!(not_live["code"], "scope_missing", "{not_live}");
        assert!(run[11]["call_failed"].as_str().unwrap().contains("no_such_tool"), "{}", run[11]);

        // What the agent did is what the people and the visitor see.
        let texts: Vec<String> =
            visitor.messages().await.iter().map(|m| m["text"].to_string()).collect();
        assert!(texts.iter().any(|t| t.contains("a new one is on its way")), "{texts:?}");
        assert!(!texts.iter().any(|t| t.contains("replacement")), "a note stays private");
        let (_, inbox) = owner.get("/api/v1/conversations").await;
        assert_eq!(inbox["data"].as_array().unwrap().len(), 1, "the sandbox kept nothing: {inbox}");
    }
}

#[tokio::test]
async fn keys_reach_only_their_scopes_and_their_account() {
    let Some(python) = sdk_python() else { return };
    let app = TestApp::sqlite().await;
    let alpha = app.signup("Alpha", "owner@alpha.test").await;
    let widget = alpha.create_widget("Alpha").await;
    let visitor = app.start_conversation(&widget).await;
    visitor.say("hello").await;
    let conversation = visitor.conversation_id.as_str();
    let beta = app.signup("Beta", "owner@beta.test").await;
    let beta_key = key_with(&beta, "beta agent", &["mcp:read", "mcp:write"]).await;
    let reader = key_with(&alpha, "reader", &["mcp:read"]).await;
    let rest_only = alpha.create_api_key("scripts").await;
    let url = mcp_url(&app);

    // Another account's key finds nothing of this one.
    let steps = json!([
        call("get_conversation", json!({"conversation_id": conversation})),
        call("reply_to_conversation", json!({"conversation_id": conversation, "text": "hi"})),
        call("list_conversations", json!({})),
    ]);
    let run = agent(&python, &url, Some(&beta_key), steps).await;
    assert_eq!(refused(&run[1])["code"], "not_found");
    assert_eq!(refused(&run[2])["code"], "not_found");
    assert_eq!(ok(&run[3])["conversations"], json!([]));

    // A reading key is offered no writing tool and may not call one.
    let steps = json!([
        {"list_tools": true},
        call("reply_to_conversation", json!({"conversation_id": conversation, "text": "hi"})),
    ]);
    let run = agent(&python, &url, Some(&reader), steps).await;
    let names = tool_names(&run[1]);
    assert!(!names.contains(&"reply_to_conversation") && names.contains(&"get_conversation"));
    let error = refused(&run[2]);
    assert_eq!(error["code"], "scope_missing", "{error}");
    assert!(error["message"].as_str().unwrap().contains("mcp:write"), "{error}");
    assert_eq!(visitor.messages().await.len(), 1, "nothing was sent");

    // Keys without an MCP scope, and no key at all, do not start a session.
    for key in [Some(rest_only.as_str()), None, Some("sbk_not_a_key")] {
        let run = agent(&python, &url, key, json!([])).await;
        assert!(run[0]["exception"].is_string(), "{key:?}: {run:?}");
    }
    let anonymous = app.anonymous();
    let post = anonymous.request(reqwest::Method::POST, "/api/v1/mcp").bearer_auth(&rest_only);
    assert_error(&anonymous.send(post).await, StatusCode::FORBIDDEN, "scope_missing", None);

    // An MCP key is no key for the HTTP API.
    let answer = app.with_api_key(&reader).get("/api/v1/conversations").await;
    assert_error(&answer, StatusCode::FORBIDDEN, "scope_missing", None);
}

#[tokio::test]
async fn the_assistant_is_asked_in_the_sandbox_or_live_across_messages() {
    let Some(python) = sdk_python() else { return };
    let (backend, seen) = order_backend().await;
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = vec![backend.to_string()]).await;
    let (owner, widget, endpoint) = shop(&app, backend).await;
    owner
        .create_rule(json!({"name": "Order", "stop": true,
            "trigger": {"type": "regex", "pattern": r"\border\b|^\d{4}$", "flags": "i"},
            "actions": [
                {"type": "CALL_API", "endpoint_id": endpoint, "arguments": {"orderId":
                    {"from_message": {"pattern": r"(\d{4})"}, "ask": "Which order number?"}},
                 "on_error": [{"type": "REPLY_TEXT", "text": "I cannot look that up now."}]},
                {"type": "REPLY_TEXT", "text": "Order {orderId} is {order_status}."}]}))
        .await;
    let key = key_with(&owner, "partner agent", &["mcp:assistant"]).await;
    let url = mcp_url(&app);

    // The sandbox reaches no backend: the call is named, and fails as an unreachable one.
    let run = agent(
        &python,
        &url,
        Some(&key),
        json!([call(
            "ask_assistant",
            json!({"question": "where is order 4521?", "widget_id": widget})
        )]),
    )
    .await;
    let asked = ok(&run[1]);
    assert_eq!(asked["calls_not_made"], json!(["get_order"]), "{asked}");
    assert_eq!(asked["replies"][0]["text"], "I cannot look that up now.", "{asked}");
    assert!(seen.lock().unwrap().is_empty(), "the sandbox reached the backend");

    // Live: a real conversation that asks, and goes on with the answer in a second request.
    let first =
        json!([call("ask_assistant", json!({"question": "where is my order?", "live": true}))]);
    let run = agent(&python, &url, Some(&key), first).await;
    let asked = ok(&run[1]);
    assert_eq!(asked["replies"][0]["text"], "Which order number?", "{asked}");
    let (id, token) = (asked["conversation_id"].clone(), asked["conversation_token"].clone());
    let steps = json!([
        call("ask_assistant", json!({"question": "4521", "live": true, "conversation_id": id})),
        call(
            "ask_assistant",
            json!({"question": "4521", "live": true, "conversation_id": id,
            "conversation_token": "sbv_forged"})
        ),
        call(
            "ask_assistant",
            json!({"question": "4521", "live": true, "conversation_id": id,
            "conversation_token": token})
        ),
    ]);
    let run = agent(&python, &url, Some(&key), steps).await;
    assert_eq!(refused(&run[1])["field"], "conversation_token");
    assert_eq!(refused(&run[2])["code"], "unauthenticated");
    let answered = ok(&run[3]);
    assert_eq!(answered["replies"][0]["text"], "Order 4521 is shipped.", "{answered}");
    assert_eq!(answered["conversation_token"], Value::Null, "{answered}");
    assert_eq!(*seen.lock().unwrap(), ["4521"]);

    // Another account's agent holding both gets nothing of it; odd arguments are named.
    let stranger = app.signup("Other", "owner@other.test").await;
    let stranger_key = key_with(&stranger, "stranger", &["mcp:assistant"]).await;
    let steps = json!([call(
        "ask_assistant",
        json!({"question": "4522", "live": true, "conversation_id": id,
            "conversation_token": token})
    ),]);
    let run = agent(&python, &url, Some(&stranger_key), steps).await;
    assert_eq!(refused(&run[1])["code"], "not_found");
    let steps = json!([
        call(
            "ask_assistant",
            json!({"question": "4522", "live": true, "conversation_id": id,
            "conversation_token": token, "widget_id": widget})
        ),
        call("ask_assistant", json!({"question": "x".repeat(4001)})),
    ]);
    let run = agent(&python, &url, Some(&key), steps).await;
    assert_eq!(refused(&run[1])["field"], "widget_id");
    let too_long = refused(&run[2]);
    assert_eq!((&too_long["code"], &too_long["field"]), (&json!("too_long"), &json!("question")));
    assert_eq!(*seen.lock().unwrap(), ["4521"], "nothing refused reached the backend");

    // The conversation is in the inbox, its visitor named after the key.
    let shown = owner.conversation(id.as_str().unwrap()).await;
    assert_eq!(shown["visitor"]["name"], "partner agent", "{shown}");
}

/// Switchboard's own MCP client (written by hand) against its MCP server (the official Rust
/// SDK): the two directions agree on the protocol, and a knowledge-base answer travels from one
/// account's server through another account's rule.
#[tokio::test]
async fn switchboards_client_uses_switchboards_server() {
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = vec!["127.0.0.1/32".into()]).await;
    let library = app.signup("Library", "owner@library.test").await;
    add_document(&library, json!({"title": "Help", "content": RETURNS})).await;
    let key = key_with(&library, "shop's assistant", &["mcp:read"]).await;

    let shop = app.signup("Shop", "owner@shop.test").await;
    let connection = shop
        .create_connection(json!({"name": "Library MCP", "kind": "mcp", "base_url": mcp_url(&app),
            "auth": {"type": "bearer", "token": key}}))
        .await;
    let refresh = format!("/api/v1/connections/{connection}/tools/refresh");
    let (status, tools) = shop.post(&refresh, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{tools}");
    let mut names: Vec<&str> =
        tools["data"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    let read_tools =
        ["ask_assistant", "get_conversation", "list_conversations", "search_knowledge_base"];
    assert_eq!(names, read_tools, "only what the key's scope opens");

    let tool = format!("/api/v1/connections/{connection}/tools/search_knowledge_base");
    let (status, body) = shop.patch(&tool, json!({"approval": "none"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let widget = shop.create_widget("Shop").await;
    shop.create_rule(json!({"name": "Returns", "trigger": {"type": "keywords", "any": ["return"]},
        "actions": [
            {"type": "CALL_TOOL", "connection_id": connection, "tool": "search_knowledge_base",
             "arguments": {"query": "return an item", "limit": "1"},
             "response_mapping": {"policy": "results.0.text"},
             "on_error": [{"type": "REPLY_TEXT", "text": "failed: {api.search_knowledge_base.error}"}]},
            {"type": "REPLY_TEXT", "text": "{policy}"}]}))
        .await;
    let visitor = app.start_conversation(&widget).await;
    let replies = visitor.say("can I return my lamp?").await;
    assert!(replies[0].contains("within 30 days"), "{replies:?}");
}

#[tokio::test]
async fn an_agent_asks_no_more_than_a_visitor_may() {
    let Some(python) = sdk_python() else { return };
    let app =
        TestApp::sqlite_with(|c| c.security.visitor_conversations_per_minute_per_ip = 1).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    owner.create_widget("Shop").await;
    let key = key_with(&owner, "eager agent", &["mcp:read"]).await;
    let question = call("ask_assistant", json!({"question": "hello?"}));
    let run = agent(&python, &mcp_url(&app), Some(&key), json!([question, question])).await;
    assert_eq!(ok(&run[1])["mode"], "sandbox");
    let limited = refused(&run[2]);
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    assert!(limited["retry_after"].as_u64().is_some_and(|s| s >= 1), "{limited}");
}
