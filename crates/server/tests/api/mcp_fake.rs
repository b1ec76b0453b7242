//! An MCP server of the tests' own in Rust, on loopback: JSON answers (no event streams), no
//! sessions, a tool list in two pages, and tools that misbehave in each way an outbound call can
//! (hang, invalid JSON, a huge answer, a 5xx) — the failure paths the Python SDK's well-behaved
//! server does not walk.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The fake and what it received (the JSON-RPC methods, in order).
pub struct FakeMcp {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<String>>>,
    /// A tool added to the second page when set (a server whose list changed).
    pub added: Arc<Mutex<Option<Value>>>,
}

impl FakeMcp {
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    pub fn methods(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

pub fn tool(name: &str, description: &str, read_only: bool) -> Value {
    json!({"name": name, "description": description,
        "inputSchema": {"type": "object", "properties": {"order_id": {"type": "integer"}}},
        "annotations": {"readOnlyHint": read_only}})
}

fn answer(id: &Value, result: Value) -> Response {
    axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
}

async fn handle(
    received: Arc<Mutex<Vec<String>>>,
    added: Arc<Mutex<Option<Value>>>,
    body: Value,
) -> Response {
    let method = body["method"].as_str().unwrap_or_default().to_owned();
    received.lock().unwrap().push(method.clone());
    let id = &body["id"];
    match method.as_str() {
        "initialize" => answer(
            id,
            json!({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
            "serverInfo": {"name": "fake", "version": "1"}}),
        ),
        "notifications/initialized" => StatusCode::ACCEPTED.into_response(),
        "tools/list" if body["params"]["cursor"] == "page-2" => {
            let mut tools = vec![
                tool("broken", "Answers garbage", true),
                tool("huge", "Answers too much", true),
                tool("failing", "Answers 500", true),
            ];
            tools.extend(added.lock().unwrap().clone());
            answer(id, json!({"tools": tools}))
        }
        "tools/list" => answer(
            id,
            json!({"tools": [tool("lookup", "Finds an order", true), tool("hang", "Never answers", true)],
                "nextCursor": "page-2"}),
        ),
        "tools/call" => match body["params"]["name"].as_str().unwrap_or_default() {
            "lookup" => {
                let order = &body["params"]["arguments"]["order_id"];
                answer(
                    id,
                    json!({"content": [{"type": "text", "text": "packed"}],
                    "structuredContent": {"order_id": order, "status": "packed"}}),
                )
            }
            "hang" => {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                answer(id, json!({"content": []}))
            }
            "broken" => ([("content-type", "application/json")], "{\"jsonrpc\": \"2.0\", \"id\"")
                .into_response(),
            "huge" => {
                let text = "x".repeat(12 * 1024 * 1024);
                answer(id, json!({"content": [{"type": "text", "text": text}]}))
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        _ => axum::Json(json!({"jsonrpc": "2.0", "id": id,
            "error": {"code": -32601, "message": "Method not found"}}))
        .into_response(),
    }
}

pub async fn start() -> FakeMcp {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let added: Arc<Mutex<Option<Value>>> = Arc::default();
    let (seen, adding) = (received.clone(), added.clone());
    let router = Router::new().route(
        "/mcp",
        post(move |axum::Json(body): axum::Json<Value>| handle(seen.clone(), adding.clone(), body)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    FakeMcp { addr, received, added }
}
