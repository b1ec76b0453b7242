//! Reading the visitor: their language, which intents their message expresses, values to
//! extract — and translating between visitor and operator.

use std::collections::BTreeSet;

use sb_domain::{Rule, RuleId, TenantId, Translation, Trigger};
use sb_llm::{ChatMessage, ChatRequest, LlmError, Provider, Structured, language};
use serde_json::{Value, json};

use super::trace::entry;
use crate::ai::Purpose;
use crate::conversations::Run;
use crate::{ConversationsService, EngineError};

impl ConversationsService {
    /// Detects the language of the message. `visitor.language` (the browser's language, then
    /// what earlier messages established) is the prior: it changes only on a confident detection
    /// of another language, so "ok thanks" or a product name never flips a conversation. With no
    /// language yet, a sure detection sets it.
    pub(crate) async fn detect_language(&self, run: &mut Run<'_>) -> Result<(), EngineError> {
        let known = run.conversation.visitor.language.as_deref();
        let Some(found) = language::detect_with_prior(&run.message.text, known) else {
            return Ok(());
        };
        let code = found.code;
        if !found.reliable || known.is_some_and(|k| crate::conversations::same_language(k, code)) {
            return Ok(());
        }
        let previous = run.conversation.visitor.language.replace(code.to_owned());
        self.store
            .conversations
            .update_visitor(&run.tenant.id, &run.conversation.id, &run.conversation.visitor)
            .await?;
        run.vars.insert("visitor.language".into(), json!(code));
        self.note(run, "language_detected", json!({"language": code, "previous": previous})).await;
        Ok(())
    }

    /// Which intent-triggered rules the message matches, in one constrained model call.
    pub(crate) async fn recognise_intents(
        &self,
        run: &Run<'_>,
        rules: &[Rule],
    ) -> BTreeSet<RuleId> {
        let intents: Vec<(&RuleId, &str)> = rules
            .iter()
            .filter_map(|r| match &r.definition.trigger {
                Trigger::Intent { description } => Some((&r.id, description.as_str())),
                _ => None,
            })
            .collect();
        if intents.is_empty() {
            return BTreeSet::new();
        }
        let provider = match self.ai.provider_for(&run.tenant.id).await {
            Ok(Some((provider, _))) => provider,
            Ok(None) | Err(_) => {
                let names: Vec<&str> = intents.iter().map(|(_, d)| *d).collect();
                self.note(run, "ai_off", json!({"reason": "AI is off: intent triggers need an AI provider", "intents": names})).await;
                return BTreeSet::new();
            }
        };
        let ids: Vec<String> = intents.iter().map(|(id, _)| id.to_string()).collect();
        let listing: String = intents.iter().map(|(id, d)| format!("- {id}: {d}\n")).collect();
        let system = format!(
            "Decide which of these intents the customer's message expresses. List every intent that \
             applies, or none.\nIntents:\n{listing}"
        );
        let schema = json!({
            "type": "object",
            "properties": {"matches": {"type": "array", "items": {"type": "string", "enum": ids}}},
            "required": ["matches"],
            "additionalProperties": false
        });
        match self
            .ask_structured(run, provider.as_ref(), (Purpose::Intent, "intents"), system, schema)
            .await
        {
            Ok(answer) => {
                let matched: BTreeSet<RuleId> = answer
                    .and_then(|v| v.get("matches").cloned())
                    .and_then(|m| serde_json::from_value::<Vec<String>>(m).ok())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|id| id.parse().ok())
                    .filter(|id: &RuleId| intents.iter().any(|(known, _)| *known == id))
                    .collect();
                self.note(run, "intents", json!({"matched": matched})).await;
                matched
            }
            Err(err) => {
                self.note(run, "ai_error", json!({"purpose": "intent", "error": err})).await;
                BTreeSet::new()
            }
        }
    }

    /// Extracts `what` from the conversation with a JSON-schema-constrained call.
    pub(crate) async fn extract(&self, run: &Run<'_>, what: &str) -> Option<Value> {
        let provider = match self.ai.provider_for(&run.tenant.id).await {
            Ok(Some((provider, _))) => provider,
            _ => {
                self.note(run, "ai_off", json!({"action": "SET_VARIABLE", "wanted": what})).await;
                return None;
            }
        };
        let system = format!(
            "Extract {what} from the customer's latest message. Copy it exactly as written. If it is \
             not there, answer found=false. Do not guess."
        );
        let schema = json!({
            "type": "object",
            "properties": {"found": {"type": "boolean"}, "value": {"type": ["string", "null"]}},
            "required": ["found", "value"],
            "additionalProperties": false
        });
        match self
            .ask_structured(
                run,
                provider.as_ref(),
                (Purpose::Extract, "extraction"),
                system,
                schema,
            )
            .await
        {
            Ok(answer) => {
                let found = answer.unwrap_or(Value::Null);
                let value = found
                    .get("value")
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|v| !v.is_empty());
                (found.get("found") == Some(&json!(true)))
                    .then(|| value.map(|v| json!(v)))
                    .flatten()
            }
            Err(err) => {
                self.note(run, "ai_error", json!({"purpose": "extract", "error": err})).await;
                None
            }
        }
    }

    /// Translates `text` into `to`; `None` when AI is off or the call fails (the original then
    /// stands alone). Callers skip this when both sides share a language.
    pub(crate) async fn translate(
        &self,
        tenant: &TenantId,
        conversation: &sb_domain::ConversationId,
        text: &str,
        to: &str,
    ) -> Option<Translation> {
        let (provider, _) = self.ai.provider_for(tenant).await.ok().flatten()?;
        let request = ChatRequest {
            system: format!(
                "Translate the customer-support message into {} (language code {to}). Keep names, numbers, \
                 order ids, links and e-mail addresses unchanged. Answer with the translation only.",
                language::name(to)
            ),
            messages: vec![ChatMessage::user(text.to_owned())],
            structured: Some(Structured {
                name: "translation".into(),
                schema: json!({"type": "object", "properties": {"translation": {"type": "string"}}, "required": ["translation"], "additionalProperties": false}),
            }),
            max_tokens: 1000,
            temperature: Some(0.0),
            ..ChatRequest::default()
        };
        match self
            .ai
            .chat(provider.as_ref(), tenant, Some(conversation), Purpose::Translate, &request)
            .await
        {
            Ok(answer) => answer
                .structured
                .and_then(|v| v.get("translation").and_then(Value::as_str).map(str::to_owned))
                .map(|text| Translation { language: to.to_owned(), text }),
            Err(err) => {
                let data = json!({"purpose": "translate", "error": err});
                self.trace(entry(tenant, conversation, None, "ai_error", data));
                None
            }
        }
    }
}

impl ConversationsService {
    /// One deterministic model call about the visitor's message, answered as JSON that fits
    /// `schema` (`None` when the model sent none).
    async fn ask_structured(
        &self,
        run: &Run<'_>,
        provider: &dyn Provider,
        (purpose, name): (Purpose, &str),
        system: String,
        schema: Value,
    ) -> Result<Option<Value>, LlmError> {
        let request = ChatRequest {
            system,
            messages: vec![ChatMessage::user(run.message.text.clone())],
            structured: Some(Structured { name: name.into(), schema }),
            max_tokens: 200,
            temperature: Some(0.0),
            ..ChatRequest::default()
        };
        let (tenant, conversation) = (&run.tenant.id, Some(&run.conversation.id));
        let answer = self.ai.chat(provider, tenant, conversation, purpose, &request).await?;
        Ok(answer.structured)
    }
}
