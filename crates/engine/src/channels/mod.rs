//! Channels besides the widget (docs/channels.md): the account's Telegram bots so far. Each
//! channel answers through one of the account's widgets — its rules, connections, AI and
//! people — so a customer on Telegram gets what a visitor on the site gets. What the provider
//! sends in becomes a visitor's message (`inbound.rs`); replies go out through the SSRF-safe
//! client, every one of them, in order, exactly once (`delivery.rs`).

mod delivery;
mod inbound;

use std::sync::Arc;

use sb_channels::telegram::TelegramSettings;
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

use crate::{Actor, ConversationsService, EngineError};

stores!(ChannelStores {
    channels: ChannelStore,
    widgets: WidgetStore,
    conversations: ConversationStore
});

pub struct ChannelsService {
    store: ChannelStores,
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

/// What a channel is made or changed with; absent fields keep their value.
#[derive(Debug, Default)]
pub struct ChannelDraft {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub widget_id: Option<WidgetId>,
    pub settings: Option<serde_json::Value>,
    /// Write-only: for Telegram `{bot_token}`.
    pub secrets: Option<serde_json::Value>,
    pub active: Option<bool>,
}

/// A channel's secrets, sealed as one JSON document.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct ChannelSecrets {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bot_token: String,
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
        Arc::new(Self { store: ChannelStores::of(store), keyring, connector, conversations })
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
                let policy = self.connector.http().policy();
                let field = "settings.api_base_url";
                crate::connections::validate::check_public_url(
                    field,
                    &settings.api_base_url,
                    policy,
                )?;
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

    /// The new secrets, over the kept ones: a Telegram bot needs its token.
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
                let text = value.as_str().map(str::trim).filter(|v| !v.is_empty());
                match (name.as_str(), text) {
                    ("bot_token", Some(token)) => secrets.bot_token = token.to_owned(),
                    ("bot_token", None) => {
                        return Err(ValidationError::new(
                            "secrets.bot_token",
                            "required",
                            "the bot's token from @BotFather",
                        )
                        .into());
                    }
                    (other, _) => {
                        let field = format!("secrets.{other}");
                        return Err(ValidationError::new(
                            field,
                            "unknown_field",
                            "not a secret of this channel",
                        )
                        .into());
                    }
                }
            }
        }
        if kind == ChannelKind::Telegram && secrets.bot_token.is_empty() {
            return Err(missing("secrets.bot_token").into());
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
                let kept = self.open_secrets(&stored)?;
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

    /// Checks the channel with its provider: for Telegram, that the token is a bot's
    /// (`getMe`), and (given the server's public address) points the bot's updates at the
    /// channel's webhook (`setWebhook`, with the secret Telegram then sends back).
    pub async fn test_channel(
        &self,
        actor: &Actor,
        id: &ChannelId,
        public_url: Option<&str>,
    ) -> Result<ChannelTest, EngineError> {
        actor.require(Role::Admin)?;
        let stored = self.store.channels.get_channel(&actor.tenant_id, id).await?;
        let secrets = self.open_secrets(&stored)?;
        let (settings, _) = TelegramSettings::parse(&stored.channel.settings)?;
        let token = Secret::new(secrets.bot_token.clone());
        let mut notes = Vec::new();
        let me = self.call(&token, settings.get_me(token.expose())).await;
        let bot = match me {
            Ok(answer) => answer["result"]["username"].as_str().unwrap_or("?").to_owned(),
            Err(why) => return Ok(ChannelTest { ok: false, notes: vec![why] }),
        };
        notes.push(format!("the token is the bot @{bot}'s"));
        let Some(public_url) = public_url else {
            notes.push("the server has no public address (server.public_url): Telegram cannot be told where to send updates".into());
            return Ok(ChannelTest { ok: false, notes });
        };
        let hook = format!("{}/api/v1/hooks/telegram/{}", public_url.trim_end_matches('/'), id);
        let request = settings.set_webhook(token.expose(), &hook, &secrets.webhook_secret);
        match self.call(&token, request).await {
            Ok(_) => notes.push(format!("Telegram sends the bot's updates to {hook}")),
            Err(why) => return Ok(ChannelTest { ok: false, notes: vec![why] }),
        }
        Ok(ChannelTest { ok: true, notes })
    }

    /// Sends a request to the provider; its JSON answer, or why it failed (the token never in
    /// it).
    pub(crate) async fn call(
        &self,
        token: &Secret<String>,
        request: Result<sb_net::OutboundRequest, sb_net::NetError>,
    ) -> Result<serde_json::Value, String> {
        let scrub = |text: String| text.replace(token.expose().as_str(), "***");
        let request = request.map_err(|e| scrub(e.to_string()))?;
        let answer = self.connector.http().send(request).await.map_err(|e| scrub(e.to_string()))?;
        if !answer.status.is_success() {
            return Err(scrub(sb_channels::telegram::refusal(
                answer.status.as_u16(),
                &answer.body,
            )));
        }
        serde_json::from_slice(&answer.body).map_err(|_| "the answer is not JSON".to_owned())
    }
}
