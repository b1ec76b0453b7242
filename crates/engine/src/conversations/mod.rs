//! Conversations: visitors starting them and writing, operators answering, and the engine
//! turning each visitor message into actions (in `process`).

mod action_decisions;
mod action_execution;
mod action_proposal;
mod actions;
mod agent_questions;
mod ai_reply;
mod arguments;
mod attachments;
mod canned;
pub(crate) mod config_cache;
mod contacts;
pub mod dry_run;
mod fixed_texts;
mod gaps;
mod inbox;
mod knowledge;
mod labels;
mod notes;
mod office_hours;
pub(crate) mod ordering;
mod privacy;
mod process;
mod questions;
mod ratings;
mod reports;
mod routing;
pub mod rules;
mod search;
mod service;
#[cfg(test)]
mod tests;
pub(crate) mod tool_calls;
mod trace;
mod unattended_texts;
mod understand;
mod visitor_access;
mod visitor_context;
pub mod widgets;
pub(crate) mod worker;

use std::sync::Arc;
use std::time::Duration;

use sb_domain::template::Variables;
use sb_domain::{
    Author, ChannelRef, Conversation, ConversationId, ConversationStatus, Email, MAX_MESSAGE_CHARS,
    Message, MessageId, Role, Timestamp, TraceEvent, ValidationError, Visitor, random_token,
};
use sb_secrets::sha256_hex;
pub use sb_store::ConversationFilter;
use sb_store::{ConversationState, NewMessage, StoredWidget};

pub use action_decisions::Decided;
pub use agent_questions::{ANSWER_WAIT, AgentAnswer, AskedIn};
pub use attachments::Upload;
pub use canned::FilledReply;
pub use contacts::ContactUpdate;
pub use gaps::KnowledgeGap;
pub use office_hours::HoursNow;
pub use privacy::{ContactExport, ConversationExport};
pub(crate) use process::Run;
pub use process::VISITOR_MESSAGES as VISITOR_MESSAGES_VARIABLE;
pub use reports::{DayRange, Interval, MAX_DAYS, Point};
pub use routing::AssignTarget;
pub use search::{message_terms, search_words};
pub(crate) use trace::shorten;

use worker::Job;

use sb_domain::events::ConversationEvent;
pub(crate) use service::ConversationsParts;
pub use service::{ConversationsService, FakeCalls};

use crate::{Actor, EngineError, identity};

/// Visitor tokens look like `sbv_…` and open exactly one conversation.
pub const VISITOR_TOKEN_PREFIX: &str = "sbv_";

/// What a visitor (or the tenant's page on their behalf) says about themselves.
#[derive(Debug, Default, Clone)]
pub struct VisitorStart {
    pub name: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub user_id: Option<String>,
    /// Hex HMAC-SHA256 of `user_id` (or else `email`) under the widget's identity secret.
    pub user_hash: Option<String>,
    /// Hex HMAC-SHA256 of `email` under the same secret: proves the e-mail on its own.
    pub email_hash: Option<String>,
    /// The browser's IANA time zone, to name an anonymous visitor in the inbox.
    pub time_zone: Option<String>,
    /// The User-Agent of the request starting the conversation; only its browser family is kept.
    pub user_agent: Option<String>,
    /// A random id the widget keeps in the browser: a visitor seen again on it is one contact.
    pub browser_id: Option<String>,
}

pub struct Started {
    pub conversation: Conversation,
    pub visitor_token: String,
}

/// A posted visitor message and, when the caller waited, the replies to it.
pub struct Posted {
    pub message: Message,
    pub replies: Vec<Message>,
    /// Whether the engine finished with the message within the wait.
    pub finished: bool,
}

fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if value.as_ref().is_some_and(|v| v.chars().count() > max || v.chars().any(char::is_control)) {
        return Err(ValidationError::new(
            format!("visitor.{field}"),
            "invalid_field",
            format!("must be at most {max} characters on one line"),
        ));
    }
    Ok(value)
}

fn language_tag(value: Option<String>) -> Result<Option<String>, ValidationError> {
    let value = optional_text("language", value, 35)?;
    if value.as_ref().is_some_and(|tag| !tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(ValidationError::new(
            "visitor.language",
            "invalid_language",
            "use a language tag such as de or pt-BR",
        ));
    }
    Ok(value.map(|tag| tag.to_ascii_lowercase()))
}

/// Whether two language tags name the same language ("pt-BR" and "pt" do).
pub(crate) fn same_language(a: &str, b: &str) -> bool {
    let primary = |tag: &str| tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    primary(a) == primary(b)
}

pub(crate) fn message_text(text: &str) -> Result<String, ValidationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValidationError::new("text", "required", "must not be empty"));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ValidationError::new(
            "text",
            "too_long",
            format!("must be at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    Ok(text.to_owned())
}

impl ConversationsService {
    /// Starts a conversation. Only what a valid signature covers is verified.
    pub async fn start_conversation(
        &self,
        widget: &StoredWidget,
        input: VisitorStart,
    ) -> Result<Started, EngineError> {
        let email = optional_text("email", input.email, 254)?
            .map(|e| Email::parse(&e).map(|e| e.to_string()).map_err(|err| err.within("visitor")))
            .transpose()?;
        let mut visitor = Visitor {
            name: optional_text("name", input.name, 100)?,
            email,
            language: language_tag(input.language)?,
            user_id: optional_text("user_id", input.user_id, 200)?,
            verified: false,
            email_verified: false,
            time_zone: visitor_context::time_zone(input.time_zone)?,
            browser: input
                .user_agent
                .as_deref()
                .and_then(visitor_context::browser_family)
                .map(str::to_owned),
        };
        let secret = self.identity_secret(widget)?;
        let signatures =
            identity::Signatures { user_hash: input.user_hash, email_hash: input.email_hash };
        identity::verify_visitor(
            secret.as_ref().map(|s| s.expose().as_str()),
            &mut visitor,
            &signatures,
        )?;
        let browser = contacts::browser_id(input.browser_id)?;
        let channel = ChannelRef::widget(&widget.widget.id);
        self.open_conversation(widget, visitor, browser.as_deref(), channel).await
    }

    /// Starts a conversation of a channel's customer (who the channel says they are).
    pub(crate) async fn start_channel_conversation(
        &self,
        widget: &StoredWidget,
        visitor: Visitor,
        channel: ChannelRef,
    ) -> Result<Conversation, EngineError> {
        Ok(self.open_conversation(widget, visitor, None, channel).await?.conversation)
    }

    /// Stores a new conversation of `visitor` (found among the contacts, or a new one) and
    /// announces it.
    async fn open_conversation(
        &self,
        widget: &StoredWidget,
        visitor: Visitor,
        browser: Option<&str>,
        channel: ChannelRef,
    ) -> Result<Started, EngineError> {
        let tenant = &widget.widget.tenant_id;
        let contact = self.contact_for(tenant, &visitor, browser).await?;
        let token = format!("{VISITOR_TOKEN_PREFIX}{}", random_token(32));
        let now = Timestamp::now();
        let conversation = Conversation {
            id: ConversationId::new(),
            tenant_id: widget.widget.tenant_id.clone(),
            widget_id: widget.widget.id.clone(),
            status: ConversationStatus::Open,
            assigned_to: None,
            assigned_team: None,
            visitor,
            variables: Variables::new(),
            created_at: now,
            updated_at: now,
            last_message_at: None,
            labels: Vec::new(),
            contact_id: Some(contact),
            outcome: None,
            closed_at: None,
            channel,
        };
        self.store.conversations.create_conversation(&conversation, &sha256_hex(&token)).await?;
        let who = &conversation.visitor;
        let named = [&who.name, &who.email, &who.user_id].into_iter().flatten();
        let terms = search::plain_terms(named.map(String::as_str));
        self.store
            .search
            .add_search_terms(&conversation.tenant_id, &conversation.id, &terms)
            .await?;
        self.events.publish(ConversationEvent::ConversationCreated {
            tenant_id: conversation.tenant_id.clone(),
            conversation_id: conversation.id.clone(),
            widget_id: conversation.widget_id.clone(),
        });
        Ok(Started { conversation, visitor_token: token })
    }

    /// Stores a message and announces it.
    pub(crate) async fn post_message(
        &self,
        conversation: &Conversation,
        author: Author,
        user: Option<&sb_domain::UserId>,
        text: &str,
        translation: Option<&sb_domain::Translation>,
    ) -> Result<Message, EngineError> {
        self.post_message_with_files(conversation, author, user, text, translation, &[]).await
    }

    /// [`Self::post_message`], with files (already admitted by the account's policy).
    pub(crate) async fn post_message_with_files(
        &self,
        conversation: &Conversation,
        author: Author,
        user: Option<&sb_domain::UserId>,
        text: &str,
        translation: Option<&sb_domain::Translation>,
        files: &[sb_store::NewAttachment<'_>],
    ) -> Result<Message, EngineError> {
        let id = MessageId::new();
        let language = conversation.visitor.language.as_deref();
        let mut terms = search::message_terms(text, language);
        if let Some(translation) = translation {
            terms.push(' ');
            terms.push_str(&search::message_terms(&translation.text, Some(&translation.language)));
        }
        let listed: Vec<_> = files.iter().map(|f| f.listed.clone()).collect();
        if !listed.is_empty() {
            terms.push(' ');
            terms.push_str(&search::plain_terms(listed.iter().map(|f| f.name.as_str())));
        }
        let new = NewMessage {
            id: &id,
            conversation_id: &conversation.id,
            author,
            author_user_id: user,
            text,
            translation,
            created_at: Timestamp::now(),
            action: None,
            attachments: &listed,
            search_terms: &terms,
            source: None,
        };
        let tenant = &conversation.tenant_id;
        let message = if files.is_empty() {
            self.store.conversations.append_message(tenant, new).await?
        } else {
            self.store.attachments.append_message_with_files(tenant, new, files).await?
        };
        self.events.publish(ConversationEvent::MessageCreated {
            tenant_id: conversation.tenant_id.clone(),
            conversation_id: conversation.id.clone(),
            message: message.clone(),
        });
        Ok(message)
    }

    /// How the conversation ended, from the facts stored now.
    pub(crate) async fn decide_outcome(
        &self,
        conversation: &Conversation,
    ) -> Result<sb_domain::analytics::Outcome, EngineError> {
        let (tenant, id) = (&conversation.tenant_id, &conversation.id);
        let facts = self.store.analytics.outcome_facts(tenant, id).await?;
        Ok(sb_domain::analytics::Outcome::of(&facts))
    }

    /// Saves and announces who owns a conversation now.
    pub(crate) async fn set_state(
        &self,
        conversation: &mut Conversation,
        state: ConversationState,
    ) -> Result<(), EngineError> {
        // How it ended is decided as it closes, and undecided again when it opens — written
        // with the change itself.
        let closing = state.status == ConversationStatus::Closed;
        let outcome = if closing == (conversation.status == ConversationStatus::Closed) {
            sb_store::OutcomeChange::Unchanged
        } else if closing {
            sb_store::OutcomeChange::Closed(self.decide_outcome(conversation).await?)
        } else {
            sb_store::OutcomeChange::Reopened
        };
        let (tenant, id) = (&conversation.tenant_id, &conversation.id);
        self.store.conversations.set_conversation_state(tenant, id, &state, outcome).await?;
        match outcome {
            sb_store::OutcomeChange::Unchanged => {}
            sb_store::OutcomeChange::Closed(decided) => {
                (conversation.outcome, conversation.closed_at) =
                    (Some(decided), Some(Timestamp::now()));
            }
            sb_store::OutcomeChange::Reopened => {
                (conversation.outcome, conversation.closed_at) = (None, None);
            }
        }
        let before = sb_domain::events::Before {
            status: conversation.status,
            assigned_to: conversation.assigned_to.clone(),
            assigned_team: conversation.assigned_team.clone(),
        };
        conversation.status = state.status;
        conversation.assigned_to = state.assigned_to.clone();
        conversation.assigned_team = state.assigned_team.clone();
        self.events.publish(ConversationEvent::ConversationUpdated {
            tenant_id: conversation.tenant_id.clone(),
            conversation_id: conversation.id.clone(),
            status: state.status,
            assigned_to: state.assigned_to,
            assigned_team: state.assigned_team,
            before: Some(before),
        });
        Ok(())
    }

    /// Stores a visitor's message (it is safe once this returns) and queues it for the engine.
    /// With `wait`, also waits up to that long for the replies.
    pub async fn post_visitor_message(
        self: &Arc<Self>,
        conversation: &Conversation,
        text: &str,
        wait: Option<Duration>,
    ) -> Result<Posted, EngineError> {
        let text = message_text(text)?;
        let message = self.post_message(conversation, Author::Visitor, None, &text, None).await?;
        let (done, finished) = tokio::sync::oneshot::channel();
        let job = Job {
            tenant: conversation.tenant_id.clone(),
            message: message.clone(),
            action: None,
            done: Some(done),
        };
        self.workers.enqueue(self, job);
        let Some(wait) = wait else {
            return Ok(Posted { message, replies: Vec::new(), finished: false });
        };
        let finished = match tokio::time::timeout(wait, finished).await {
            // Handed over as stored: nothing to read back.
            Ok(Ok(Some(replies))) => return Ok(Posted { message, replies, finished: true }),
            Ok(Ok(None)) => true,
            Ok(Err(_)) | Err(_) => false,
        };
        let replies = self
            .store
            .conversations
            .list_messages(&conversation.tenant_id, &conversation.id, message.seq, 200)
            .await?
            .into_iter()
            .filter(|m| m.author != Author::Visitor)
            .collect();
        Ok(Posted { message, replies, finished })
    }

    /// Hands a visitor's message with words to the conversation's worker, without waiting.
    /// Files without words wait for the team (they are stored as handled).
    pub(crate) fn handle_later(self: &Arc<Self>, conversation: &Conversation, message: &Message) {
        if message.text.is_empty() {
            return;
        }
        let tenant = conversation.tenant_id.clone();
        self.workers
            .enqueue(self, Job { tenant, message: message.clone(), action: None, done: None });
    }

    /// Messages after `after` (a message id of this conversation), oldest first.
    pub async fn messages_after(
        &self,
        conversation: &Conversation,
        after: Option<&MessageId>,
    ) -> Result<Vec<Message>, EngineError> {
        let after_seq = match after {
            Some(id) => {
                let message =
                    self.store.conversations.get_message(&conversation.tenant_id, id).await?;
                if message.conversation_id != conversation.id {
                    return Err(sb_store::StoreError::NotFound.into());
                }
                message.seq
            }
            None => 0,
        };
        Ok(self
            .store
            .conversations
            .list_messages(&conversation.tenant_id, &conversation.id, after_seq, 500)
            .await?)
    }

    /// Picks up visitor messages that were accepted but not handled before a restart.
    pub async fn resume_unprocessed(self: &Arc<Self>) -> Result<usize, EngineError> {
        let since = Timestamp::now() - jiff::SignedDuration::from_hours(24);
        let waiting = self.store.conversations.unprocessed_messages(since, 10_000).await?;
        let count = waiting.len();
        for (tenant, message) in waiting {
            self.workers.enqueue(self, Job { tenant, message, action: None, done: None });
        }
        Ok(count)
    }

    // ---- the operator side ----

    pub async fn get_conversation(
        &self,
        actor: &Actor,
        id: &ConversationId,
    ) -> Result<Conversation, EngineError> {
        Ok(self.store.conversations.get_conversation(&actor.tenant_id, id).await?)
    }

    pub async fn conversation_trace(
        &self,
        actor: &Actor,
        id: &ConversationId,
    ) -> Result<Vec<TraceEvent>, EngineError> {
        self.store.conversations.get_conversation(&actor.tenant_id, id).await?;
        Ok(self.store.conversations.list_trace(&actor.tenant_id, id).await?)
    }

    /// An operator's reply. Answering a conversation the bot had takes it over.
    pub async fn operator_reply(
        &self,
        actor: &Actor,
        id: &ConversationId,
        text: &str,
    ) -> Result<Message, EngineError> {
        actor.require(Role::Operator)?;
        let text = message_text(text)?;
        let conversation = self.take_over(actor, id).await?;
        let translation = self.operator_translation(actor, &conversation, &text).await?;
        self.post_message(
            &conversation,
            Author::Operator,
            actor.user_id.as_ref(),
            &text,
            translation.as_ref(),
        )
        .await
    }

    /// The conversation, handed to the answering operator unless a person already has it.
    pub(crate) async fn take_over(
        &self,
        actor: &Actor,
        id: &ConversationId,
    ) -> Result<Conversation, EngineError> {
        let mut conversation =
            self.store.conversations.get_conversation(&actor.tenant_id, id).await?;
        if conversation.status != ConversationStatus::Pending || conversation.assigned_to.is_none()
        {
            let state = ConversationState {
                status: ConversationStatus::Pending,
                assigned_to: conversation.assigned_to.clone().or_else(|| actor.user_id.clone()),
                assigned_team: conversation.assigned_team.clone(),
            };
            self.set_state(&mut conversation, state).await?;
        }
        Ok(conversation)
    }

    /// With translation on, an operator's words in the visitor's language — unless they already
    /// share it, in which case no model is asked.
    async fn operator_translation(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        text: &str,
    ) -> Result<Option<sb_domain::Translation>, EngineError> {
        let (Some(user), Some(visitor_language)) = (&actor.user_id, &conversation.visitor.language)
        else {
            return Ok(None);
        };
        let widget = self
            .store
            .widgets
            .get_widget(&conversation.tenant_id, &conversation.widget_id)
            .await?
            .widget;
        let operator_language = self.accounts.user(&conversation.tenant_id, user).await?.language;
        if !widget.translation_enabled || same_language(&operator_language, visitor_language) {
            return Ok(None);
        }
        Ok(self.translate(&conversation.tenant_id, &conversation.id, text, visitor_language).await)
    }

    pub async fn assign(
        &self,
        actor: &Actor,
        id: &ConversationId,
        target: AssignTarget,
    ) -> Result<Conversation, EngineError> {
        actor.require(Role::Operator)?;
        let mut conversation =
            self.store.conversations.get_conversation(&actor.tenant_id, id).await?;
        let state = self.route(&conversation, &target).await.map_err(|err| match err {
            EngineError::Store(sb_store::StoreError::NotFound) => {
                let (field, what) = if matches!(target, AssignTarget::Team(_)) {
                    ("team_id", "team")
                } else {
                    ("user_id", "user")
                };
                ValidationError::new(
                    field,
                    "unknown_reference",
                    format!("no such {what} in this account"),
                )
                .into()
            }
            other => other,
        })?;
        self.set_state(&mut conversation, state).await?;
        let data = serde_json::json!({"by": actor.user_id, "to": conversation.assigned_to, "team": conversation.assigned_team});
        self.trace(trace::entry(&actor.tenant_id, id, None, "assigned", data));
        self.traces.flush().await;
        Ok(conversation)
    }

    pub async fn close(
        &self,
        actor: &Actor,
        id: &ConversationId,
    ) -> Result<Conversation, EngineError> {
        actor.require(Role::Operator)?;
        let mut conversation =
            self.store.conversations.get_conversation(&actor.tenant_id, id).await?;
        if conversation.status != ConversationStatus::Closed {
            let state = ConversationState {
                status: ConversationStatus::Closed,
                assigned_to: conversation.assigned_to.clone(),
                assigned_team: conversation.assigned_team.clone(),
            };
            self.set_state(&mut conversation, state).await?;
            self.post_message(
                &conversation,
                Author::System,
                None,
                "This conversation was closed.",
                None,
            )
            .await?;
        }
        Ok(conversation)
    }

    /// Reopens a closed conversation: back to its operator if it had one, else to the bot.
    pub async fn reopen(
        &self,
        actor: &Actor,
        id: &ConversationId,
    ) -> Result<Conversation, EngineError> {
        actor.require(Role::Operator)?;
        let mut conversation =
            self.store.conversations.get_conversation(&actor.tenant_id, id).await?;
        if conversation.status == ConversationStatus::Closed {
            let status = if conversation.assigned_to.is_some() {
                ConversationStatus::Pending
            } else {
                ConversationStatus::Open
            };
            let state = ConversationState {
                status,
                assigned_to: conversation.assigned_to.clone(),
                assigned_team: conversation.assigned_team.clone(),
            };
            self.set_state(&mut conversation, state).await?;
        }
        Ok(conversation)
    }
}
