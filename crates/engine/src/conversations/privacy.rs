//! Privacy: everything held about a contact, exported as one document, or erased everywhere —
//! its conversations with their messages, notes, variables and trace, the webhook deliveries
//! that carried them, the answers cached from endpoints on every node — and closed
//! conversations deleted once the account's retention period has passed.

use sb_domain::attachment::AttachmentRef;
use sb_domain::{
    Contact, ContactId, Conversation, Feedback, Message, Note, Rating, Role, Timestamp, TraceEvent,
};
use sb_store::Erased;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

use super::ConversationsService;
use crate::{Actor, EngineError};

/// Everything held about a contact.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ContactExport {
    pub exported_at: Timestamp,
    pub contact: Contact,
    pub conversations: Vec<ConversationExport>,
}

/// One conversation of the contact: as the account saw it, with its variables (in
/// `conversation`), every message, the team's notes and what the engine did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConversationExport {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
    pub notes: Vec<Note>,
    pub trace: Vec<TraceEvent>,
    pub rating: Option<Rating>,
    pub feedback: Vec<Feedback>,
}

/// The most conversations retention deletes in one pass (the next pass takes the rest).
const RETENTION_BATCH: u32 = 500;

impl ConversationsService {
    pub async fn export_contact(
        &self,
        actor: &Actor,
        id: &ContactId,
    ) -> Result<ContactExport, EngineError> {
        actor.require(Role::Admin)?;
        let tenant = &actor.tenant_id;
        let contact = self.store.contacts.get_contact(tenant, id).await?;
        let mut conversations = Vec::new();
        for conversation in self.store.contacts.contact_conversations(tenant, id).await? {
            let c = &conversation.id;
            let mut messages = Vec::new();
            loop {
                let after = messages.last().map_or(0, |m: &Message| m.seq);
                let page = self.store.conversations.list_messages(tenant, c, after, 500).await?;
                let done = page.len() < 500;
                messages.extend(page);
                if done {
                    break;
                }
            }
            let notes = self.store.notes.list_notes(tenant, c, 0).await?;
            let trace = self.store.conversations.list_trace(tenant, c).await?;
            let rating = self.store.ratings.rating(tenant, c).await?;
            let feedback = self.store.ratings.feedback(tenant, c).await?;
            conversations.push(ConversationExport {
                conversation,
                messages,
                notes,
                trace,
                rating,
                feedback,
            });
        }
        let count = conversations.len();
        self.accounts
            .audit(actor, "contact.exported", Some(id.to_string()), json!({"conversations": count}))
            .await;
        Ok(ContactExport { exported_at: Timestamp::now(), contact, conversations })
    }

    /// The export and the bytes of every file in the contact's conversations.
    pub async fn export_contact_with_files(
        &self,
        actor: &Actor,
        id: &ContactId,
    ) -> Result<(ContactExport, Vec<(AttachmentRef, Vec<u8>)>), EngineError> {
        let export = self.export_contact(actor, id).await?;
        let tenant = &actor.tenant_id;
        let mut files = Vec::new();
        for (conversation, listed) in self.store.attachments.contact_attachments(tenant, id).await?
        {
            files.push(self.store.attachments.attachment(tenant, &conversation, &listed.id).await?);
        }
        Ok((export, files))
    }

    /// Erases the contact and everything held about them. The database keeps no readable
    /// copy (SQLite zeroes what it deletes and its write-ahead log is emptied); every node
    /// forgets the answers it cached for the account.
    pub async fn erase_contact(
        &self,
        actor: &Actor,
        id: &ContactId,
    ) -> Result<Erased, EngineError> {
        actor.require(Role::Admin)?;
        let erased = self.store.privacy.erase_contact(&actor.tenant_id, id).await?;
        self.connector.forget_answers(&actor.tenant_id);
        let details = json!({
            "conversations": erased.conversations,
            "webhook_deliveries": erased.webhook_deliveries,
            "attachments": erased.attachments,
        });
        self.accounts.audit(actor, "contact.erased", Some(id.to_string()), details).await;
        if let Err(err) = self.store.privacy.scrub().await {
            tracing::warn!(error = %err, "the erased data may stay in the write-ahead log until the next checkpoint");
        }
        Ok(erased)
    }

    /// Deletes closed conversations past their account's retention period, then contacts left
    /// with none that were not seen for as long; how many conversations.
    pub async fn apply_retention(&self) -> Result<usize, EngineError> {
        let mut deleted = 0;
        loop {
            let expired =
                self.store.privacy.expired_conversations(Timestamp::now(), RETENTION_BATCH).await?;
            for (tenant, conversation) in &expired {
                match self.store.privacy.delete_conversation(tenant, conversation).await {
                    Ok(()) => deleted += 1,
                    // Deleted meanwhile (an erasure, another node's pass).
                    Err(sb_store::StoreError::NotFound) => {}
                    Err(err) => return Err(err.into()),
                }
            }
            if expired.len() < RETENTION_BATCH as usize {
                break;
            }
        }
        // A contact with nothing left, not seen for as long, goes too (profile, attributes).
        let contacts = self.store.privacy.delete_idle_contacts(Timestamp::now()).await?;
        if deleted > 0 || contacts > 0 {
            self.store.privacy.scrub().await?;
        }
        Ok(deleted)
    }
}
