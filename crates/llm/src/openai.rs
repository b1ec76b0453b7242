//! OpenAI-compatible Chat Completions (`POST {base}/chat/completions`), which OpenAI, Azure
//! OpenAI, Ollama, vLLM, llama.cpp's server and OpenRouter all speak.

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::transport::Transport;
use crate::{ChatRequest, ChatResponse, Embeddings, LlmError, Provider, Role, ToolCall, Usage};

pub(crate) struct OpenAi {
    pub transport: Transport,
    pub model: String,
}

fn message(m: &crate::ChatMessage) -> Value {
    match m.role {
        Role::User => json!({"role": "user", "content": m.content}),
        Role::Tool => json!({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content}),
        Role::Assistant if m.tool_calls.is_empty() => {
            json!({"role": "assistant", "content": m.content})
        }
        Role::Assistant => json!({
            "role": "assistant",
            "content": if m.content.is_empty() { Value::Null } else { json!(m.content) },
            "tool_calls": m.tool_calls.iter().map(|c| json!({
                "id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}
            })).collect::<Vec<_>>(),
        }),
    }
}

pub(crate) fn body(model: &str, request: &ChatRequest) -> Value {
    let mut messages = vec![json!({"role": "system", "content": request.system})];
    messages.extend(request.messages.iter().map(message));
    let mut body = json!({"model": model, "messages": messages, "max_tokens": request.max_tokens});
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    if !request.tools.is_empty() {
        body["tools"] = json!(request.tools.iter().map(|t| json!({
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        })).collect::<Vec<_>>());
        body["tool_choice"] = json!("auto");
    }
    if let Some(s) = &request.structured {
        body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": s.name, "schema": s.schema, "strict": true}});
    }
    body
}

pub(crate) fn parse(answer: &Value, structured: bool) -> Result<ChatResponse, LlmError> {
    let message = answer
        .pointer("/choices/0/message")
        .ok_or_else(|| LlmError::new("invalid_response", "the answer has no choices[0].message"))?;
    let text = message.get("content").and_then(Value::as_str).unwrap_or_default().to_owned();
    let tool_calls = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(|calls| {
            calls
                .iter()
                .map(|c| ToolCall {
                    id: c.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    name: c
                        .pointer("/function/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    arguments: c
                        .pointer("/function/arguments")
                        .and_then(Value::as_str)
                        .unwrap_or("{}")
                        .to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let usage = Usage {
        input_tokens: answer.pointer("/usage/prompt_tokens").and_then(Value::as_u64).unwrap_or(0),
        output_tokens: answer
            .pointer("/usage/completion_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    };
    let structured = if structured {
        Some(serde_json::from_str(&text).map_err(|e| {
            LlmError::new("invalid_response", format!("the structured answer is not JSON: {e}"))
        })?)
    } else {
        None
    };
    Ok(ChatResponse { text, tool_calls, structured, usage })
}

#[async_trait]
impl Provider for OpenAi {
    fn kind(&self) -> &'static str {
        "openai"
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        // Azure OpenAI takes the key in `api-key` and needs an API version.
        let azure = self.transport.base_url.contains(".openai.azure.com");
        let path =
            if azure { "/chat/completions?api-version=2024-10-21" } else { "/chat/completions" };
        let answer = self
            .transport
            .post(path, &body(&self.model, request), |r, key| match key {
                None => Ok(r),
                Some(key) if azure => r.secret_header("api-key", key),
                Some(key) => r.secret_header("authorization", &format!("Bearer {key}")),
            })
            .await?;
        parse(&answer, request.structured.is_some())
    }

    async fn embed(&self, texts: &[String]) -> Result<Embeddings, LlmError> {
        let azure = self.transport.base_url.contains(".openai.azure.com");
        let path = if azure { "/embeddings?api-version=2024-10-21" } else { "/embeddings" };
        let body = json!({ "model": self.model, "input": texts });
        let answer = self
            .transport
            .post(path, &body, |r, key| match key {
                None => Ok(r),
                Some(key) if azure => r.secret_header("api-key", key),
                Some(key) => r.secret_header("authorization", &format!("Bearer {key}")),
            })
            .await?;
        embeddings(&answer, texts.len())
    }
}

/// `{"data": [{"index", "embedding": [...]}, …], "usage": {"prompt_tokens"}}`, in input order.
fn embeddings(answer: &Value, expected: usize) -> Result<Embeddings, LlmError> {
    let invalid = |why: &str| LlmError::new("invalid_response", format!("embeddings: {why}"));
    let data = answer.get("data").and_then(Value::as_array).ok_or_else(|| invalid("no data"))?;
    let mut vectors: Vec<(u64, Vec<f32>)> = Vec::with_capacity(data.len());
    for (position, item) in data.iter().enumerate() {
        let index = item.get("index").and_then(Value::as_u64).unwrap_or(position as u64);
        let vector = item
            .get("embedding")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("an item has no embedding"))?
            .iter()
            .map(|x| x.as_f64().map(|x| x as f32))
            .collect::<Option<Vec<f32>>>()
            .ok_or_else(|| invalid("an embedding is not a list of numbers"))?;
        vectors.push((index, vector));
    }
    if vectors.len() != expected {
        return Err(invalid(&format!("{} vectors for {expected} texts", vectors.len())));
    }
    vectors.sort_by_key(|(index, _)| *index);
    let input_tokens =
        answer.pointer("/usage/prompt_tokens").and_then(Value::as_u64).unwrap_or_default();
    Ok(Embeddings { vectors: vectors.into_iter().map(|(_, v)| v).collect(), input_tokens })
}
