//! A scripted model on 127.0.0.1 that speaks the real OpenAI Chat Completions and Anthropic
//! Messages wire formats and records every request, so tests can check what reached the prompt.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// Which wire format a request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    OpenAi,
    Anthropic,
}

/// A request as the script sees it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub api: Api,
    pub body: Value,
    pub system: String,
    /// The newest user text.
    pub last_user_text: String,
    /// Results of tool calls in the conversation so far, in order.
    pub tool_results: Vec<String>,
    /// Names of the tools offered.
    pub tools: Vec<String>,
    /// The name of the structured answer asked for, if any.
    pub structured: Option<String>,
}

/// What the model answers.
#[derive(Debug, Clone)]
pub enum Reply {
    Text(String),
    /// Tool calls: (name, arguments as JSON text — may be malformed on purpose).
    ToolCalls(Vec<(String, String)>),
    Structured(Value),
    Status(u16, Value),
    After(Duration, Box<Reply>),
}

type Script = Box<dyn FnMut(&Seen) -> Reply + Send>;

#[derive(Clone)]
struct Shared {
    script: Arc<Mutex<Script>>,
    requests: Arc<Mutex<Vec<Seen>>>,
    embedded: Arc<Mutex<Vec<String>>>,
}

pub struct FakeModel {
    pub addr: SocketAddr,
    shared: Shared,
}

impl FakeModel {
    pub async fn start(script: impl FnMut(&Seen) -> Reply + Send + 'static) -> Self {
        let shared = Shared {
            script: Arc::new(Mutex::new(Box::new(script))),
            requests: Arc::default(),
            embedded: Arc::default(),
        };
        let router = Router::new()
            .route("/chat/completions", post(openai))
            .route("/v1/chat/completions", post(openai))
            .route("/embeddings", post(embeddings))
            .route("/v1/embeddings", post(embeddings))
            .route("/v1/messages", post(anthropic))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake model");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move { axum::serve(listener, router).await.ok() });
        Self { addr, shared }
    }

    /// Base URL for an OpenAI-compatible client.
    pub fn openai_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Base URL for an Anthropic client.
    pub fn anthropic_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.shared.requests.lock().expect("lock").clone()
    }

    /// Every text the embeddings endpoint was given, in order.
    pub fn embedded(&self) -> Vec<String> {
        self.shared.embedded.lock().expect("lock").clone()
    }
}

/// The fake embedding: words hashed into 64 buckets, normalised. Digits are left out, so like a
/// real model it cannot tell order 4521 from order 4512 — which is what exact-token ranking must
/// make up for.
pub fn fake_embedding(text: &str) -> Vec<f32> {
    let mut vector = vec![0.0_f32; 64];
    for word in text.split(|c: char| !c.is_alphabetic()).filter(|w| w.len() > 2) {
        let word = word.to_lowercase();
        let bucket = word.bytes().fold(7_u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        vector[bucket as usize % 64] += 1.0;
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::EPSILON);
    vector.iter().map(|x| x / norm).collect()
}

async fn embeddings(State(shared): State<Shared>, axum::Json(body): axum::Json<Value>) -> Response {
    let texts: Vec<String> = match &body["input"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": {"message": "no input"}})),
            )
                .into_response();
        }
    };
    shared.embedded.lock().expect("lock").extend(texts.iter().cloned());
    let data: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": fake_embedding(t)}))
        .collect();
    let tokens: usize = texts.iter().map(|t| t.len() / 4).sum();
    axum::Json(json!({"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})).into_response()
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

fn seen(api: Api, body: Value) -> Seen {
    let messages = body.get("messages").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut last_user_text = String::new();
    let mut tool_results = Vec::new();
    let mut system = body.get("system").and_then(Value::as_str).unwrap_or_default().to_owned();
    for m in &messages {
        match (m.get("role").and_then(Value::as_str), api) {
            (Some("system"), _) => system = text_of(&m["content"]),
            (Some("tool"), _) => tool_results.push(text_of(&m["content"])),
            (Some("user"), Api::Anthropic) => {
                let blocks = m["content"].as_array().cloned().unwrap_or_default();
                for block in &blocks {
                    if block["type"] == "tool_result" {
                        tool_results.push(text_of(&block["content"]));
                    }
                }
                if blocks.iter().any(|b| b["type"] == "text") {
                    last_user_text = text_of(&m["content"]);
                }
            }
            (Some("user"), Api::OpenAi) => last_user_text = text_of(&m["content"]),
            _ => {}
        }
    }
    let tools: Vec<String> = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| {
                    t.pointer("/function/name")
                        .or_else(|| t.get("name"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    let structured = match api {
        Api::OpenAi => body
            .pointer("/response_format/json_schema/name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        Api::Anthropic => {
            body.pointer("/tool_choice/name").and_then(Value::as_str).map(str::to_owned)
        }
    };
    Seen { api, body, system, last_user_text, tool_results, tools, structured }
}

async fn answer(shared: Shared, api: Api, body: Value) -> Response {
    let seen = seen(api, body);
    shared.requests.lock().expect("lock").push(seen.clone());
    let mut reply = (shared.script.lock().expect("lock"))(&seen);
    while let Reply::After(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    let usage_in = seen.body.to_string().len() as u64 / 4;
    match (reply, api) {
        (Reply::Status(code, body), _) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(body),
        )
            .into_response(),
        (Reply::Text(text), Api::OpenAi) => {
            openai_message(json!({"role": "assistant", "content": text}), usage_in)
        }
        (Reply::ToolCalls(calls), Api::OpenAi) => {
            let calls: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(i, (name, args))| json!({"id": format!("call_{i}"), "type": "function", "function": {"name": name, "arguments": args}}))
                .collect();
            openai_message(
                json!({"role": "assistant", "content": null, "tool_calls": calls}),
                usage_in,
            )
        }
        (Reply::Structured(value), Api::OpenAi) => {
            openai_message(json!({"role": "assistant", "content": value.to_string()}), usage_in)
        }
        (Reply::Text(text), Api::Anthropic) => {
            anthropic_message(vec![json!({"type": "text", "text": text})], usage_in)
        }
        (Reply::ToolCalls(calls), Api::Anthropic) => {
            let blocks = calls
                .iter()
                .enumerate()
                .map(|(i, (name, args))| {
                    let input: Value = serde_json::from_str(args).unwrap_or_else(|_| json!({"raw": args}));
                    json!({"type": "tool_use", "id": format!("toolu_{i}"), "name": name, "input": input})
                })
                .collect();
            anthropic_message(blocks, usage_in)
        }
        (Reply::Structured(value), Api::Anthropic) => {
            let name = seen.structured.clone().unwrap_or_default();
            anthropic_message(
                vec![json!({"type": "tool_use", "id": "toolu_s", "name": name, "input": value})],
                usage_in,
            )
        }
        (Reply::After(..), _) => unreachable!("unwrapped above"),
    }
}

fn openai_message(message: Value, usage_in: u64) -> Response {
    axum::Json(json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": usage_in, "completion_tokens": 7, "total_tokens": usage_in + 7}
    }))
    .into_response()
}

fn anthropic_message(content: Vec<Value>, usage_in: u64) -> Response {
    axum::Json(json!({
        "id": "msg_fake", "type": "message", "role": "assistant", "model": "fake", "content": content,
        "stop_reason": "end_turn", "usage": {"input_tokens": usage_in, "output_tokens": 7}
    }))
    .into_response()
}

async fn openai(State(shared): State<Shared>, axum::Json(body): axum::Json<Value>) -> Response {
    answer(shared, Api::OpenAi, body).await
}

async fn anthropic(State(shared): State<Shared>, axum::Json(body): axum::Json<Value>) -> Response {
    answer(shared, Api::Anthropic, body).await
}
