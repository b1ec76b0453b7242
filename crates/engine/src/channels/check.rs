//! A channel's test button: whether the provider takes its credentials (and, for Telegram,
//! pointing the bot's updates at the channel), then optionally a test message.

use sb_channels::Outgoing;
use sb_channels::email::{EmailSettings, message_id, valid_address};
use sb_channels::telegram::TelegramSettings;
use sb_channels::whatsapp::WhatsAppSettings;
use sb_domain::{ChannelId, ChannelKind, Role, random_token};
use sb_store::StoredChannel;

use super::delivery::{Recipient, Sender};
use super::email::{MailSender, MailThread};
use super::secrets::ChannelSecrets;
use super::{ChannelTest, ChannelsService};
use crate::{Actor, EngineError};

impl ChannelsService {
    /// Checks the channel with its provider, then (given `to`) sends a test message there.
    /// Telegram: that the token is a bot's (`getMe`),
    /// and (given the server's public address) points the bot's updates at the channel's
    /// webhook (`setWebhook`, with the secret Telegram then sends back). WhatsApp: that the
    /// access token reaches the number. E-mail: that the SMTP server takes the login, and the
    /// mailbox (when there is one) opens.
    pub async fn test_channel(
        &self,
        actor: &Actor,
        id: &ChannelId,
        public_url: Option<&str>,
        to: Option<&str>,
    ) -> Result<ChannelTest, EngineError> {
        // The test message goes out whenever the provider took the credentials (a bot without
        // a webhook yet can still send).
        let (mut test, reached) = self.check_channel(actor, id, public_url).await?;
        if let Some(to) = to.filter(|_| reached) {
            let stored = self.store.channels.get_channel(&actor.tenant_id, id).await?;
            match self.send_test_message(&stored, to).await {
                Ok(()) => test.notes.push(format!("a test message went to {to}")),
                Err(why) => {
                    test.ok = false;
                    test.notes.push(format!("the test message to {to} was not sent: {why}"));
                }
            }
        }
        Ok(test)
    }

    /// Sends a short message through the channel to `to` (a chat id, a number, an address).
    async fn send_test_message(&self, stored: &StoredChannel, to: &str) -> Result<(), String> {
        let secrets = self.open_secrets(stored).map_err(|e| e.to_string())?;
        let token = secrets.token(stored.channel.kind);
        let reply = Outgoing {
            text: "A test message from Switchboard: this channel works.".into(),
            ..Outgoing::default()
        };
        let mut sender = Sender::of(stored, &secrets)?;
        let mail_thread;
        let recipient = match &sender {
            Sender::Email(mail) => {
                if !valid_address(to) {
                    return Err(format!("{to} is not an e-mail address"));
                }
                mail_thread = MailThread {
                    to: to.to_owned(),
                    name: None,
                    subject: "Switchboard test message".into(),
                    references: Vec::new(),
                };
                let id = message_id(&format!("test{}", random_token(6)), 0, mail.settings.domain());
                Recipient::Mail { thread: &mail_thread, message_id: id, automatic: true }
            }
            _ => Recipient::Chat(to),
        };
        let sent = self.send_reply(&mut sender, &token, &recipient, &reply).await;
        if let Sender::Email(mail) = &mut sender {
            mail.close().await;
        }
        sent
    }

    async fn check_channel(
        &self,
        actor: &Actor,
        id: &ChannelId,
        public_url: Option<&str>,
    ) -> Result<(ChannelTest, bool), EngineError> {
        actor.require(Role::Admin)?;
        let stored = self.store.channels.get_channel(&actor.tenant_id, id).await?;
        let secrets = self.open_secrets(&stored)?;
        let kind = stored.channel.kind;
        let token = secrets.token(kind);
        let hook = public_url.map(|base| {
            format!("{}/api/v1/hooks/{}/{id}", base.trim_end_matches('/'), kind.as_str())
        });
        let failed = |why: String| Ok((ChannelTest { ok: false, notes: vec![why] }, false));
        let mut notes = Vec::new();
        if kind == ChannelKind::Email {
            return self.check_email(&stored, &secrets, hook).await;
        }
        if kind == ChannelKind::Whatsapp {
            let (settings, _) = WhatsAppSettings::parse(&stored.channel.settings)?;
            let number = match self.call(kind, &token, settings.phone_number(token.expose())).await
            {
                Ok(answer) => answer["display_phone_number"].as_str().unwrap_or("?").to_owned(),
                Err(why) => return failed(why),
            };
            notes.push(format!("the access token reaches the number {number}"));
            notes.push(match hook {
                Some(hook) => format!("in Meta's app settings, set the webhook to {hook} with the channel's verify token, and subscribe to messages"),
                None => "set server.public_url to know the webhook's address for Meta's app settings".into(),
            });
            return Ok((ChannelTest { ok: true, notes }, true));
        }
        let (settings, _) = TelegramSettings::parse(&stored.channel.settings)?;
        let bot = match self.call(kind, &token, settings.get_me(token.expose())).await {
            Ok(answer) => answer["result"]["username"].as_str().unwrap_or("?").to_owned(),
            Err(why) => return failed(why),
        };
        notes.push(format!("the token is the bot @{bot}'s"));
        if settings.polling {
            // Updates stay with Telegram for getUpdates (a bot with a webhook cannot be polled).
            if let Err(why) = self.call(kind, &token, settings.delete_webhook(token.expose())).await
            {
                return failed(why);
            }
            notes.push(
                "its updates are fetched by long polling: no public address is needed".into(),
            );
            return Ok((ChannelTest { ok: true, notes }, true));
        }
        let Some(hook) = hook else {
            notes.push("the server has no public address (server.public_url): Telegram cannot be told where to send updates".into());
            return Ok((ChannelTest { ok: false, notes }, true));
        };
        let request = settings.set_webhook(token.expose(), &hook, &secrets.webhook_secret);
        if let Err(why) = self.call(kind, &token, request).await {
            return failed(why);
        }
        notes.push(format!("Telegram sends the bot's updates to {hook}"));
        Ok((ChannelTest { ok: true, notes }, true))
    }

    /// E-mail: the SMTP login, and the mailbox when the channel has one.
    async fn check_email(
        &self,
        stored: &StoredChannel,
        secrets: &ChannelSecrets,
        hook: Option<String>,
    ) -> Result<(ChannelTest, bool), EngineError> {
        let (settings, _) = EmailSettings::parse(&stored.channel.settings)?;
        let mut notes = Vec::new();
        let mut mail =
            MailSender::new(settings.clone(), &stored.channel.name, &secrets.smtp_password);
        let smtp = &settings.smtp;
        let smtp_ok = match mail.check(self.connector.http()).await {
            Ok(()) => {
                let login = if secrets.smtp_password.is_empty() {
                    "without a login"
                } else {
                    "with its login"
                };
                notes.push(format!(
                    "the SMTP server {}:{} ({}) takes replies {login}",
                    smtp.host,
                    smtp.port,
                    smtp.security.as_str()
                ));
                true
            }
            Err(why) => {
                notes.push(format!("replies cannot go out: {why}"));
                false
            }
        };
        let imap_ok = match &settings.imap {
            Some(imap) => match self.check_mailbox(imap, &secrets.imap_password).await {
                Ok(count) => {
                    notes.push(format!("the mailbox {}@{}:{} opens ({count} messages in it; mail arriving from now on is answered)", imap.username, imap.host, imap.port));
                    true
                }
                Err(why) => {
                    notes.push(format!("the mailbox cannot be read: {why}"));
                    false
                }
            },
            None => {
                notes.push(match hook {
                    Some(hook) => format!("no mailbox: mail comes in when your provider posts it to {hook} with the channel's webhook secret"),
                    None => "no mailbox: mail comes in only through the inbound webhook (set server.public_url to know its address)".into(),
                });
                true
            }
        };
        Ok((ChannelTest { ok: smtp_ok && imap_ok, notes }, smtp_ok))
    }
}
