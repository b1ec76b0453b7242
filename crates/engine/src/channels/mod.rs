//! Channels besides the widget (docs/channels.md): the account's Telegram bots and WhatsApp
//! numbers so far. Each
//! channel answers through one of the account's widgets — its rules, connections, AI and
//! people — so a customer on Telegram gets what a visitor on the site gets. What the provider
//! sends in becomes a visitor's message (`inbound.rs`); replies go out through the SSRF-safe
//! client, every one of them, in order, exactly once (`delivery.rs`).

mod delivery;
mod inbound;

use std::sync::Arc;

use sb_channels::telegram::TelegramSettings;
use sb_channels::whatsapp::WhatsAppSettings;
use sb_connectors::Connector;
use sb_domain::{
    Channel, ChannelId, ChannelKind, Role, Timestamp, ValidationError, WidgetId, display_name,
    random_token,
};
use sb_secrets::{Keyring, Secret};
use sb_store::StoredChannel;
use serde::{Deserialize, Serialize};

pub use delivery::DELIVERY_TICK;
pub use sb_channels::telegram::SECRET_HEADER as TELEGRAM_SECRET_HEADER;
pub use sb_channels::whatsapp::SIGNATURE_HEADER as WHATSAPP_SIGNATURE_HEADER;

use crate::{Actor, ConversationsService, EngineError};

stores!(ChannelStores {
    channels: ChannelStore,
    widgets: WidgetStore,
    conversations: ConversationStore
});

pub struct ChannelsService {
    store: ChannelStores,
    /// This node's name in the threads it claims for sending.
    node: String,
    keyring: Arc<Keyring>,
    connector: Arc<Connector>,
    conversations: Arc<ConversationsService>,
}

/// A channel as the API shows it: never its secrets, only whether they are set.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChannelView {
    #[serde(flatten)]
    pub channel: Channel,
    pub secrets_set: bool,
}

/// What a channel is made or changed with; absent fields keep their value. (No `Debug`: it
/// carries secrets.)
#[derive(Default)]
pub struct ChannelDraft {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub widget_id: Option<WidgetId>,
    pub settings: Option<serde_json::Value>,
    /// Write-only: Telegram `{bot_token}`; WhatsApp `{access_token, app_secret, verify_token}`.
    pub secrets: Option<serde_json::Value>,
    pub active: Option<bool>,
}

/// A channel's secrets, sealed as one JSON document (no `Debug`: nothing prints them).
#[derive(Default, Clone, Serialize, Deserialize)]
pub(crate) struct ChannelSecrets {
    /// Telegram: the bot's token.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bot_token: String,
    /// WhatsApp: the Graph API access token, the app secret signing webhooks, and the verify
    /// token Meta's webhook check sends.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub access_token: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_secret: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub verify_token: String,
    /// What Telegram sends back with every update (set by `setWebhook`): made here, never shown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webhook_secret: String,
}

/// What a channel's test found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChannelTest {
    pub ok: bool,
    pub notes: Vec<String>,
}

impl ChannelSecrets {
    /// The secrets a kind of channel takes.
    fn names(kind: ChannelKind) -> &'static [&'static str] {
        match kind {
            ChannelKind::Telegram => &["bot_token"],
            ChannelKind::Whatsapp => &["access_token", "app_secret", "verify_token"],
            ChannelKind::Email | ChannelKind::Widget => &[],
        }
    }

    fn slot(&mut self, kind: ChannelKind, name: &str) -> Option<&mut String> {
        if !Self::names(kind).contains(&name) {
            return None;
        }
        Some(match name {
            "bot_token" => &mut self.bot_token,
            "access_token" => &mut self.access_token,
            "app_secret" => &mut self.app_secret,
            _ => &mut self.verify_token,
        })
    }

    /// The credential a request to the provider carries.
    pub(crate) fn token(&self, kind: ChannelKind) -> Secret<String> {
        Secret::new(match kind {
            ChannelKind::Whatsapp => self.access_token.clone(),
            _ => self.bot_token.clone(),
        })
    }
}

/// Whether `given` names every secret of `kind`.
fn replaces_all(kind: ChannelKind, given: &serde_json::Value) -> bool {
    ChannelSecrets::names(kind).iter().all(|name| given.get(*name).is_some_and(|v| v.is_string()))
}

fn missing(field: &str) -> ValidationError {
    ValidationError::new(field.to_owned(), "missing_field", format!("missing field `{field}`"))
}

impl ChannelsService {
    pub(crate) fn new(
        store: &Arc<dyn sb_store::Store>,
        keyring: Arc<Keyring>,
        connector: Arc<Connector>,
        conversations: Arc<ConversationsService>,
    ) -> Arc<Self> {
        let node = format!("node-{}", random_token(8));
        Arc::new(Self { store: ChannelStores::of(store), node, keyring, connector, conversations })
    }

    fn view(stored: StoredChannel) -> ChannelView {
        ChannelView { secrets_set: stored.sealed_secrets.is_some(), channel: stored.channel }
    }

    /// The settings, checked for `kind`, as they are stored.
    fn settings(
        &self,
        kind: ChannelKind,
        raw: &serde_json::Value,
    ) -> Result<serde_json::Value, EngineError> {
        match kind {
            ChannelKind::Telegram => {
                let (settings, stored) = TelegramSettings::parse(raw)?;
                self.reachable(&settings.api_base_url)?;
                Ok(stored)
            }
            ChannelKind::Whatsapp => {
                let (settings, stored) = WhatsAppSettings::parse(raw)?;
                self.reachable(&settings.api_base_url)?;
                Ok(stored)
            }
            other => Err(ValidationError::new(
                "kind",
                "unsupported_kind",
                format!("{} channels are not available yet", other.as_str()),
            )
            .into()),
        }
    }

    /// Whether the provider's address passes the outbound rules (a private one is refused
    /// unless the operator allowlists it).
    fn reachable(&self, url: &sb_net::Url) -> Result<(), EngineError> {
        let policy = self.connector.http().policy();
        crate::connections::validate::check_public_url("settings.api_base_url", url, policy)?;
        Ok(())
    }

    /// The new secrets, over the kept ones: each kind needs all of its own.
    fn merged_secrets(
        kind: ChannelKind,
        kept: ChannelSecrets,
        given: Option<&serde_json::Value>,
    ) -> Result<ChannelSecrets, EngineError> {
        let mut secrets = kept;
        if let Some(given) = given {
            let object = given.as_object().ok_or_else(|| {
                ValidationError::new("secrets", "invalid_field", "secrets must be an object")
            })?;
            for (name, value) in object {
                let field = format!("secrets.{name}");
                let Some(slot) = secrets.slot(kind, name) else {
                    let message = "not a secret of this kind of channel";
                    return Err(ValidationError::new(field, "unknown_field", message).into());
                };
                match value.as_str().map(str::trim).filter(|v| !v.is_empty()) {
                    Some(text) => *slot = text.to_owned(),
                    None => {
                        let message = "must be a non-empty string";
                        return Err(ValidationError::new(field, "required", message).into());
                    }
                }
            }
        }
        for name in ChannelSecrets::names(kind) {
            if secrets.slot(kind, name).is_some_and(|v| v.is_empty()) {
                return Err(missing(&format!("secrets.{name}")).into());
            }
        }
        if secrets.webhook_secret.is_empty() {
            secrets.webhook_secret = random_token(32);
        }
        Ok(secrets)
    }

    fn seal(&self, channel: &Channel, secrets: &ChannelSecrets) -> String {
        let text = serde_json::to_string(secrets).unwrap_or_default();
        self.keyring.seal(channel.tenant_id.as_str(), text.as_bytes())
    }

    /// Opens a channel's sealed secrets.
    pub(crate) fn open_secrets(
        &self,
        stored: &StoredChannel,
    ) -> Result<ChannelSecrets, EngineError> {
        let Some(sealed) = &stored.sealed_secrets else { return Ok(ChannelSecrets::default()) };
        let channel = &stored.channel;
        let plaintext = self.keyring.open(channel.tenant_id.as_str(), sealed).map_err(|err| {
            EngineError::Internal(format!(
                "secrets of channel {} cannot be opened: {err}",
                channel.id
            ))
        })?;
        serde_json::from_slice(&plaintext)
            .map_err(|_| EngineError::Internal("sealed channel secrets are not JSON".into()))
    }

    pub async fn create_channel(
        &self,
        actor: &Actor,
        draft: ChannelDraft,
    ) -> Result<ChannelView, EngineError> {
        actor.require(Role::Admin)?;
        let kind: ChannelKind = draft.kind.as_deref().ok_or_else(|| missing("kind"))?.parse()?;
        if kind == ChannelKind::Widget {
            let message = "widgets are made at /widgets";
            return Err(ValidationError::new("kind", "invalid_kind", message).into());
        }
        let name =
            display_name(draft.name.as_deref().ok_or_else(|| missing("name"))?, "name", 100)?;
        let widget_id = draft.widget_id.ok_or_else(|| missing("widget_id"))?;
        self.known_widget(actor, &widget_id).await?;
        let settings =
            self.settings(kind, &draft.settings.unwrap_or_else(|| serde_json::json!({})))?;
        let secrets =
            Self::merged_secrets(kind, ChannelSecrets::default(), draft.secrets.as_ref())?;
        let now = Timestamp::now();
        let channel = Channel {
            id: ChannelId::new(),
            tenant_id: actor.tenant_id.clone(),
            kind,
            name,
            widget_id,
            settings,
            active: draft.active.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        let sealed = self.seal(&channel, &secrets);
        self.store.channels.create_channel(&channel, Some(&sealed)).await?;
        Ok(ChannelView { channel, secrets_set: true })
    }

    async fn known_widget(&self, actor: &Actor, id: &WidgetId) -> Result<(), EngineError> {
        match self.store.widgets.get_widget(&actor.tenant_id, id).await {
            Ok(_) => Ok(()),
            Err(sb_store::StoreError::NotFound) => Err(ValidationError::new(
                "widget_id",
                "unknown_widget",
                "no such widget in this account",
            )
            .into()),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn update_channel(
        &self,
        actor: &Actor,
        id: &ChannelId,
        draft: ChannelDraft,
    ) -> Result<ChannelView, EngineError> {
        actor.require(Role::Admin)?;
        let stored = self.store.channels.get_channel(&actor.tenant_id, id).await?;
        if draft.kind.as_deref().is_some_and(|k| k != stored.channel.kind.as_str()) {
            let message = "a channel's kind is set when it is made";
            return Err(ValidationError::new("kind", "kind_fixed", message).into());
        }
        let mut channel = stored.channel.clone();
        if let Some(name) = &draft.name {
            channel.name = display_name(name, "name", 100)?;
        }
        if let Some(widget) = draft.widget_id {
            self.known_widget(actor, &widget).await?;
            channel.widget_id = widget;
        }
        if let Some(settings) = &draft.settings {
            channel.settings = self.settings(channel.kind, settings)?;
        }
        channel.active = draft.active.unwrap_or(channel.active);
        channel.updated_at = Timestamp::now();
        let sealed = match &draft.secrets {
            Some(given) => {
                // Secrets that can no longer be opened (a lost key) can still all be replaced.
                let kept = match self.open_secrets(&stored) {
                    Ok(kept) => kept,
                    Err(_) if replaces_all(channel.kind, given) => ChannelSecrets::default(),
                    Err(err) => return Err(err),
                };
                let secrets = Self::merged_secrets(channel.kind, kept, Some(given))?;
                Some(self.seal(&channel, &secrets))
            }
            None => None,
        };
        self.store.channels.update_channel(&channel, sealed.as_deref().map(Some)).await?;
        Ok(ChannelView {
            channel,
            secrets_set: sealed.is_some() || stored.sealed_secrets.is_some(),
        })
    }

    pub async fn get_channel(
        &self,
        actor: &Actor,
        id: &ChannelId,
    ) -> Result<ChannelView, EngineError> {
        actor.require(Role::Admin)?;
        Ok(Self::view(self.store.channels.get_channel(&actor.tenant_id, id).await?))
    }

    pub async fn list_channels(&self, actor: &Actor) -> Result<Vec<ChannelView>, EngineError> {
        actor.require(Role::Admin)?;
        let stored = self.store.channels.list_channels(&actor.tenant_id).await?;
        Ok(stored.into_iter().map(Self::view).collect())
    }

    pub async fn delete_channel(&self, actor: &Actor, id: &ChannelId) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.channels.delete_channel(&actor.tenant_id, id).await?)
    }

    /// Checks the channel with its provider, then (given `to`) sends a test message there.
    /// Telegram: that the token is a bot's (`getMe`),
    /// and (given the server's public address) points the bot's updates at the channel's
    /// webhook (`setWebhook`, with the secret Telegram then sends back). WhatsApp: that the
    /// access token reaches the number.
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

    /// Sends a short message through the channel to `to` (a chat id or a number).
    async fn send_test_message(&self, stored: &StoredChannel, to: &str) -> Result<(), String> {
        let secrets = self.open_secrets(stored).map_err(|e| e.to_string())?;
        let kind = stored.channel.kind;
        let token = secrets.token(kind);
        let reply = sb_channels::Outgoing {
            text: "A test message from Switchboard: this channel works.".into(),
            buttons: Vec::new(),
        };
        let sender = delivery::Sender::of(kind, &stored.channel.settings)?;
        let requests = sender.send(token.expose(), to, &reply);
        let scrub = |text: String| text.replace(token.expose().as_str(), "***");
        for request in requests.map_err(|e| scrub(e.to_string()))? {
            self.call(kind, &token, Ok(request)).await?;
        }
        Ok(())
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

    /// Sends a request to the provider; its JSON answer, or why it failed (the token never in
    /// it).
    pub(crate) async fn call(
        &self,
        kind: ChannelKind,
        token: &Secret<String>,
        request: Result<sb_net::OutboundRequest, sb_net::NetError>,
    ) -> Result<serde_json::Value, String> {
        let scrub = |text: String| text.replace(token.expose().as_str(), "***");
        let request = request.map_err(|e| scrub(e.to_string()))?;
        let answer = self.connector.http().send(request).await.map_err(|e| scrub(e.to_string()))?;
        if !answer.status.is_success() {
            let status = answer.status.as_u16();
            return Err(scrub(match kind {
                ChannelKind::Whatsapp => sb_channels::whatsapp::refusal(status, &answer.body),
                _ => sb_channels::telegram::refusal(status, &answer.body),
            }));
        }
        // Taken is taken: an answer that is not JSON does not make it go again.
        Ok(serde_json::from_slice(&answer.body).unwrap_or(serde_json::Value::Null))
    }
}
