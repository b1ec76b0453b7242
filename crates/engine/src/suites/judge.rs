//! The AI judge of a test case: whether a conversation meets a criterion written in plain
//! words ("apologises and offers a refund"), asked of the account's AI provider.

use sb_domain::{Author, Message, TenantId};
use sb_llm::{ChatMessage, ChatRequest, Structured};
use serde_json::json;

use crate::ai::{AiService, Purpose};

/// What the judge said: whether the criterion is met, and why (quoting the conversation).
pub(crate) struct Verdict {
    pub met: bool,
    pub why: String,
}

/// Asks the judge about `transcript`; `Err` says why no verdict could be had.
pub(crate) async fn judge(
    ai: &AiService,
    tenant: &TenantId,
    criterion: &str,
    transcript: &[Message],
) -> Result<Verdict, String> {
    let Ok(Some((provider, _))) = ai.provider_for(tenant).await else {
        return Err("the AI judge needs an AI provider, and this account has none".into());
    };
    let conversation: Vec<String> = transcript
        .iter()
        .map(|m| {
            let who = match m.author {
                Author::Visitor => "visitor",
                Author::Bot => "assistant",
                Author::Operator => "person of the team",
                Author::System => "system",
            };
            format!("{who}: {}", m.text)
        })
        .collect();
    let request = ChatRequest {
        system: "You check a customer-support conversation against one criterion, strictly and \
                 only by what the conversation says. Answer whether the criterion is met, and why \
                 in one sentence that quotes the conversation."
            .into(),
        messages: vec![ChatMessage::user(format!(
            "Criterion: {criterion}\n\nConversation:\n{}",
            conversation.join("\n")
        ))],
        structured: Some(Structured {
            name: "verdict".into(),
            schema: json!({"type": "object", "properties": {"met": {"type": "boolean"},
                "why": {"type": "string"}}, "required": ["met", "why"], "additionalProperties": false}),
        }),
        max_tokens: 300,
        temperature: Some(0.0),
        ..ChatRequest::default()
    };
    let answer = ai
        .chat(provider.as_ref(), tenant, None, Purpose::Judge, &request)
        .await
        .map_err(|err| format!("the AI judge could not answer: {err}"))?;
    let verdict = answer.structured.ok_or("the AI judge gave no verdict")?;
    match (verdict["met"].as_bool(), verdict["why"].as_str()) {
        (Some(met), why) => Ok(Verdict { met, why: why.unwrap_or_default().to_owned() }),
        _ => Err(format!("the AI judge answered {verdict}, not a verdict")),
    }
}
