//! What a channel's provider sends in — checked to be the provider's (Telegram's secret token,
//! WhatsApp's signature): a customer's message becomes a visitor's message of the chat's
//! conversation (started on its first message); a press of a reply's button confirms or
//! cancels the action it was shown for. A provider sending an item again (it retries until
//! answered) changes nothing the second time.

use std::sync::Arc;

use sb_channels::Incoming;
use sb_channels::telegram::{TelegramSettings, parse_update};
use sb_channels::whatsapp;
use sb_domain::{
    ActionId, ChannelId, ChannelKind, ChannelRef, Conversation, MAX_MESSAGE_CHARS, Timestamp,
    ValidationError, Visitor,
};
use sb_secrets::constant_time_eq;
use sb_store::{ChannelThread, StoreError, StoredChannel};

use super::ChannelsService;
use super::secrets::ChannelSecrets;
use crate::EngineError;

/// What a button's data says: `a:<action id>:y` confirms, `a:<action id>:n` cancels.
pub(super) fn button_data(action: &ActionId, confirm: bool) -> String {
    format!("a:{action}:{}", if confirm { "y" } else { "n" })
}

fn read_button(data: &str) -> Option<(ActionId, bool)> {
    let rest = data.strip_prefix("a:")?;
    let (id, answer) = rest.rsplit_once(':')?;
    let confirm = match answer {
        "y" => true,
        "n" => false,
        _ => return None,
    };
    Some((id.parse().ok()?, confirm))
}

impl ChannelsService {
    /// The channel `id` of `kind`, found without knowing its account (a provider's webhook
    /// knows only the id), with its secrets. A paused channel still takes what comes in (into
    /// the inbox); only its replies wait.
    async fn hooked(
        &self,
        id: &ChannelId,
        kind: ChannelKind,
    ) -> Result<(StoredChannel, ChannelSecrets), EngineError> {
        let stored = match self.store.channels.find_channel(id).await? {
            Some(s) if s.channel.kind == kind => s,
            _ => return Err(EngineError::NotFound("channel")),
        };
        let secrets = self.open_secrets(&stored)?;
        Ok((stored, secrets))
    }

    /// A Telegram update for channel `id`, which must carry the channel's webhook secret.
    pub async fn telegram_update(
        self: &Arc<Self>,
        id: &ChannelId,
        secret: Option<&str>,
        body: &[u8],
    ) -> Result<(), EngineError> {
        let (stored, secrets) = self.hooked(id, ChannelKind::Telegram).await?;
        let valid = secret.is_some_and(|s| constant_time_eq(s, &secrets.webhook_secret));
        if !valid {
            return Err(EngineError::Unauthenticated("the webhook's secret token is not valid"));
        }
        let update = parse_update(body)
            .map_err(|why| ValidationError::new("body", "invalid_update", why))?;
        match update {
            Some(incoming) => self.take_to_the_end(stored, secrets, incoming, "telegram").await,
            None => Ok(()),
        }
    }

    /// Meta's check of a WhatsApp channel's webhook: the challenge to echo, when the verify
    /// token is the channel's.
    pub async fn whatsapp_verification(
        &self,
        id: &ChannelId,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&str>,
    ) -> Result<String, EngineError> {
        let (_, secrets) = self.hooked(id, ChannelKind::Whatsapp).await?;
        whatsapp::verification(mode, token, challenge, &secrets.verify_token, constant_time_eq)
            .map(str::to_owned)
            .ok_or(EngineError::Refused {
                code: "verification_failed",
                message: "the verify token is not the channel's",
            })
    }

    /// A WhatsApp webhook POST for channel `id`, signed with the app secret.
    pub async fn whatsapp_notification(
        self: &Arc<Self>,
        id: &ChannelId,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<(), EngineError> {
        let (stored, secrets) = self.hooked(id, ChannelKind::Whatsapp).await?;
        if !whatsapp::signed(&secrets.app_secret, body, signature) {
            return Err(EngineError::Unauthenticated(
                "the body's signature is not the app secret's",
            ));
        }
        let (settings, _) = whatsapp::WhatsAppSettings::parse(&stored.channel.settings)?;
        let found = whatsapp::parse_notification(body, &settings.phone_number_id)
            .map_err(|why| ValidationError::new("body", "invalid_update", why))?;
        // Each message on its own: one that cannot be stored now does not hold up the others
        // (Meta sends the whole notification again; those taken are taken once).
        let mut first_failure = Ok(());
        for incoming in found {
            let taken =
                self.take_to_the_end(stored.clone(), secrets.clone(), incoming, "whatsapp").await;
            if first_failure.is_ok() {
                first_failure = taken;
            }
        }
        first_failure
    }

    /// [`Self::take`], carried on even when the caller stops waiting (a provider hanging up):
    /// an item noted as received is always taken, or forgotten for the provider's next try.
    pub(super) async fn take_to_the_end(
        self: &Arc<Self>,
        stored: StoredChannel,
        secrets: ChannelSecrets,
        incoming: Incoming,
        prefix: &'static str,
    ) -> Result<(), EngineError> {
        let this = self.clone();
        super::to_the_end(async move { this.take(&stored, &secrets, incoming, prefix).await }).await
    }

    /// Takes one item the provider brought, once: its message is the customer's (they are
    /// `<prefix>:<their id>`, as the provider vouches), its button press decides the action.
    async fn take(
        self: &Arc<Self>,
        stored: &StoredChannel,
        secrets: &ChannelSecrets,
        incoming: Incoming,
        prefix: &str,
    ) -> Result<(), EngineError> {
        let channel = &stored.channel;
        let external = incoming.external_id().to_owned();
        let now = Timestamp::now();
        let stale = super::stale_before(now);
        if !self.store.channels.note_inbound(&channel.id, &external, None, now, stale).await? {
            return Ok(());
        }
        let handled = match incoming {
            Incoming::Message { thread_key, user_id, name, language, mut text, .. } => {
                if text.chars().count() > MAX_MESSAGE_CHARS {
                    // Providers allow longer messages than the inbox keeps: the rest is cut.
                    text = text.chars().take(MAX_MESSAGE_CHARS - 1).collect::<String>() + "…";
                }
                let visitor = Visitor {
                    name,
                    language,
                    user_id: Some(format!("{prefix}:{user_id}")),
                    verified: true,
                    ..Visitor::default()
                };
                self.customer_says(stored, &thread_key, visitor, &text).await
            }
            Incoming::Button { thread_key, data, callback_id, .. } => {
                let said = self.button_pressed(stored, &thread_key, &data).await;
                if let (Some(callback), Ok(said)) = (callback_id, &said) {
                    self.answer_telegram_button(stored, secrets, &callback, said).await;
                }
                said.map(drop)
            }
        };
        match handled {
            // Refused for what it is (no try will change that): taken, and dropped.
            Err(EngineError::Invalid(why)) => {
                tracing::warn!(channel = %channel.id, error = %why, "a channel's message was refused");
                self.store
                    .channels
                    .mark_inbound_taken(&channel.id, &external, Timestamp::now())
                    .await?;
                Ok(())
            }
            Err(err) => {
                // Not stored: the provider's next try may bring it again.
                let _ = self.store.channels.forget_inbound(&channel.id, &external).await;
                Err(err)
            }
            Ok(()) => {
                let taken = Timestamp::now();
                self.store.channels.mark_inbound_taken(&channel.id, &external, taken).await?;
                Ok(())
            }
        }
    }

    /// The chat's conversation (started now if it has none yet).
    pub(super) async fn conversation_of(
        &self,
        stored: &StoredChannel,
        thread_key: &str,
        visitor: Visitor,
    ) -> Result<Conversation, EngineError> {
        let channel = &stored.channel;
        let tenant = &channel.tenant_id;
        let conversations = &self.conversations;
        if let Some(thread) =
            self.store.channels.find_thread(tenant, &channel.id, thread_key).await?
        {
            self.store
                .channels
                .touch_thread(tenant, &thread.conversation_id, Timestamp::now())
                .await?;
            return Ok(self
                .store
                .conversations
                .get_conversation(tenant, &thread.conversation_id)
                .await?);
        }
        let widget = self.store.widgets.get_widget(tenant, &channel.widget_id).await?;
        let origin = ChannelRef::channel(channel.kind, &channel.id);
        let conversation =
            conversations.start_channel_conversation(&widget, visitor, origin).await?;
        let thread = ChannelThread {
            tenant_id: tenant.clone(),
            conversation_id: conversation.id.clone(),
            channel_id: channel.id.clone(),
            thread_key: thread_key.to_owned(),
            delivered_seq: 0,
            last_inbound_at: Timestamp::now(),
            attempts: 0,
            template_sent_at: None,
            reply_context: None,
        };
        match self.store.channels.create_thread(&thread).await {
            Ok(()) => Ok(conversation),
            // Two first messages of one chat at once: the other one's conversation goes on.
            Err(StoreError::Conflict(_)) => {
                let other =
                    self.store.channels.find_thread(tenant, &channel.id, thread_key).await?;
                let other = other.ok_or(EngineError::NotFound("conversation"))?;
                Ok(self
                    .store
                    .conversations
                    .get_conversation(tenant, &other.conversation_id)
                    .await?)
            }
            Err(err) => Err(err.into()),
        }
    }

    async fn customer_says(
        self: &Arc<Self>,
        stored: &StoredChannel,
        thread_key: &str,
        visitor: Visitor,
        text: &str,
    ) -> Result<(), EngineError> {
        let conversation = self.conversation_of(stored, thread_key, visitor).await?;
        self.conversations.post_visitor_message(&conversation, text, None).await?;
        Ok(())
    }

    /// Decides the action a pressed button names; what to tell the presser.
    async fn button_pressed(
        self: &Arc<Self>,
        stored: &StoredChannel,
        thread_key: &str,
        data: &str,
    ) -> Result<&'static str, EngineError> {
        let channel = &stored.channel;
        let tenant = &channel.tenant_id;
        let thread = self.store.channels.find_thread(tenant, &channel.id, thread_key).await?;
        let (Some(thread), Some((action, confirm))) = (thread, read_button(data)) else {
            return Ok("This button no longer does anything");
        };
        // The customer answered: for WhatsApp, its window opens again.
        self.store.channels.touch_thread(tenant, &thread.conversation_id, Timestamp::now()).await?;
        let conversation =
            self.store.conversations.get_conversation(tenant, &thread.conversation_id).await?;
        Ok(match self.conversations.visitor_decides(&conversation, &action, confirm).await {
            Ok(_) if confirm => "Confirmed",
            Ok(_) => "Cancelled",
            Err(EngineError::Conflict { .. }) => "Already decided",
            Err(EngineError::Gone { .. }) => "Too late: this has expired",
            Err(err) => return Err(err),
        })
    }

    /// Stops a Telegram button's spinner, saying `said` briefly (what the decision led to comes
    /// as replies).
    async fn answer_telegram_button(
        &self,
        stored: &StoredChannel,
        secrets: &ChannelSecrets,
        callback_id: &str,
        said: &str,
    ) {
        let Ok((settings, _)) = TelegramSettings::parse(&stored.channel.settings) else { return };
        let token = secrets.token(ChannelKind::Telegram);
        let request = settings.answer_button(token.expose(), callback_id, said);
        if let Err(why) = self.call(ChannelKind::Telegram, &token, request).await {
            tracing::warn!(channel = %stored.channel.id, error = %why, "could not answer a Telegram button");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_say_which_action_and_which_answer() {
        let id = ActionId::new();
        assert_eq!(read_button(&button_data(&id, true)), Some((id.clone(), true)));
        assert_eq!(read_button(&button_data(&id, false)), Some((id, false)));
        assert_eq!(read_button("a:nonsense:y"), None);
        assert_eq!(read_button("x"), None);
    }
}
