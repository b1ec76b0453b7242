//! What the engine does with one visitor message: build the variables, walk the rules in
//! priority order, run the actions of those that fire, let the AI answer when nothing else did,
//! and save what changed.

use std::collections::BTreeSet;

use jiff::tz::TimeZone;
use sb_domain::events::ConversationEvent;
use sb_domain::template::Variables;
use sb_domain::{
    Conversation, ConversationStatus, Message, Rule, Tenant, TenantId, Widget, is_built_in,
};
use sb_rules::Situation;
use sb_store::{ConversationState, FinishedMessage, NewMessage, StoreError};
use serde_json::{Value, json};

use super::questions::QUESTION;
use super::trace::{Turn, entry};
use crate::{ConversationsService, EngineError};

/// Counts the visitor's messages; kept with the session variables, read-only for rules.
pub const VISITOR_MESSAGES: &str = "conversation.visitor_messages";

/// The state of one message's evaluation.
pub(crate) struct Run<'a> {
    /// What the handling records, written with its handled mark.
    pub turn: &'a Turn,
    pub tenant: &'a Tenant,
    /// The tenant's configuration as of this message (see `config_cache`).
    pub config: std::sync::Arc<super::config_cache::TenantConfig>,
    pub conversation: Conversation,
    pub message: &'a Message,
    pub vars: Variables,
    /// Variables set or changed while handling this message.
    pub changed: BTreeSet<String>,
    pub replied: bool,
    /// An operator (or the queue) owns the conversation now: the bot stops.
    pub handed_over: bool,
    /// The rule whose actions are running, if any.
    pub rule: Option<sb_domain::RuleId>,
    /// A call was proposed for agreement: the bot has asked, and waits.
    pub waiting_for_agreement: bool,
    /// The visitor was asked for an input the rule needs; it goes on with the answer.
    pub waiting_for_answer: bool,
    /// An endpoint answered in this turn: a rule's reply after it is API data.
    pub api_answered: bool,
    /// What the last MCP tool called answered (its structured result), for the AI to read.
    pub tool_result: Option<Value>,
    /// The running rule fires on any message: the account's fallback, its replies count so.
    pub catch_all: bool,
}

impl<'a> Run<'a> {
    pub(crate) fn new(
        turn: &'a Turn,
        tenant: &'a Tenant,
        config: std::sync::Arc<super::config_cache::TenantConfig>,
        conversation: Conversation,
        message: &'a Message,
        vars: Variables,
    ) -> Self {
        Self {
            turn,
            tenant,
            config,
            conversation,
            message,
            vars,
            changed: BTreeSet::new(),
            replied: false,
            handed_over: false,
            rule: None,
            waiting_for_agreement: false,
            waiting_for_answer: false,
            api_answered: false,
            tool_result: None,
            catch_all: false,
        }
    }
}

/// The variables Switchboard provides, recomputed for every message (`message.*` only when
/// there is one: a canned reply is filled without).
pub(crate) fn built_ins(
    tenant: &Tenant,
    widget: &Widget,
    conversation: &Conversation,
    message: Option<&Message>,
) -> Variables {
    let visitor = &conversation.visitor;
    let zone = TimeZone::get(&tenant.time_zone).unwrap_or(TimeZone::UTC);
    let now = jiff::Timestamp::now().to_zoned(zone);
    let mut vars = Variables::new();
    let mut put = |name: &str, value: Value| {
        if !value.is_null() {
            vars.insert(name.to_owned(), value);
        }
    };
    put("visitor.name", json!(visitor.name));
    put("visitor.email", json!(visitor.email));
    put("visitor.language", json!(visitor.language));
    put("visitor.user_id", json!(visitor.user_id));
    put("visitor.verified", json!(visitor.verified));
    put("visitor.verified_email", json!(visitor.verified_email()));
    put("conversation.id", json!(conversation.id));
    put("conversation.status", json!(conversation.status.as_str()));
    put("widget.id", json!(widget.id));
    put("widget.name", json!(widget.name));
    if let Some(hours) = &widget.office_hours {
        put(
            "widget.open",
            json!(hours.availability(&tenant.time_zone, jiff::Timestamp::now()).open),
        );
    }
    if let Some(message) = message {
        put("message.id", json!(message.id));
        put("message.text", json!(message.text));
    }
    put("now.datetime", json!(now.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()));
    put("now.date", json!(now.strftime("%Y-%m-%d").to_string()));
    put("now.time", json!(now.strftime("%H:%M").to_string()));
    put("now.weekday", json!(now.strftime("%A").to_string().to_lowercase()));
    put("now.hour", json!(now.hour()));
    put("now.time_zone", json!(tenant.time_zone));
    vars
}

/// Built-in names whose values are kept with the conversation rather than recomputed.
pub(crate) fn kept_built_in(name: &str) -> bool {
    name == VISITOR_MESSAGES || name == QUESTION
}

/// The variables worth keeping: everything rules and APIs set, without the recomputed built-ins.
pub(crate) fn persistent(vars: &Variables) -> Variables {
    vars.iter()
        .filter(|(name, _)| !is_built_in(name) || kept_built_in(name))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl ConversationsService {
    /// Handles one queued visitor message; failures are traced and logged, never propagated.
    /// Returns the replies as stored (`None` when nothing could be stored).
    pub(crate) async fn handle(
        &self,
        tenant: &TenantId,
        message: &Message,
    ) -> Option<Vec<Message>> {
        let turn = Turn::default();
        let variables = match self.process(tenant, message, &turn).await {
            Ok(variables) => variables,
            Err(EngineError::Store(StoreError::Unavailable(why))) => {
                // Left unprocessed: picked up again on the next start.
                tracing::warn!(conversation = %message.conversation_id, error = %why, "database unavailable; message left for later");
                return None;
            }
            Err(err) => {
                tracing::error!(conversation = %message.conversation_id, error = %err, "handling a visitor message failed");
                let data = json!({"message": err.to_string()});
                turn.trace_failure(tenant, message, data);
                None
            }
        };
        // Its trace, its calls' statistics, the variables and the handled mark, in one unit:
        // a message marked handled has its whole trace written.
        // The bot's turn (not a person's conversation): a question it left unanswered, or
        // answered only with a fallback, is a knowledge gap.
        let asked = variables.is_some();
        self.finish_turn(tenant, message, turn, variables.as_ref(), asked).await
    }

    /// Writes what handling `message` recorded in `turn`, with `variables` and the handled
    /// mark, as one unit; then announces the replies. Returns them as stored.
    pub(crate) async fn finish_turn(
        &self,
        tenant: &TenantId,
        message: &Message,
        turn: Turn,
        variables: Option<&Variables>,
        question: bool,
    ) -> Option<Vec<Message>> {
        let parts = turn.into_parts();
        let gap = question.then(|| gap_reason(&parts.replies)).flatten();
        let proposed = &parts.proposed;
        let language = message.translation.as_ref().map(|t| t.language.as_str());
        let terms: Vec<String> =
            parts.replies.iter().map(|r| super::search::message_terms(&r.text, language)).collect();
        let variable_terms = variables.map(super::search::variable_terms).unwrap_or_default();
        let replies: Vec<NewMessage> = parts
            .replies
            .iter()
            .zip(&terms)
            .map(|(reply, terms)| NewMessage {
                id: &reply.id,
                conversation_id: &message.conversation_id,
                author: reply.author,
                author_user_id: None,
                text: &reply.text,
                translation: None,
                created_at: reply.created_at,
                action: reply.action.as_ref().and_then(|id| proposed.iter().find(|a| &a.id == id)),
                attachments: &[],
                search_terms: terms,
                source: reply.source,
            })
            .collect();
        let settled = parts.settled.as_ref().map(|s| (&s.id, s.state, &s.outcome));
        let finished = FinishedMessage {
            tenant,
            message: &message.id,
            replies: &replies,
            variables: variables.map(|vars| (&message.conversation_id, vars)),
            variable_terms: &variable_terms,
            gap,
            traces: &parts.traces,
            call_stats: &parts.call_stats,
            proposed,
            settled,
        };
        match self.store.conversations.finish_message(&finished).await {
            // Announced once stored: nothing is shown that a crash could take back.
            Ok(sent) => {
                for action in &parts.proposed {
                    self.announce_action(action.clone());
                }
                for reply in &sent {
                    self.events.publish(ConversationEvent::MessageCreated {
                        tenant_id: tenant.clone(),
                        conversation_id: message.conversation_id.clone(),
                        message: reply.clone(),
                    });
                }
                Some(sent)
            }
            Err(err) => {
                tracing::warn!(message = %message.id, error = %err, "could not mark a message handled");
                None
            }
        }
    }

    /// Handles the message; returns the conversation's variables to save with it, if any.
    async fn process(
        &self,
        tenant_id: &TenantId,
        message: &Message,
        turn: &Turn,
    ) -> Result<Option<Variables>, EngineError> {
        let mut conversation =
            self.store.conversations.get_conversation(tenant_id, &message.conversation_id).await?;
        let skipped = |reason: &str| {
            let data = json!({"reason": reason});
            turn.trace(entry(tenant_id, &conversation.id, Some(&message.id), "bot_skipped", data));
        };
        match conversation.status {
            ConversationStatus::Pending => {
                skipped("an operator owns the conversation");
                self.translate_for_operator(&conversation, message).await?;
                return Ok(None);
            }
            // Written before it was closed, handled after: nothing to answer any more. (Closed
            // before closes were timed: its last change is the closest mark there is.)
            ConversationStatus::Closed
                if message.created_at
                    < conversation.closed_at.unwrap_or(conversation.updated_at) =>
            {
                skipped("the conversation was closed after it was written");
                return Ok(None);
            }
            ConversationStatus::Closed => {
                // The visitor wrote again: the conversation is live, and the bot's again.
                let state = ConversationState {
                    status: ConversationStatus::Open,
                    assigned_to: None,
                    assigned_team: None,
                };
                self.set_state(&mut conversation, state).await?;
                let data = json!({"by": "visitor"});
                turn.trace(entry(tenant_id, &conversation.id, Some(&message.id), "reopened", data));
            }
            ConversationStatus::Open => {}
        }
        let config = self.config(tenant_id).await?;
        let tenant = self.cached_tenant(&config, tenant_id).await?;
        let widget = self.cached_widget(&config, tenant_id, &conversation.widget_id).await?;
        let rules = self.cached_rules(&config, tenant_id, &conversation.widget_id).await?;

        let seen =
            conversation.variables.get(VISITOR_MESSAGES).and_then(Value::as_u64).unwrap_or(0);
        let mut vars = conversation.variables.clone();
        // Switchboard's own values are only ever its own: none kept from before survives.
        vars.retain(|name, _| !sb_domain::is_built_in(name) || kept_built_in(name));
        vars.extend(built_ins(&tenant, &widget, &conversation, Some(message)));
        vars.insert(VISITOR_MESSAGES.into(), json!(seen + 1));
        let mut run = Run::new(turn, &tenant, config, conversation, message, vars);
        self.detect_language(&mut run).await?;
        // An answer to the bot's question belongs to the rule that asked: no other handling.
        let answered = self.answer_question(&mut run).await?;
        let suppress_ai = answered || self.evaluate(&mut run, &rules, seen == 0).await?;

        if widget.ai_enabled && !run.replied && !run.handed_over && !suppress_ai {
            self.reply_ai(&mut run, None, None).await?;
        }
        Ok(Some(persistent(&run.vars)))
    }

    /// With translation on, the visitor's words in the operator's language, kept beside the
    /// original. Skipped when they share a language (or the language is unknown).
    async fn translate_for_operator(
        &self,
        conversation: &Conversation,
        message: &Message,
    ) -> Result<(), EngineError> {
        let tenant = &conversation.tenant_id;
        let (Some(operator), Some(visitor_language)) =
            (&conversation.assigned_to, &conversation.visitor.language)
        else {
            return Ok(());
        };
        let widget = self.store.widgets.get_widget(tenant, &conversation.widget_id).await?.widget;
        // The conversation's language unless the message is confidently in another one.
        let source = sb_llm::language::detect_with_prior(&message.text, Some(visitor_language))
            .map_or(visitor_language.as_str(), |d| d.code);
        let target = self.accounts.user(tenant, operator).await?.language;
        if !widget.translation_enabled || super::same_language(source, &target) {
            return Ok(());
        }
        if let Some(translation) =
            self.translate(tenant, &conversation.id, &message.text, &target).await
        {
            self.store.conversations.set_translation(tenant, &message.id, &translation).await?;
            let mut message = message.clone();
            message.translation = Some(translation);
            self.events.publish(sb_domain::events::ConversationEvent::MessageUpdated {
                tenant_id: tenant.clone(),
                conversation_id: conversation.id.clone(),
                message,
            });
        }
        Ok(())
    }

    /// Walks the rules in order. Returns whether a fired rule asked to suppress the AI reply.
    async fn evaluate(
        &self,
        run: &mut Run<'_>,
        rules: &[Rule],
        first_message: bool,
    ) -> Result<bool, EngineError> {
        let intents = self.recognise_intents(run, rules).await;
        let needs_presence = rules.iter().any(|r| {
            r.definition
                .conditions
                .iter()
                .any(|c| matches!(c, sb_domain::Condition::OperatorOnline { .. }))
        });
        let operator_online = needs_presence && self.operator_online(&run.conversation).await?;
        let mut suppress_ai = false;
        let prepared = sb_rules::MessageText::new(&run.message.text);
        for rule in rules {
            let situation = Situation {
                text: &run.message.text,
                prepared: &prepared,
                first_message,
                variables: &run.vars,
                changed: &run.changed,
                intents: &intents,
                operator_online,
            };
            if !sb_rules::fires(rule, &situation) {
                continue;
            }
            let data =
                json!({"rule_id": rule.id, "rule": rule.name, "trigger": rule.definition.trigger});
            self.note(run, "rule_fired", data).await;
            suppress_ai |= rule.definition.suppress_ai_reply;
            run.rule = Some(rule.id.clone());
            run.catch_all = matches!(rule.definition.trigger, sb_domain::Trigger::Any);
            self.run_actions(run, &rule.definition.actions).await?;
            run.rule = None;
            run.catch_all = false;
            let waiting = run.waiting_for_agreement || run.waiting_for_answer;
            if run.handed_over || waiting || rule.definition.stop {
                let why = if run.handed_over {
                    "handed over to an operator"
                } else if run.waiting_for_agreement {
                    "waiting for agreement to an action"
                } else if run.waiting_for_answer {
                    "waiting for the visitor's answer"
                } else {
                    "the rule says stop"
                };
                self.note(run, "evaluation_stopped", json!({"rule_id": rule.id, "reason": why}))
                    .await;
                break;
            }
        }
        Ok(suppress_ai)
    }
}

/// Why a question answered with `replies` is a knowledge gap: nothing said to it at all, or
/// only a fallback.
fn gap_reason(replies: &[super::trace::Reply]) -> Option<&'static str> {
    use sb_domain::analytics::ReplySource;
    if replies.is_empty() {
        return Some("no_answer");
    }
    let fallback = replies.iter().any(|r| r.source == Some(ReplySource::Fallback));
    fallback.then_some("fallback")
}
