//! `REPLY_AI`: a grounded answer in the visitor's language, with the tenant's endpoints offered
//! as tools. Live data reaches the model only through the session variables and tool results;
//! the prompt tells it never to invent any, and which lookups failed.

use sb_domain::analytics::ReplySource;
use sb_domain::template::Template;
use sb_domain::{Author, Endpoint, is_built_in};
use sb_llm::language;
use sb_llm::{ChatMessage, ChatRequest, ToolCall, ToolSpec};
use serde_json::{Map, Value, json};

use super::actions::Called;
use super::fixed_texts::FixedText;
use super::routing::HandOver;
use crate::ai::Purpose;
use crate::conversations::{AssignTarget, Run};
use crate::{ConversationsService, EngineError};

/// Tool parameters are the endpoint's declared variables that the session does not provide.
fn tool_spec(endpoint: &Endpoint) -> ToolSpec {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for spec in endpoint.request.variables.iter().filter(|v| !is_built_in(&v.name)) {
        let mut schema = json!({"type": "string", "description": spec.description});
        if let Some(pattern) = &spec.pattern {
            schema["pattern"] = json!(format!("^(?:{pattern})$"));
        }
        properties.insert(spec.name.clone(), schema);
        if spec.required {
            required.push(spec.name.clone());
        }
    }
    let description = if endpoint.description.is_empty() {
        format!("Calls {}", endpoint.name)
    } else {
        endpoint.description.clone()
    };
    ToolSpec {
        name: endpoint.name.clone(),
        description,
        parameters: json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false}),
    }
}

/// The variables worth showing the model: everything but the message itself and ids.
fn context_variables(run: &Run<'_>) -> Map<String, Value> {
    run.vars
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "message.text"
                    | "message.id"
                    | "conversation.id"
                    | "widget.id"
                    | super::questions::QUESTION
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl ConversationsService {
    async fn system_prompt(
        &self,
        run: &Run<'_>,
        tenant_instructions: &str,
        rule_instructions: Option<&str>,
    ) -> String {
        let language = run.conversation.visitor.language.clone().unwrap_or_else(|| "en".into());
        let mut prompt = format!(
            "You are the customer-support assistant of {tenant}. Write your reply in {name} (language code {language}), \
             short and friendly, as plain text.\n\
             Ground every statement in the context below or in tool results. Never invent order numbers, \
             statuses, dates, prices, stock levels or account details. If something you need is missing, \
             ask for it; if a lookup failed, say plainly that you could not check it right now and offer \
             to connect the visitor with a person.\n",
            tenant = run.tenant.name.as_str(),
            name = language::name(&language),
        );
        for extra in [tenant_instructions, rule_instructions.unwrap_or_default()] {
            if !extra.trim().is_empty() {
                prompt.push_str(&format!("\nInstructions from the business:\n{}\n", extra.trim()));
            }
        }
        let failed: Vec<String> = run
            .vars
            .iter()
            .filter_map(|(name, value)| {
                let endpoint = name.strip_prefix("api.")?.strip_suffix(".error")?;
                Some(format!(
                    "- the lookup \"{endpoint}\" failed ({}): you could not check that data",
                    value.as_str().unwrap_or("error")
                ))
            })
            .collect();
        if !failed.is_empty() {
            prompt.push_str(&format!("\nFailed lookups:\n{}\n", failed.join("\n")));
        }
        prompt.push_str(&format!(
            "\nSession data (JSON):\n{}\n",
            Value::Object(context_variables(run))
        ));
        let passages = self.knowledge_passages(run).await;
        if !passages.is_empty() {
            prompt.push_str("\nFrom the knowledge base (cite the title when you use a passage):\n");
            for (title, text) in passages {
                prompt.push_str(&format!("### {title}\n{text}\n"));
            }
        }
        prompt
    }

    /// Earlier turns of the conversation, oldest first, ending with the current message.
    async fn history(&self, run: &Run<'_>) -> Result<Vec<ChatMessage>, EngineError> {
        let keep = i64::from(self.ai.config().history_messages);
        let after = (run.message.seq - keep - 1).max(0);
        let earlier = self
            .store
            .conversations
            .list_messages(&run.tenant.id, &run.conversation.id, after, keep as u32 + 1)
            .await?;
        let mut messages: Vec<ChatMessage> = earlier
            .iter()
            .filter(|m| m.seq < run.message.seq)
            .filter_map(|m| match m.author {
                // Files are named for the model (it never sees their content); a message is
                // never empty, which some providers refuse.
                Author::Visitor => Some(ChatMessage::user(m.text_with_files())),
                Author::Bot | Author::Operator => Some(ChatMessage::assistant(m.text_with_files())),
                Author::System => None,
            })
            .collect();
        messages.push(ChatMessage::user(run.message.text.clone()));
        Ok(messages)
    }

    /// What the visitor gets when the AI failed: a passage from the knowledge base that answers,
    /// or the rule's own fallback text if it has one; otherwise the conversation goes to people
    /// (their queue when nobody is available), and the visitor is told so in their language — a
    /// promise of a person is made only when a person has the conversation.
    async fn answer_without_ai(
        &self,
        run: &mut Run<'_>,
        fallback: Option<&str>,
        reason: &str,
    ) -> Result<(), EngineError> {
        self.note(run, "ai_fallback", json!({"reason": reason})).await;
        if self.reply_from_knowledge(run).await? {
            return Ok(());
        }
        if let Some(fallback) = fallback {
            let text = Template::parse("fallback", fallback)
                .map(|t| t.render_text(&run.vars).0)
                .unwrap_or_else(|_| fallback.to_owned());
            return self.reply(run, &text, ReplySource::Fallback).await;
        }
        let why = format!("the AI could not answer ({reason})");
        let handed = self.hand_over_quietly(run, AssignTarget::AnyAvailable, Some(&why)).await?;
        if handed != HandOver::Failed {
            let mut text = self.fixed_text(run, FixedText::AiFailedHandedOver, false).await;
            if handed == HandOver::Unattended {
                text = format!("{text} {}", self.nobody_available(run, false).await);
            }
            return self.reply(run, &text, ReplySource::Fallback).await;
        }
        self.note(
            run,
            "reply_empty",
            json!({"reason": "the AI failed and the hand-over did not work"}),
        )
        .await;
        Ok(())
    }

    /// The AI's answer; with AI off, the fallback text (if the rule has one).
    pub(crate) async fn reply_ai(
        &self,
        run: &mut Run<'_>,
        instructions: Option<&str>,
        fallback: Option<&str>,
    ) -> Result<(), EngineError> {
        let Some((provider, tenant_instructions)) = self.ai.provider_for(&run.tenant.id).await?
        else {
            self.note(
                run,
                "ai_off",
                json!({"action": "REPLY_AI", "reason": "no AI provider is configured"}),
            )
            .await;
            // Without a model, the knowledge base may still hold the answer.
            return self.reply_kb(run, fallback).await;
        };
        let mut endpoints = self.cached_ai_tools(&run.config, &run.tenant.id).await?.to_vec();
        // Offer only what this visitor may use: a tool that would be refused wastes a round and
        // invites probing.
        let verified = run.conversation.visitor.verified;
        endpoints.retain(|endpoint| verified || !endpoint.requires_verified_visitor);
        let mut request = ChatRequest {
            system: self.system_prompt(run, &tenant_instructions, instructions).await,
            messages: self.history(run).await?,
            tools: endpoints.iter().map(tool_spec).collect(),
            max_tokens: 700,
            temperature: Some(0.2),
            ..ChatRequest::default()
        };
        let conversation = run.conversation.id.clone();
        for round in 0..=self.ai.config().max_tool_rounds {
            let response = match self
                .ai
                .chat(
                    provider.as_ref(),
                    &run.tenant.id,
                    Some(&conversation),
                    Purpose::Reply,
                    &request,
                )
                .await
            {
                Ok(response) => response,
                Err(err) => {
                    self.note(run, "ai_error", json!({"error": err})).await;
                    return self.answer_without_ai(run, fallback, err.code).await;
                }
            };
            let calls: Vec<&str> = response.tool_calls.iter().map(|c| c.name.as_str()).collect();
            let data = json!({"round": round, "model": provider.model(), "tool_calls": calls, "input_tokens": response.usage.input_tokens, "output_tokens": response.usage.output_tokens});
            self.note(run, "ai_call", data).await;
            if response.tool_calls.is_empty() {
                return self.reply(run, &response.text, ReplySource::Ai).await;
            }
            if round == self.ai.config().max_tool_rounds {
                self.note(run, "ai_tool_limit", json!({"rounds": round + 1})).await;
                return self.answer_without_ai(run, fallback, "tool_limit").await;
            }
            let mut assistant = ChatMessage::assistant(response.text.clone());
            assistant.tool_calls = response.tool_calls.clone();
            request.messages.push(assistant);
            for call in &response.tool_calls {
                let result = self.run_tool(run, &endpoints, call).await;
                request.messages.push(ChatMessage::tool_result(call, result.to_string()));
            }
            if run.waiting_for_agreement {
                // The question with its buttons is the answer: the model gets no turn to say
                // it is done, or to talk the visitor into pressing.
                let data = json!({"reason": "an action waits for agreement"});
                self.note(run, "ai_stopped", data).await;
                return Ok(());
            }
        }
        Ok(())
    }

    /// Runs one tool call: validates the arguments, makes them session variables, calls the
    /// endpoint through the same path as `CALL_API`, and returns what the model should see.
    async fn run_tool(&self, run: &mut Run<'_>, endpoints: &[Endpoint], call: &ToolCall) -> Value {
        let Some(endpoint) = endpoints.iter().find(|e| e.name == call.name) else {
            self.note(run, "ai_tool_error", json!({"tool": call.name, "error": "unknown tool"}))
                .await;
            return json!({"ok": false, "error": "unknown_tool", "message": format!("there is no tool {}", call.name)});
        };
        let arguments = match serde_json::from_str::<Value>(&call.arguments) {
            Ok(Value::Object(map)) => map,
            _ => {
                self.note(run, "ai_tool_error", json!({"tool": call.name, "error": "invalid_arguments", "arguments": crate::conversations::shorten(&json!(call.arguments))})).await;
                return json!({"ok": false, "error": "invalid_arguments", "message": "the arguments must be a JSON object"});
            }
        };
        for (name, value) in &arguments {
            let declared =
                endpoint.request.variables.iter().any(|v| &v.name == name && !is_built_in(name));
            if !declared {
                self.note(
                    run,
                    "ai_tool_error",
                    json!({"tool": call.name, "error": "unknown_argument", "argument": name}),
                )
                .await;
                return json!({"ok": false, "error": "invalid_arguments", "message": format!("{name} is not a parameter of {}", call.name)});
            }
            let value = match value {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => value.clone(),
                _ => {
                    return json!({"ok": false, "error": "invalid_arguments", "message": format!("{name} must be a string or number")});
                }
            };
            self.set_variable(run, name, value, "ai").await;
        }
        match self.call_api(run, &endpoint.id, None).await {
            Ok(Called::WaitingForAgreement) => json!({
                "ok": false,
                "status": "awaiting_confirmation",
                "message": "Nothing has been done yet. The visitor has been shown this request with Confirm and Cancel buttons; it runs only if they press Confirm (and a person approves, where required). Do not say it is done, and do not ask them to type a confirmation: typed confirmations are ignored.",
            }),
            Ok(Called::Answered) => {
                let data: Map<String, Value> = endpoint
                    .response_mapping
                    .keys()
                    .filter_map(|k| run.vars.get(k).map(|v| (k.clone(), v.clone())))
                    .collect();
                // An MCP tool's result is written for a model: it reads it whole (mapped
                // values, if any, beside it).
                match run.tool_result.take().filter(|_| endpoint.tool.is_some()) {
                    Some(result) => json!({"ok": true, "data": data, "result": result}),
                    None => json!({"ok": true, "data": data}),
                }
            }
            Ok(Called::NotFound) => json!({
                "ok": true,
                "found": false,
                "message": "The lookup worked and found nothing for these values: say so plainly; do not guess.",
            }),
            Err(err) => json!({"ok": false, "error": err.code, "message": err.message}),
        }
    }
}
