//! Anthropic Messages (`POST {base}/v1/messages`).

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::transport::Transport;
use crate::{ChatRequest, ChatResponse, LlmError, Provider, Role, ToolCall, Usage};

pub(crate) struct Anthropic {
    pub transport: Transport,
    pub model: String,
}

const API_VERSION: &str = "2023-06-01";

/// Anthropic wants alternating turns and tool results inside user turns: consecutive blocks of
/// the same side are merged into one message.
fn messages(request: &ChatRequest) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for m in &request.messages {
        let (role, blocks) = match m.role {
            Role::User => ("user", vec![json!({"type": "text", "text": m.content})]),
            Role::Tool => (
                "user",
                vec![
                    json!({"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}),
                ],
            ),
            Role::Assistant => {
                let mut blocks = Vec::new();
                if !m.content.is_empty() {
                    blocks.push(json!({"type": "text", "text": m.content}));
                }
                for call in &m.tool_calls {
                    let input: Value =
                        serde_json::from_str(&call.arguments).unwrap_or_else(|_| json!({}));
                    blocks.push(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}));
                }
                ("assistant", blocks)
            }
        };
        match out.last_mut() {
            Some(last) if last["role"] == role => {
                if let Some(content) = last["content"].as_array_mut() {
                    content.extend(blocks);
                }
            }
            _ => out.push(json!({"role": role, "content": blocks})),
        }
    }
    out
}

pub(crate) fn body(model: &str, request: &ChatRequest) -> Value {
    let mut body = json!({
        "model": model,
        "max_tokens": request.max_tokens,
        "system": request.system,
        "messages": messages(request),
    });
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    let mut tools: Vec<Value> = request
        .tools
        .iter()
        .map(
            |t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}),
        )
        .collect();
    // A structured answer is a forced call of a tool whose input is the answer.
    if let Some(s) = &request.structured {
        tools.push(
            json!({"name": s.name, "description": "Give the answer.", "input_schema": s.schema}),
        );
        body["tool_choice"] = json!({"type": "tool", "name": s.name});
    }
    if !tools.is_empty() {
        body["tools"] = json!(tools);
    }
    body
}

pub(crate) fn parse(answer: &Value, structured: Option<&str>) -> Result<ChatResponse, LlmError> {
    let blocks = answer
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| LlmError::new("invalid_response", "the answer has no content"))?;
    let mut response = ChatResponse {
        usage: Usage {
            input_tokens: answer
                .pointer("/usage/input_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            output_tokens: answer
                .pointer("/usage/output_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        },
        ..ChatResponse::default()
    };
    for block in blocks {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => response
                .text
                .push_str(block.get("text").and_then(Value::as_str).unwrap_or_default()),
            Some("tool_use") => {
                let name = block.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
                let input = block.get("input").cloned().unwrap_or(Value::Null);
                if structured == Some(name.as_str()) {
                    response.structured = Some(input);
                } else {
                    response.tool_calls.push(ToolCall {
                        id: block.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
                        name,
                        arguments: input.to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    if structured.is_some() && response.structured.is_none() {
        return Err(LlmError::new(
            "invalid_response",
            "the model did not give the structured answer",
        ));
    }
    Ok(response)
}

#[async_trait]
impl Provider for Anthropic {
    fn kind(&self) -> &'static str {
        "anthropic"
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let answer = self
            .transport
            .post("/v1/messages", &body(&self.model, request), |r, key| {
                let r = r.header("anthropic-version", API_VERSION)?;
                match key {
                    Some(key) => r.secret_header("x-api-key", key),
                    None => Ok(r),
                }
            })
            .await?;
        parse(&answer, request.structured.as_ref().map(|s| s.name.as_str()))
    }
}
