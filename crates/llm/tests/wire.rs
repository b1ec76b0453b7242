//! Both providers against the scripted model: requests in the real wire formats, tool calls
//! and structured answers parsed back, retries and failures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sb_llm::testing::{Api, FakeModel, Reply};
use sb_llm::{
    ChatMessage, ChatRequest, Provider, ProviderConfig, ProviderKind, Structured, ToolSpec,
    provider,
};
use sb_net::{AllowEntry, HttpClient, NetConfig, SsrfPolicy};
use sb_secrets::Secret;
use serde_json::json;

fn client(model: &FakeModel) -> HttpClient {
    let allow = vec![model.addr.to_string().parse::<AllowEntry>().unwrap()];
    HttpClient::new(
        SsrfPolicy::new(allow),
        NetConfig { max_timeout: Duration::from_secs(30), ..NetConfig::default() },
    )
    .unwrap()
}

fn providers(model: &FakeModel, timeout: Duration) -> Vec<(Api, Arc<dyn Provider>)> {
    [
        (Api::OpenAi, ProviderKind::Openai, model.openai_url()),
        (Api::Anthropic, ProviderKind::Anthropic, model.anthropic_url()),
    ]
    .into_iter()
    .map(|(api, kind, base_url)| {
        let config = ProviderConfig {
            kind,
            base_url,
            api_key: Some(Secret::new("sk-test-key".into())),
            model: "fake-model".into(),
            timeout,
        };
        (api, provider(config, client(model)))
    })
    .collect()
}

fn order_tool() -> ToolSpec {
    ToolSpec {
        name: "get_order".into(),
        description: "Looks up an order".into(),
        parameters: json!({"type": "object", "properties": {"order_id": {"type": "string", "pattern": "^[0-9]+$"}}, "required": ["order_id"]}),
    }
}

#[tokio::test]
async fn a_tool_call_round_trip_in_both_wire_formats() {
    let model = FakeModel::start(|seen| match seen.tool_results.last() {
        None => Reply::ToolCalls(vec![("get_order".into(), r#"{"order_id":"4521"}"#.into())]),
        Some(result) => Reply::Text(format!("Your order: {result}")),
    })
    .await;
    for (api, provider) in providers(&model, Duration::from_secs(5)) {
        let mut request = ChatRequest {
            system: "You are helpful.".into(),
            messages: vec![ChatMessage::user("Where is order 4521?")],
            tools: vec![order_tool()],
            max_tokens: 300,
            ..ChatRequest::default()
        };
        let first = provider.chat(&request).await.unwrap();
        assert_eq!(first.tool_calls.len(), 1, "{api:?}");
        assert_eq!(first.tool_calls[0].name, "get_order");
        let args: serde_json::Value = serde_json::from_str(&first.tool_calls[0].arguments).unwrap();
        assert_eq!(args["order_id"], "4521");
        assert!(first.usage.input_tokens > 0 && first.usage.output_tokens == 7);

        let mut assistant = ChatMessage::assistant("");
        assistant.tool_calls = first.tool_calls.clone();
        request.messages.push(assistant);
        request
            .messages
            .push(ChatMessage::tool_result(&first.tool_calls[0], r#"{"status":"shipped"}"#));
        let second = provider.chat(&request).await.unwrap();
        assert_eq!(second.text, r#"Your order: {"status":"shipped"}"#, "{api:?}");
    }
    let requests = model.requests();
    let openai = requests.iter().find(|r| r.api == Api::OpenAi).unwrap();
    assert_eq!(
        openai.body["messages"][0],
        json!({"role": "system", "content": "You are helpful."})
    );
    assert_eq!(openai.body["tools"][0]["function"]["name"], "get_order");
    assert_eq!(openai.body["model"], "fake-model");
    let anthropic = requests.iter().rfind(|r| r.api == Anthropic).unwrap();
    assert_eq!(anthropic.body["system"], "You are helpful.");
    assert_eq!(anthropic.body["tools"][0]["input_schema"]["required"], json!(["order_id"]));
    let turns: Vec<&str> = anthropic.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(turns, ["user", "assistant", "user"], "tool results ride in a user turn");
    assert_eq!(anthropic.body["messages"][2]["content"][0]["type"], "tool_result");
}
use Api::Anthropic;

#[tokio::test]
async fn structured_answers_are_parsed_in_both_formats() {
    let model = FakeModel::start(|seen| {
        assert_eq!(seen.structured.as_deref(), Some("extraction"));
        Reply::Structured(json!({"found": true, "value": "4521"}))
    })
    .await;
    for (api, provider) in providers(&model, Duration::from_secs(5)) {
        let request = ChatRequest {
            system: "Extract.".into(),
            messages: vec![ChatMessage::user("order 4521")],
            structured: Some(Structured {
                name: "extraction".into(),
                schema: json!({"type": "object"}),
            }),
            max_tokens: 100,
            ..ChatRequest::default()
        };
        let answer = provider.chat(&request).await.unwrap();
        assert_eq!(answer.structured, Some(json!({"found": true, "value": "4521"})), "{api:?}");
    }
}

#[tokio::test]
async fn overload_is_retried_once_and_failures_have_codes() {
    let mut calls = 0;
    let model = FakeModel::start(move |_| {
        calls += 1;
        match calls {
            1 => Reply::Status(429, json!({"error": {"message": "slow down"}})),
            2 => Reply::Text("fine now".into()),
            3 | 4 => Reply::Status(503, json!({"error": {"message": "overloaded"}})),
            5 => Reply::Status(401, json!({"error": {"message": "bad key"}})),
            _ => Reply::After(Duration::from_secs(5), Box::new(Reply::Text("late".into()))),
        }
    })
    .await;
    let (_, provider) = providers(&model, Duration::from_millis(2500)).remove(0);
    let request = ChatRequest {
        system: "s".into(),
        messages: vec![ChatMessage::user("hi")],
        max_tokens: 10,
        ..ChatRequest::default()
    };
    assert_eq!(provider.chat(&request).await.unwrap().text, "fine now");
    assert_eq!(
        provider.chat(&request).await.unwrap_err().code,
        "provider_error",
        "one retry, then the error"
    );
    let err = provider.chat(&request).await.unwrap_err();
    assert_eq!(err.code, "auth_failed");
    assert!(!err.message.contains("sk-test-key"));
    let started = Instant::now();
    assert_eq!(provider.chat(&request).await.unwrap_err().code, "timeout");
    assert!(started.elapsed() < Duration::from_secs(4));
    let key_sent = model.requests().iter().all(|r| r.api == Api::OpenAi);
    assert!(key_sent);
}
