//! E-mail channels (docs/channels.md#e-mail). Mail comes in from the channel's IMAP mailbox
//! (`mailbox.rs`) or a provider's inbound webhook; each thread is one conversation, found by
//! the Message-IDs a reply names. Replies go out over SMTP (`smtp.rs`) into the same thread.
//! Machine mail (auto-replies, bounces) and the channel's own mail are taken and never
//! answered, so no loop can start here.

mod mailbox;
mod smtp;
pub(super) mod tls;

use std::sync::Arc;

use sb_channels::email::{EmailSettings, InboundMail, message_of_id, thread_of_message_id};
use sb_domain::attachment::MAX_FILES;
use sb_domain::{ChannelId, ChannelKind, MAX_MESSAGE_CHARS, Timestamp, Visitor, random_token};
use sb_secrets::constant_time_eq;
use sb_store::StoredChannel;
use serde::{Deserialize, Serialize};

pub(super) use smtp::MailSender;

use super::ChannelsService;
use crate::EngineError;
use crate::conversations::Upload;

/// What a reply needs to land in the customer's thread, kept with the conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MailThread {
    /// The customer's address and name.
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub subject: String,
    /// The thread's Message-IDs, oldest first; the last is the customer's latest.
    pub references: Vec<String>,
}

/// Most Message-IDs a reply's `References` carries (the first and the latest ones).
const MAX_REFERENCES: usize = 20;

/// What became of a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// A customer's message, now in its conversation.
    Message,
    /// Had already come (the same Message-ID).
    Duplicate,
    /// Machine mail, the channel's own, or no sender: taken and never answered.
    Ignored(&'static str),
}

/// Whether two addresses are one mailbox: the same, but for a `+tag` (`help+x@shop.example`).
fn same_mailbox(a: &str, b: &str) -> bool {
    let untagged = |address: &str| match address.split_once('@') {
        Some((local, domain)) => {
            let local = local.split_once('+').map_or(local, |(base, _)| base);
            format!("{}@{}", local.to_ascii_lowercase(), domain.to_ascii_lowercase())
        }
        None => address.to_ascii_lowercase(),
    };
    untagged(a) == untagged(b)
}

impl ChannelsService {
    /// A raw message a provider posted to the channel's inbound webhook, which must carry the
    /// channel's webhook secret.
    pub async fn email_posted(
        self: &Arc<Self>,
        id: &ChannelId,
        secret: Option<&str>,
        raw: &[u8],
    ) -> Result<(), EngineError> {
        let stored = match self.store.channels.find_channel(id).await? {
            Some(s) if s.channel.kind == ChannelKind::Email => s,
            _ => return Err(EngineError::NotFound("channel")),
        };
        let secrets = self.open_secrets(&stored)?;
        if !secret.is_some_and(|s| constant_time_eq(s, &secrets.webhook_secret)) {
            return Err(EngineError::Unauthenticated("the webhook's secret is not the channel's"));
        }
        match self.take_mail(stored, raw.to_vec()).await? {
            Taken::Ignored(why) => {
                tracing::info!(channel = %id, why, "an inbound e-mail was not answered");
            }
            Taken::Message | Taken::Duplicate => {}
        }
        Ok(())
    }

    /// Takes one received message, once, into its thread's conversation (or a new one) —
    /// carried on to its end even when the caller stops waiting.
    pub(crate) async fn take_mail(
        self: &Arc<Self>,
        stored: StoredChannel,
        raw: Vec<u8>,
    ) -> Result<Taken, EngineError> {
        let this = self.clone();
        super::to_the_end(async move { this.take_mail_now(&stored, &raw).await }).await
    }

    async fn take_mail_now(
        self: &Arc<Self>,
        stored: &StoredChannel,
        raw: &[u8],
    ) -> Result<Taken, EngineError> {
        let (settings, _) = EmailSettings::parse(&stored.channel.settings)?;
        let mail = match InboundMail::parse(raw, settings.trusted_authserv_id.as_deref()) {
            Ok(mail) => mail,
            Err(why) => {
                let message = format!("the body is not an e-mail message: {why}");
                let invalid = sb_domain::ValidationError::new("body", "invalid_message", message);
                return Err(invalid.into());
            }
        };
        let channel = &stored.channel;
        let ignored = match mail.automatic {
            Some(automatic) => Some(automatic.as_str()),
            None if mail.from.is_empty() => Some("no sender"),
            // The channel's own mail (or an alias of it, `help+x@`): answering it is a loop.
            None if same_mailbox(&mail.from, &settings.address)
                || same_mailbox(mail.reply_address(), &settings.address) =>
            {
                Some("sent by the channel's own address")
            }
            None => None,
        };
        if let Some(why) = ignored {
            return Ok(Taken::Ignored(why));
        }
        let (thread_key, known) = self.thread_of(stored, &settings, &mail).await?;
        let now = Timestamp::now();
        let stale = super::stale_before(now);
        let id = &mail.message_id;
        let noted =
            self.store.channels.note_inbound(&channel.id, id, Some(&thread_key), now, stale);
        if !noted.await? {
            return Ok(Taken::Duplicate);
        }
        let taken = match self.post_mail(stored, &settings, &thread_key, known, &mail).await {
            Ok(()) => Taken::Message,
            // Refused for what it is: taken, and dropped (it would be refused every time).
            Err(EngineError::Invalid(why)) => {
                tracing::warn!(channel = %channel.id, error = %why, "an e-mail was refused");
                Taken::Ignored("refused")
            }
            Err(err) => {
                let _ = self.store.channels.forget_inbound(&channel.id, id).await;
                return Err(err);
            }
        };
        self.store.channels.mark_inbound_taken(&channel.id, id, Timestamp::now()).await?;
        Ok(taken)
    }

    /// The thread a message belongs to — the nearest Message-ID it answers that is one of
    /// this channel's replies or of the same customer's messages — or a new one. A thread is
    /// only ever its customer's: someone else answering a forwarded reply starts their own.
    async fn thread_of(
        &self,
        stored: &StoredChannel,
        settings: &EmailSettings,
        mail: &InboundMail,
    ) -> Result<(String, Option<MailThread>), EngineError> {
        let channel = &stored.channel;
        for id in mail.answers.iter().take(MAX_REFERENCES) {
            let key = match thread_of_message_id(id, settings.domain()) {
                Some(key) => Some(key.to_owned()),
                None => self.store.channels.inbound_thread(&channel.id, id).await?,
            };
            let Some(key) = key else { continue };
            let thread =
                self.store.channels.find_thread(&channel.tenant_id, &channel.id, &key).await?;
            let context = thread
                .and_then(|t| t.reply_context)
                .and_then(|c| serde_json::from_str::<MailThread>(&c).ok());
            if let Some(context) = context.filter(|c| c.to == mail.reply_address()) {
                return Ok((key, Some(context)));
            }
        }
        Ok((format!("m{}", random_token(12)), None))
    }

    /// The message into its conversation, with its files; the thread's reply context moved
    /// on to it.
    async fn post_mail(
        self: &Arc<Self>,
        stored: &StoredChannel,
        settings: &EmailSettings,
        thread_key: &str,
        known: Option<MailThread>,
        mail: &InboundMail,
    ) -> Result<(), EngineError> {
        let channel = &stored.channel;
        // Replies go where the customer asks (`Reply-To`: a web form's mail names the customer
        // there); only the `From` address can be verified.
        let address = mail.reply_address().to_owned();
        let verified = mail.sender_verified && address == mail.from;
        let visitor = Visitor {
            name: mail.name.clone(),
            email: Some(address.clone()),
            user_id: Some(format!("email:{address}")),
            verified,
            email_verified: verified,
            ..Visitor::default()
        };
        let conversation = self.conversation_of(stored, thread_key, visitor).await?;
        let mut context = known.unwrap_or_else(|| MailThread {
            to: address.clone(),
            name: mail.name.clone(),
            subject: mail.subject.clone(),
            references: Vec::new(),
        });
        context.references.retain(|id| id != &mail.message_id);
        context.references.push(mail.message_id.clone());
        if context.references.len() > MAX_REFERENCES {
            // The thread's first message and its latest ones: what clients thread by.
            let excess = context.references.len() - MAX_REFERENCES;
            context.references.drain(1..=excess);
        }
        let json = serde_json::to_string(&context).unwrap_or_default();
        self.store.channels.set_reply_context(&channel.tenant_id, &conversation.id, &json).await?;
        if self.decided_by_mail(&conversation, settings, thread_key, mail).await? {
            return Ok(());
        }
        let (text, uploads) = self.admitted(stored, mail).await?;
        if uploads.is_empty() {
            let text = if text.is_empty() { "(an empty message)".to_owned() } else { text };
            self.conversations.post_visitor_message(&conversation, &text, None).await?;
        } else {
            self.conversations.post_visitor_files(&conversation, &text, uploads).await?;
        }
        Ok(())
    }

    /// "CONFIRM" or "CANCEL" in answer to a reply that asked for it (mail has no buttons):
    /// decides that reply's action, as the widget's buttons would. False when the message is
    /// no such answer, or the action was decided or ran out already (then it is a message).
    async fn decided_by_mail(
        self: &Arc<Self>,
        conversation: &sb_domain::Conversation,
        settings: &EmailSettings,
        thread_key: &str,
        mail: &InboundMail,
    ) -> Result<bool, EngineError> {
        let Some(confirm) = mail.decision() else { return Ok(false) };
        let answered = mail.answers.first().and_then(|id| message_of_id(id, settings.domain()));
        let Some((thread, seq)) = answered.filter(|(thread, _)| *thread == thread_key) else {
            return Ok(false);
        };
        let tenant = &conversation.tenant_id;
        let asked =
            self.store.conversations.list_messages(tenant, &conversation.id, seq - 1, 1).await?;
        let Some(card) = asked.into_iter().find(|m| m.seq == seq).and_then(|m| m.action) else {
            return Ok(false);
        };
        tracing::debug!(thread, action = %card.id, confirm, "a customer answered by mail");
        match self.conversations.visitor_decides(conversation, &card.id, confirm).await {
            Ok(_) => Ok(true),
            Err(EngineError::Conflict { .. } | EngineError::Gone { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// The message's text (cut to what the inbox keeps) and the files the account takes; the
    /// others are named in the text, so nobody is left wondering.
    async fn admitted(
        &self,
        stored: &StoredChannel,
        mail: &InboundMail,
    ) -> Result<(String, Vec<Upload>), EngineError> {
        let policy = self.conversations.attachment_policy(&stored.channel.tenant_id).await?;
        let mut notes = Vec::new();
        let mut uploads = Vec::new();
        for file in &mail.files {
            match policy.admit(&file.bytes) {
                Ok(_) if uploads.len() < MAX_FILES => {
                    uploads.push(Upload { name: file.name.clone(), bytes: file.bytes.clone() })
                }
                Ok(_) => notes.push(format!("[file not kept, too many files: {}]", file.name)),
                Err(_) => notes.push(format!(
                    "[file not kept, not a type or size this account takes: {}]",
                    file.name
                )),
            }
        }
        let mut text = mail.said();
        for note in notes {
            text.push('\n');
            text.push_str(&note);
        }
        let text = text.trim().to_owned();
        if text.chars().count() > MAX_MESSAGE_CHARS {
            // Mail can be longer than the inbox keeps: the rest is cut.
            let cut: String = text.chars().take(MAX_MESSAGE_CHARS - 1).collect();
            return Ok((cut + "…", uploads));
        }
        Ok((text, uploads))
    }
}

#[cfg(test)]
mod tests {
    use super::same_mailbox;

    #[test]
    fn tagged_forms_of_an_address_are_one_mailbox() {
        assert!(same_mailbox("Help+Orders@Shop.example", "help@shop.example"));
        assert!(same_mailbox("help@shop.example", "help@shop.example"));
        assert!(!same_mailbox("helpdesk@shop.example", "help@shop.example"));
        assert!(!same_mailbox("help@shop.example.evil", "help@shop.example"));
    }
}
