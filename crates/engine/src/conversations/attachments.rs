//! Files in conversations: a visitor's or an operator's message may carry up to
//! [`MAX_FILES`] files the account's policy admits — checked by their content, never their
//! name. A file is read back only through its own conversation: by that conversation's
//! visitor, or by the account's people.

use std::sync::Arc;

use sb_domain::attachment::{
    AttachmentPolicy, AttachmentRef, MAX_FILES, Refused, file_name, name_for,
};
use sb_domain::{
    AttachmentId, Author, Conversation, ConversationId, ConversationStatus, Message, Role,
    TenantId, ValidationError,
};
use sb_store::{ConversationState, NewAttachment};

use super::{ConversationsService, MAX_MESSAGE_CHARS};
use crate::{Actor, EngineError};

/// A file as it was uploaded: the name the sender gave it, and its bytes.
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The caption beside files: optional, else as long as a message may be.
fn caption(text: &str) -> Result<String, ValidationError> {
    let text = text.trim();
    if text.chars().count() > MAX_MESSAGE_CHARS {
        let message = format!("must be at most {MAX_MESSAGE_CHARS} characters");
        return Err(ValidationError::new("text", "too_long", message));
    }
    Ok(text.to_owned())
}

/// Each upload as its message lists it, once the policy admits all of them.
fn admit(
    policy: &AttachmentPolicy,
    conversation: &ConversationId,
    uploads: &[Upload],
) -> Result<Vec<AttachmentRef>, EngineError> {
    if uploads.is_empty() {
        return Err(ValidationError::new("file", "required", "send at least one file").into());
    }
    if uploads.len() > MAX_FILES {
        let message = format!("send at most {MAX_FILES} files in one message");
        return Err(ValidationError::new("file", "too_many", message).into());
    }
    uploads
        .iter()
        .map(|upload| {
            let name = file_name(&upload.name);
            let content_type = policy.admit(&upload.bytes).map_err(|refused| match refused {
                Refused::TooLarge { max_bytes } => EngineError::FileRefused {
                    too_large: true,
                    message: format!("{name} is larger than the {max_bytes} bytes allowed"),
                },
                Refused::TypeNotAllowed { found } => EngineError::FileRefused {
                    too_large: false,
                    message: match found {
                        Some(kind) => format!(
                            "{name} is {kind}, which this account does not take; it takes {}",
                            policy.types.join(", ")
                        ),
                        None => format!(
                            "{name} is of no type this account takes ({})",
                            policy.types.join(", ")
                        ),
                    },
                },
            })?;
            let id = AttachmentId::new();
            Ok(AttachmentRef {
                url: AttachmentRef::staff_url(conversation, &id),
                id,
                // Named for what it is: a text file called `run.bat` is `run.bat.txt`.
                name: name_for(&name, content_type),
                content_type: content_type.to_owned(),
                size: upload.bytes.len() as u64,
            })
        })
        .collect()
}

impl ConversationsService {
    /// Which files the account takes (the API reads no more of an upload than this allows).
    pub async fn attachment_policy(
        &self,
        tenant: &TenantId,
    ) -> Result<AttachmentPolicy, EngineError> {
        Ok(self.accounts.tenant_by_id(tenant).await?.attachments)
    }

    /// A visitor's files, with an optional caption. A caption is handled like any message
    /// (rules, the assistant); files alone wait for the team.
    pub async fn post_visitor_files(
        self: &Arc<Self>,
        conversation: &Conversation,
        text: &str,
        uploads: Vec<Upload>,
    ) -> Result<Message, EngineError> {
        let text = caption(text)?;
        let policy = self.attachment_policy(&conversation.tenant_id).await?;
        let listed = admit(&policy, &conversation.id, &uploads)?;
        let files = new_attachments(&listed, &uploads);
        let message = self
            .post_message_with_files(conversation, Author::Visitor, None, &text, None, &files)
            .await?;
        if text.is_empty() && conversation.status == ConversationStatus::Closed {
            // As a message would: the visitor came back, so the conversation is live again.
            let mut reopened = conversation.clone();
            let open = ConversationState {
                status: ConversationStatus::Open,
                assigned_to: None,
                assigned_team: None,
            };
            self.set_state(&mut reopened, open).await?;
            let data = serde_json::json!({"by": "visitor"});
            let entry = super::trace::entry(
                &conversation.tenant_id,
                &conversation.id,
                Some(&message.id),
                "reopened",
                data,
            );
            self.trace(entry);
            self.traces.flush().await;
        }
        self.handle_later(conversation, &message);
        Ok(message)
    }

    /// An operator's files, with an optional caption; like a reply, it takes the
    /// conversation over.
    pub async fn operator_files(
        &self,
        actor: &Actor,
        id: &ConversationId,
        text: &str,
        uploads: Vec<Upload>,
    ) -> Result<Message, EngineError> {
        actor.require(Role::Operator)?;
        let text = caption(text)?;
        let policy = self.attachment_policy(&actor.tenant_id).await?;
        let listed = admit(&policy, id, &uploads)?;
        let conversation = self.take_over(actor, id).await?;
        let translation = match text.is_empty() {
            true => None,
            false => self.operator_translation(actor, &conversation, &text).await?,
        };
        let files = new_attachments(&listed, &uploads);
        let user = actor.user_id.as_ref();
        let translation = translation.as_ref();
        let author = Author::Operator;
        self.post_message_with_files(&conversation, author, user, &text, translation, &files).await
    }

    /// Removes stored files no attachment names any more (a crash between writing a file and
    /// its message, a removal that failed), once they are an hour old. Returns how many went.
    pub async fn sweep_attachment_files(&self) -> Result<u64, EngineError> {
        let before = sb_domain::Timestamp::now() - jiff::SignedDuration::from_hours(1);
        Ok(self.store.attachments.sweep_attachment_files(before).await?)
    }

    /// A file of the visitor's own conversation.
    pub async fn visitor_attachment(
        &self,
        conversation: &Conversation,
        id: &AttachmentId,
    ) -> Result<(AttachmentRef, Vec<u8>), EngineError> {
        let store = &self.store.attachments;
        Ok(store.attachment(&conversation.tenant_id, &conversation.id, id).await?)
    }

    /// A file of one of the account's conversations, for its people.
    pub async fn staff_attachment(
        &self,
        actor: &Actor,
        conversation: &ConversationId,
        id: &AttachmentId,
    ) -> Result<(AttachmentRef, Vec<u8>), EngineError> {
        actor.require(Role::Operator)?;
        Ok(self.store.attachments.attachment(&actor.tenant_id, conversation, id).await?)
    }
}

fn new_attachments<'a>(
    listed: &'a [AttachmentRef],
    uploads: &'a [Upload],
) -> Vec<NewAttachment<'a>> {
    listed
        .iter()
        .zip(uploads)
        .map(|(listed, u)| NewAttachment { listed, bytes: &u.bytes })
        .collect()
}
