//! Private notes: what operators tell each other about a conversation. Notes are stored apart
//! from the messages, so every path that serves a visitor (the visitor API, their socket, the
//! AI's history, rules, `message.created` webhooks, test suites) reads only messages and cannot
//! leak one; only the account's people get them, merged into the conversation here.

use sb_domain::events::ConversationEvent;
use sb_domain::{Conversation, ConversationId, MessageId, Note, Role, StaffMessage, Timestamp};
use sb_store::NewNote;

use super::{ConversationsService, message_text};
use crate::{Actor, EngineError};

/// Messages per page of a conversation.
const PAGE: u32 = 500;

impl ConversationsService {
    /// Adds a note after the conversation's last message. Writing one changes nothing else:
    /// the conversation keeps its status and owner, and the visitor is not told.
    pub async fn add_note(
        &self,
        actor: &Actor,
        id: &ConversationId,
        text: &str,
    ) -> Result<Note, EngineError> {
        actor.require(Role::Operator)?;
        let text = message_text(text)?;
        let note_id = MessageId::new();
        let note = self
            .store
            .notes
            .add_note(NewNote {
                id: &note_id,
                tenant: &actor.tenant_id,
                conversation: id,
                author_user_id: actor.user_id.as_ref(),
                text: &text,
                created_at: Timestamp::now(),
            })
            .await?;
        // The team finds conversations by what it noted, too.
        let terms = super::search::message_terms(&text, None);
        self.store.search.add_search_terms(&actor.tenant_id, id, &terms).await?;
        self.events.publish(ConversationEvent::NoteCreated {
            tenant_id: actor.tenant_id.clone(),
            conversation_id: id.clone(),
            note: note.clone(),
        });
        Ok(note)
    }

    /// The conversation as the account's people see it: messages and notes in order, after
    /// `after` (a message's or a note's id) when given.
    pub async fn staff_messages_after(
        &self,
        conversation: &Conversation,
        after: Option<&MessageId>,
    ) -> Result<Vec<StaffMessage>, EngineError> {
        let tenant = &conversation.tenant_id;
        let foreign = || EngineError::from(sb_store::StoreError::NotFound);
        // A note as the cursor: what follows it is what follows its place, less the notes
        // written there up to it.
        let cursor_note = match after {
            Some(id) => self.store.notes.get_note(tenant, id).await.ok(),
            None => None,
        };
        let after_seq = match (after, &cursor_note) {
            (None, _) => 0,
            (Some(_), Some(note)) if note.conversation_id == conversation.id => note.seq,
            (Some(_), Some(_)) => return Err(foreign()),
            (Some(id), None) => {
                let message = self.store.conversations.get_message(tenant, id).await?;
                if message.conversation_id != conversation.id {
                    return Err(foreign());
                }
                message.seq
            }
        };
        let messages = self
            .store
            .conversations
            .list_messages(tenant, &conversation.id, after_seq, PAGE)
            .await?;
        let notes = self.store.notes.list_notes(tenant, &conversation.id, after_seq).await?;
        // A full page of messages ends the page: notes placed after its last message come with
        // the next one, so the cursor (the last item) never skips messages.
        let last =
            (messages.len() == PAGE as usize).then(|| messages.last().map(|m| m.seq)).flatten();
        let notes = notes
            .into_iter()
            .filter(|n| match &cursor_note {
                Some(c) => (n.seq, n.created_at, &n.id) > (c.seq, c.created_at, &c.id),
                None => true,
            })
            .filter(|n| last.is_none_or(|seq| n.seq < seq))
            .collect();
        Ok(StaffMessage::merge(messages, notes))
    }
}
