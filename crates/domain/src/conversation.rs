//! Conversations between a visitor and the tenant (bot or operators), and their messages.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::template::Variables;
use crate::{ConversationId, MessageId, TeamId, TenantId, Timestamp, UserId, WidgetId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// The bot answers.
    Open,
    /// Handed to an operator (or a team queue); the bot stays quiet.
    Pending,
    Closed,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Closed => "closed",
        }
    }
}

impl std::str::FromStr for ConversationStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "open" => Ok(Self::Open),
            "pending" => Ok(Self::Pending),
            "closed" => Ok(Self::Closed),
            _ => Err(format!("unknown status {s:?}")),
        }
    }
}

/// What is known about the visitor. Only what a signature covers is verified: `verified` means
/// the site signed the visitor's identity (`user_id`, or the e-mail when there is no `user_id`),
/// and `email_verified` that the e-mail itself was signed. Everything else is what the visitor
/// typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Visitor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default)]
    pub verified: bool,
    /// The e-mail was signed: by `user_hash` when there is no `user_id`, or by `email_hash`.
    #[serde(default)]
    pub email_verified: bool,
    /// The browser's IANA time zone (`Europe/Berlin`), as the widget reported it. Only names an
    /// anonymous visitor in the inbox: not identity, and never a variable of rules or calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The browser family (`Chrome`, `Firefox`, `Safari`, `Edge`, `Opera`) read from the
    /// User-Agent that started the conversation. Like `time_zone`, only for the inbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
}

impl Visitor {
    /// The e-mail address, when a signature proves it.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Conversation {
    pub id: ConversationId,
    pub tenant_id: TenantId,
    pub widget_id: WidgetId,
    pub status: ConversationStatus,
    pub assigned_to: Option<UserId>,
    pub assigned_team: Option<TeamId>,
    pub visitor: Visitor,
    pub variables: Variables,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_message_at: Option<Timestamp>,
    /// The account's labels on it, by name, sorted.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Who the visitor is across conversations (null for conversations from before contacts).
    #[serde(default)]
    pub contact_id: Option<crate::ContactId>,
    /// How it ended, once closed (null while open or waiting, and again once reopened).
    #[serde(default)]
    pub outcome: Option<crate::analytics::Outcome>,
    /// When it closed, while it is closed (null while open or waiting).
    #[serde(default)]
    pub closed_at: Option<Timestamp>,
    /// Where the customer writes from: the widget, or one of the account's channels.
    pub channel: crate::channel::ChannelRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Visitor,
    Bot,
    Operator,
    System,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visitor => "visitor",
            Self::Bot => "bot",
            Self::Operator => "operator",
            Self::System => "system",
        }
    }
}

impl std::str::FromStr for Author {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "visitor" => Ok(Self::Visitor),
            "bot" => Ok(Self::Bot),
            "operator" => Ok(Self::Operator),
            "system" => Ok(Self::System),
            _ => Err(format!("unknown author {s:?}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Position in the conversation, from 1; `after=` pagination follows it.
    pub seq: i64,
    pub author: Author,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_user_id: Option<UserId>,
    pub text: String,
    /// The text in the other side's language, when translation is on and the languages differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translation: Option<Translation>,
    pub created_at: Timestamp,
    /// The action this message asks to agree to (safe actions), as it stands now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Box<crate::action::ActionCard>>,
    /// Files sent with it (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::AttachmentRef>,
    /// What an assistant's reply came from (absent on other messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::analytics::ReplySource>,
}

/// An operator's private note on a conversation: shown to the account's people among the
/// messages (after message `seq`), never to the visitor, the AI or anything acting for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Note {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// The number of the message it follows (0: before any).
    pub seq: i64,
    /// Always `operator`.
    pub author: Author,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_user_id: Option<UserId>,
    pub text: String,
    pub created_at: Timestamp,
    /// Always true: what tells a note from a message.
    pub private: bool,
}

/// What the account's people see of a conversation: its messages and their notes, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum StaffMessage {
    Message(Message),
    Note(Note),
}

impl Message {
    /// The words, and the files sent with them named in brackets (`[file: receipt.pdf]`): what
    /// a reader of the text alone (the AI) should know of the message.
    pub fn text_with_files(&self) -> String {
        if self.attachments.is_empty() {
            return self.text.clone();
        }
        let names: Vec<&str> = self.attachments.iter().map(|f| f.name.as_str()).collect();
        let files = format!("[file: {}]", names.join(", "));
        if self.text.is_empty() { files } else { format!("{}\n{files}", self.text) }
    }
}

impl StaffMessage {
    pub fn id(&self) -> &MessageId {
        match self {
            Self::Message(m) => &m.id,
            Self::Note(n) => &n.id,
        }
    }

    /// Messages and notes in the conversation's order: a note after the message it follows
    /// (and after earlier notes there).
    pub fn merge(messages: Vec<Message>, notes: Vec<Note>) -> Vec<Self> {
        let mut all: Vec<Self> = messages.into_iter().map(Self::Message).collect();
        all.extend(notes.into_iter().map(Self::Note));
        let place = |entry: &Self| match entry {
            Self::Message(m) => (m.seq, 0, m.created_at),
            Self::Note(n) => (n.seq, 1, n.created_at),
        };
        all.sort_by(|a, b| place(a).cmp(&place(b)).then_with(|| a.id().cmp(b.id())));
        all
    }
}

/// One visitor message and what followed it until the next one.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    pub visitor: &'a Message,
    pub replies: &'a [Message],
}

/// A conversation as exchanges, in order; what came before the visitor's first message (a
/// greeting) belongs to none.
pub fn exchanges(messages: &[Message]) -> Vec<Exchange<'_>> {
    let starts: Vec<usize> = (0..messages.len())
        .filter(|&i| messages[i].author == Author::Visitor)
        .chain([messages.len()])
        .collect();
    starts
        .windows(2)
        .map(|w| Exchange { visitor: &messages[w[0]], replies: &messages[w[0] + 1..w[1]] })
        .collect()
}

/// A message as its visitor sees it: without the internal id of the operator who wrote it
/// (visitors get no internal ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct VisitorMessage {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub author: Author,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translation: Option<Translation>,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Box<crate::action::ActionCard>>,
    /// Files sent with it, each at the visitor's own address (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::AttachmentRef>,
}

impl From<Message> for VisitorMessage {
    fn from(message: Message) -> Self {
        let Message {
            id,
            conversation_id,
            seq,
            author,
            author_user_id: _,
            text,
            translation,
            created_at,
            action,
            mut attachments,
            source: _,
        } = message;
        for file in &mut attachments {
            file.url = crate::attachment::AttachmentRef::visitor_url(&conversation_id, &file.id);
        }
        Self {
            id,
            conversation_id,
            seq,
            author,
            text,
            translation,
            created_at,
            action,
            attachments,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Translation {
    pub language: String,
    pub text: String,
}

/// One step of what the engine did with a conversation, for the trace.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TraceEvent {
    pub seq: i64,
    pub conversation_id: ConversationId,
    pub message_id: Option<MessageId>,
    pub kind: String,
    pub data: Value,
    pub at: Timestamp,
}

/// The newest message of a conversation, as a list of conversations shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LastMessage {
    pub author: Author,
    /// The operator who wrote it, for an operator's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_user_id: Option<UserId>,
    /// The message's first line, at most 140 characters (ending in `…` when cut).
    pub text: String,
    pub created_at: Timestamp,
}

/// How long a [`LastMessage`] text may be, in characters.
pub const PREVIEW_CHARS: usize = 140;

impl LastMessage {
    /// `text`'s first line, shortened to [`PREVIEW_CHARS`].
    pub fn preview(text: &str) -> String {
        let line = text.trim_start().lines().next().unwrap_or_default().trim_end();
        if line.chars().count() <= PREVIEW_CHARS {
            return line.to_owned();
        }
        let cut: String = line.chars().take(PREVIEW_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// A conversation as one person's inbox lists it: with its newest message and whether a
/// visitor wrote something that person has not read yet.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedConversation {
    pub conversation: Conversation,
    pub last_message: Option<LastMessage>,
    pub unread: bool,
}

/// Longest message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Largest single session variable, as JSON text.
pub const MAX_VARIABLE_BYTES: usize = 16 * 1024;
/// Largest set of session variables of one conversation, as JSON text.
pub const MAX_VARIABLES_BYTES: usize = 256 * 1024;

/// A tenant's own AI provider, overriding the server's. The API key is sealed separately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AiSettings {
    pub tenant_id: TenantId,
    /// `openai` (any OpenAI-compatible API) or `anthropic`.
    pub provider: String,
    /// Empty: the provider's public API.
    pub base_url: String,
    pub model: String,
    /// Added to every prompt: tone, scope, what never to promise.
    pub instructions: String,
    /// Embeds knowledge-base passages and questions (OpenAI-compatible providers); empty: none.
    pub embedding_model: String,
    pub updated_at: Timestamp,
}

/// Tokens one model call used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AiUsage {
    pub tenant_id: TenantId,
    pub conversation_id: Option<ConversationId>,
    /// What the call was for: `reply`, `intent`, `extract`, `translate`.
    pub purpose: String,
    pub provider: String,
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_is_the_first_line_and_short() {
        assert_eq!(LastMessage::preview("Where is my order?\nIt is 4521."), "Where is my order?");
        assert_eq!(LastMessage::preview("  \n  Hello  "), "Hello");
        assert_eq!(LastMessage::preview(""), "");
        let long = "ä".repeat(200);
        let preview = LastMessage::preview(&long);
        assert_eq!(preview.chars().count(), PREVIEW_CHARS);
        assert!(preview.ends_with('…'));
        assert_eq!(LastMessage::preview(&"x".repeat(PREVIEW_CHARS)), "x".repeat(PREVIEW_CHARS));
    }
}
