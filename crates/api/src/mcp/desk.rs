//! The MCP tools over the inbox: list and read conversations (`mcp:read`), reply and assign
//! (`mcp:write`). Each runs as the key's actor through the same services as the HTTP API.

use sb_domain::{
    Author, Conversation, ConversationId, ConversationStatus, LastMessage, ListedConversation,
    MessageId, StaffMessage, TeamId, Timestamp, UserId, WidgetId,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Caller;
use crate::conversations::{ListFilter, assign_target, find_conversations};
use crate::error::ApiResult;
use crate::state::AppState;

/// Messages `get_conversation` returns when not told.
const DEFAULT_MESSAGES: usize = 50;
const MAX_MESSAGES: usize = 200;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListInput {
    /// open (the assistant or a person is on it), pending (waiting for a person) or closed.
    status: Option<ConversationStatus>,
    /// `unassigned`, or a user id (usr_…).
    assigned_to: Option<String>,
    /// Only conversations carrying this label.
    label: Option<String>,
    /// Words the conversation holds (in messages, notes, the customer's name or e-mail,
    /// variables, labels), in any word form.
    query: Option<String>,
    widget_id: Option<WidgetId>,
    /// Conversations per page, 1 to 50 (default 20).
    #[schemars(range(min = 1, max = 50))]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Who the customer is, as far as the business knows.
#[derive(Serialize, JsonSchema)]
pub(super) struct Customer {
    name: Option<String>,
    email: Option<String>,
    language: Option<String>,
    /// Whether the business's site signed who the customer is.
    verified: bool,
}

#[derive(Serialize, JsonSchema)]
pub(super) struct ConversationSummary {
    id: ConversationId,
    status: ConversationStatus,
    widget_id: WidgetId,
    customer: Customer,
    assigned_to: Option<UserId>,
    assigned_team: Option<TeamId>,
    labels: Vec<String>,
    created_at: Timestamp,
    last_message_at: Option<Timestamp>,
}

impl From<&Conversation> for ConversationSummary {
    fn from(c: &Conversation) -> Self {
        Self {
            id: c.id.clone(),
            status: c.status,
            widget_id: c.widget_id.clone(),
            customer: Customer {
                name: c.visitor.name.clone(),
                email: c.visitor.email.clone(),
                language: c.visitor.language.clone(),
                verified: c.visitor.verified,
            },
            assigned_to: c.assigned_to.clone(),
            assigned_team: c.assigned_team.clone(),
            labels: c.labels.clone(),
            created_at: c.created_at,
            last_message_at: c.last_message_at,
        }
    }
}

#[derive(Serialize, JsonSchema)]
pub(super) struct ListedSummary {
    #[serde(flatten)]
    conversation: ConversationSummary,
    /// The newest message's first line.
    last_message: Option<LastMessage>,
}

#[derive(Serialize, JsonSchema)]
pub(super) struct ListOutput {
    conversations: Vec<ListedSummary>,
    /// Pass as `cursor` for the next page; null on the last one.
    next_cursor: Option<String>,
}

pub(super) async fn list(
    state: &AppState,
    caller: &Caller,
    input: ListInput,
) -> ApiResult<ListOutput> {
    let filter = ListFilter {
        limit: Some(input.limit.unwrap_or(20).clamp(1, 50).to_string()),
        cursor: input.cursor,
        status: input.status.map(|s| s.as_str().to_owned()),
        widget_id: input.widget_id.map(|w| w.to_string()),
        assigned_to: input.assigned_to,
        label: input.label,
        q: input.query,
        ..ListFilter::default()
    };
    let page = find_conversations(state, &caller.actor, filter).await?;
    let conversations = page
        .items
        .iter()
        .map(|ListedConversation { conversation, last_message, .. }| ListedSummary {
            conversation: conversation.into(),
            last_message: last_message.clone(),
        })
        .collect();
    Ok(ListOutput { conversations, next_cursor: page.next })
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct GetInput {
    conversation_id: ConversationId,
    /// How many of the latest messages to return, 1 to 200 (default 50).
    #[schemars(range(min = 1, max = 200))]
    messages: Option<usize>,
}

#[derive(Serialize, JsonSchema)]
pub(super) struct McpMessage {
    id: MessageId,
    /// visitor (the customer), bot (the assistant), operator (a person) or system.
    author: Author,
    text: String,
    /// A note only the team sees.
    private: bool,
    created_at: Timestamp,
}

impl From<StaffMessage> for McpMessage {
    fn from(message: StaffMessage) -> Self {
        match message {
            StaffMessage::Message(m) => Self {
                text: m.text_with_files(),
                id: m.id,
                author: m.author,
                private: false,
                created_at: m.created_at,
            },
            StaffMessage::Note(n) => Self {
                id: n.id,
                author: n.author,
                text: n.text,
                private: true,
                created_at: n.created_at,
            },
        }
    }
}

#[derive(Serialize, JsonSchema)]
pub(super) struct GetOutput {
    conversation: ConversationSummary,
    /// What the conversation has learnt (order numbers, answers of the business's systems).
    variables: sb_domain::template::Variables,
    /// The latest messages, oldest first.
    messages: Vec<McpMessage>,
    /// Whether earlier messages were left out.
    earlier_messages: bool,
}

pub(super) async fn get(
    state: &AppState,
    caller: &Caller,
    input: GetInput,
) -> ApiResult<GetOutput> {
    let wanted = input.messages.unwrap_or(DEFAULT_MESSAGES).clamp(1, MAX_MESSAGES);
    let conversations = &state.conversations;
    let conversation =
        conversations.get_conversation(&caller.actor, &input.conversation_id).await?;
    let mut messages: Vec<StaffMessage> = Vec::new();
    let (mut after, mut dropped): (Option<MessageId>, bool) = (None, false);
    loop {
        let page = conversations.staff_messages_after(&conversation, after.as_ref()).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id().clone());
        messages.extend(page);
        // Only the latest are kept while paging through a long conversation.
        let excess = messages.len().saturating_sub(MAX_MESSAGES);
        dropped |= excess > 0;
        messages.drain(..excess);
    }
    let skip = messages.len().saturating_sub(wanted);
    let earlier_messages = dropped || skip > 0;
    Ok(GetOutput {
        variables: conversation.variables.clone(),
        conversation: (&conversation).into(),
        messages: messages.into_iter().skip(skip).map(McpMessage::from).collect(),
        earlier_messages,
    })
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplyInput {
    conversation_id: ConversationId,
    text: String,
    /// A note only the team sees; the customer is sent nothing.
    #[serde(default)]
    private: bool,
}

#[derive(Serialize, JsonSchema)]
pub(super) struct ReplyOutput {
    message: McpMessage,
}

pub(super) async fn reply(
    state: &AppState,
    caller: &Caller,
    input: ReplyInput,
) -> ApiResult<ReplyOutput> {
    let (actor, id, conversations) = (&caller.actor, &input.conversation_id, &state.conversations);
    let message = if input.private {
        StaffMessage::Note(conversations.add_note(actor, id, &input.text).await?)
    } else {
        StaffMessage::Message(conversations.operator_reply(actor, id, &input.text).await?)
    };
    Ok(ReplyOutput { message: message.into() })
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AssignInput {
    conversation_id: ConversationId,
    /// The person (usr_…) to hand it to.
    user_id: Option<UserId>,
    /// The team (team_…) to hand it to; with neither, whoever is free.
    team_id: Option<TeamId>,
}

#[derive(Serialize, JsonSchema)]
pub(super) struct AssignOutput {
    conversation: ConversationSummary,
}

pub(super) async fn assign(
    state: &AppState,
    caller: &Caller,
    input: AssignInput,
) -> ApiResult<AssignOutput> {
    let target = assign_target(input.user_id, input.team_id)?;
    let conversation =
        state.conversations.assign(&caller.actor, &input.conversation_id, target).await?;
    Ok(AssignOutput { conversation: (&conversation).into() })
}
