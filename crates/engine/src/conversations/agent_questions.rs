//! Questions an outside agent puts to the account's assistant live (the MCP server's
//! `ask_assistant` with a key allowed to): a real conversation on one of the account's
//! widgets, with the agent as its visitor — the same rules, backends, approvals and people.

use std::sync::Arc;
use std::time::Duration;

use sb_domain::{ApiKeyScope, Conversation, ConversationId, Message, Role, WidgetId};
use sb_store::{PageRequest, StoredWidget};

use super::{ConversationsService, VisitorStart};
use crate::accounts::AuthenticatedKey;
use crate::{Actor, EngineError};

/// How long an agent's question waits for the assistant's replies.
pub const ANSWER_WAIT: Duration = Duration::from_secs(30);

/// Where a live question goes: a new conversation on a widget, or one the agent started.
pub enum AskedIn {
    New(StoredWidget),
    Existing(Conversation),
}

pub struct AgentAnswer {
    pub conversation: Conversation,
    /// The new conversation's visitor token (absent when going on with one): what continues it.
    pub visitor_token: Option<String>,
    pub replies: Vec<Message>,
    /// Whether the assistant finished within the wait (later replies are in the conversation).
    pub finished: bool,
}

impl ConversationsService {
    /// The widget an agent's question goes to: the one named, or else the account's first
    /// active widget.
    pub async fn agent_widget(
        &self,
        actor: &Actor,
        id: Option<&WidgetId>,
    ) -> Result<StoredWidget, EngineError> {
        let tenant = &actor.tenant_id;
        if let Some(id) = id {
            let stored = self.store.widgets.get_widget(tenant, id).await?;
            if !stored.widget.active {
                return Err(EngineError::Conflict {
                    code: "widget_inactive",
                    message: "this widget is switched off",
                });
            }
            return Ok(stored);
        }
        let mut page = PageRequest::first(100);
        loop {
            let widgets = self.store.widgets.list_widgets(tenant, &page).await?;
            if let Some(active) = widgets.items.into_iter().find(|w| w.widget.active) {
                return Ok(active);
            }
            match widgets.next {
                Some(next) => page.after = Some(next),
                None => return Err(EngineError::NotFound("active widget")),
            }
        }
    }

    /// The live conversation `token` opens, when it is `id` and of the key's account. Only
    /// keys with the `mcp:assistant` scope go on with one.
    pub async fn agent_conversation(
        &self,
        key: &AuthenticatedKey,
        id: &ConversationId,
        token: &str,
    ) -> Result<Conversation, EngineError> {
        key.require_one_of(&[ApiKeyScope::McpAssistant])?;
        let conversation = self.visitor_conversation(token, id, None).await?;
        if conversation.tenant_id != key.actor.tenant_id {
            return Err(EngineError::NotFound("conversation"));
        }
        Ok(conversation)
    }

    /// Puts the agent's question as a visitor's message (a new conversation's visitor is named
    /// after the key) and waits for the replies. Only keys with the `mcp:assistant` scope ask
    /// live.
    pub async fn ask_live(
        self: &Arc<Self>,
        key: &AuthenticatedKey,
        asked_in: AskedIn,
        language: Option<String>,
        text: &str,
    ) -> Result<AgentAnswer, EngineError> {
        let actor = &key.actor;
        actor.require(Role::Operator)?;
        key.require_one_of(&[ApiKeyScope::McpAssistant])?;
        let (conversation, visitor_token) = match asked_in {
            AskedIn::Existing(conversation) if conversation.tenant_id != actor.tenant_id => {
                return Err(EngineError::NotFound("conversation"));
            }
            AskedIn::Existing(conversation) => (conversation, None),
            AskedIn::New(widget) => {
                let start = VisitorStart {
                    name: Some(key.key.name.clone()),
                    language,
                    ..VisitorStart::default()
                };
                let started = self.start_conversation(&widget, start).await?;
                (started.conversation, Some(started.visitor_token))
            }
        };
        let posted = self.post_visitor_message(&conversation, text, Some(ANSWER_WAIT)).await?;
        let conversation =
            self.store.conversations.get_conversation(&actor.tenant_id, &conversation.id).await?;
        Ok(AgentAnswer {
            conversation,
            visitor_token,
            replies: posted.replies,
            finished: posted.finished,
        })
    }
}
