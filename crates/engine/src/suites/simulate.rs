//! A simulated visitor: the account's AI provider plays a persona with a goal, one message at
//! a time, and says when the goal is met (or cannot be).

use sb_domain::test_case::Simulate;
use sb_domain::{Author, Message, TenantId};
use sb_llm::{ChatMessage, ChatRequest, Structured};
use serde_json::json;

use crate::ai::{AiService, Purpose};

/// The visitor's next move: a message to write, or none when it is done.
pub(crate) struct NextTurn {
    pub message: Option<String>,
    /// When done: whether the goal was met.
    pub goal_met: bool,
}

pub(crate) async fn next_turn(
    ai: &AiService,
    tenant: &TenantId,
    simulate: &Simulate,
    transcript: &[Message],
) -> Result<NextTurn, String> {
    let Ok(Some((provider, _))) = ai.provider_for(tenant).await else {
        return Err("a simulated visitor needs an AI provider, and this account has none".into());
    };
    let conversation: Vec<String> = transcript
        .iter()
        .map(|m| match m.author {
            Author::Visitor => format!("you: {}", m.text),
            _ => format!("support: {}", m.text),
        })
        .collect();
    let so_far =
        if conversation.is_empty() { "(nothing yet)".into() } else { conversation.join("\n") };
    let request = ChatRequest {
        system: format!(
            "You play a visitor writing to a business's customer-support chat, to test it. \
             Persona: {}\nGoal: {}\nWrite your next message, short and natural, as that person \
             would. When the goal is met, or the support clearly cannot meet it, set done to true \
             (goal_met saying which) and leave message empty.",
            simulate.persona.trim(),
            simulate.goal.trim()
        ),
        messages: vec![ChatMessage::user(format!(
            "The conversation so far:\n{so_far}\n\nYour next move?"
        ))],
        structured: Some(Structured {
            name: "visitor_turn".into(),
            schema: json!({"type": "object", "properties": {"message": {"type": "string"},
                "done": {"type": "boolean"}, "goal_met": {"type": "boolean"}},
                "required": ["message", "done", "goal_met"], "additionalProperties": false}),
        }),
        max_tokens: 300,
        temperature: Some(0.3),
        ..ChatRequest::default()
    };
    let answer = ai
        .chat(provider.as_ref(), tenant, None, Purpose::Simulate, &request)
        .await
        .map_err(|err| format!("the simulated visitor could not answer: {err}"))?;
    let turn = answer.structured.ok_or("the simulated visitor gave no message")?;
    let done = turn["done"].as_bool().unwrap_or(false);
    let message = turn["message"].as_str().map(str::trim).filter(|m| !m.is_empty() && !done);
    if !done && message.is_none() {
        return Err(format!("the simulated visitor answered {turn}, not a message"));
    }
    Ok(NextTurn {
        message: message.map(str::to_owned),
        goal_met: turn["goal_met"].as_bool().unwrap_or(false),
    })
}
