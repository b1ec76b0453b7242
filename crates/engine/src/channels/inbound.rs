//! What a channel's provider sends in: a customer's message becomes a visitor's message of the
//! chat's conversation (started on its first message); a press of a reply's button confirms or
//! cancels the action it was shown for. A provider sending an item again (it retries until
//! answered) changes nothing the second time.

use std::sync::Arc;

use sb_channels::telegram::{Incoming, TelegramSettings, parse_update};
use sb_domain::{
    ActionId, ChannelId, ChannelKind, ChannelRef, Conversation, Timestamp, ValidationError, Visitor,
};
use sb_secrets::{Secret, constant_time_eq};
use sb_store::{ChannelThread, StoreError, StoredChannel};

use super::ChannelsService;
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
    /// A Telegram update for channel `id`, which must carry the channel's webhook secret.
    pub async fn telegram_update(
        self: &Arc<Self>,
        id: &ChannelId,
        secret: Option<&str>,
        body: &[u8],
    ) -> Result<(), EngineError> {
        let stored = match self.store.channels.find_channel(id).await? {
            Some(s) if s.channel.kind == ChannelKind::Telegram && s.channel.active => s,
            _ => return Err(EngineError::NotFound("channel")),
        };
        let secrets = self.open_secrets(&stored)?;
        let valid = secret.is_some_and(|s| constant_time_eq(s, &secrets.webhook_secret));
        if !valid {
            return Err(EngineError::Unauthenticated("the webhook's secret token is not valid"));
        }
        let update = parse_update(body)
            .map_err(|why| ValidationError::new("body", "invalid_update", why))?;
        let Some(update) = update else { return Ok(()) };
        let channel = &stored.channel;
        let update_id = match &update {
            Incoming::Message { update_id, .. } | Incoming::Button { update_id, .. } => update_id,
        };
        if !self.store.channels.note_inbound(&channel.id, update_id, Timestamp::now()).await? {
            return Ok(());
        }
        let handled = match &update {
            Incoming::Message { chat_id, user_id, name, language, text, .. } => {
                let visitor = Visitor {
                    name: name.clone(),
                    language: language.clone(),
                    // Telegram vouches for the account the message came from.
                    user_id: Some(format!("telegram:{user_id}")),
                    verified: true,
                    ..Visitor::default()
                };
                self.customer_says(&stored, chat_id, visitor, text).await
            }
            Incoming::Button { callback_id, chat_id, data, .. } => {
                let token = Secret::new(secrets.bot_token.clone());
                self.button_pressed(&stored, &token, callback_id, chat_id, data).await
            }
        };
        if handled.is_err() {
            // Not stored: Telegram's next try may bring it again.
            let _ = self.store.channels.forget_inbound(&channel.id, update_id).await;
        }
        handled
    }

    /// The chat's conversation (started now if it has none yet).
    async fn conversation_of(
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

    async fn button_pressed(
        self: &Arc<Self>,
        stored: &StoredChannel,
        token: &Secret<String>,
        callback_id: &str,
        thread_key: &str,
        data: &str,
    ) -> Result<(), EngineError> {
        let channel = &stored.channel;
        let (settings, _) = TelegramSettings::parse(&channel.settings)?;
        let thread =
            self.store.channels.find_thread(&channel.tenant_id, &channel.id, thread_key).await?;
        let said = match (thread, read_button(data)) {
            (Some(thread), Some((action, confirm))) => {
                let tenant = &channel.tenant_id;
                let conversation = self
                    .store
                    .conversations
                    .get_conversation(tenant, &thread.conversation_id)
                    .await?;
                match self.conversations.visitor_decides(&conversation, &action, confirm).await {
                    Ok(_) if confirm => "Confirmed",
                    Ok(_) => "Cancelled",
                    Err(EngineError::Conflict { .. }) => "Already decided",
                    Err(EngineError::Gone { .. }) => "Too late: this has expired",
                    Err(err) => return Err(err),
                }
            }
            _ => "This button no longer does anything",
        };
        // Only stops the button's spinner: what the decision led to comes as replies.
        if let Err(why) =
            self.call(token, settings.answer_button(token.expose(), callback_id, said)).await
        {
            tracing::warn!(channel = %channel.id, error = %why, "could not answer a Telegram button");
        }
        Ok(())
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
