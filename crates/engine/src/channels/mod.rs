//! Channels besides the widget (docs/channels.md): the account's e-mail addresses, Telegram
//! bots and WhatsApp numbers. Each channel answers through one of the account's widgets — its
//! rules, connections, AI and people — so a customer writing an e-mail gets what a visitor on
//! the site gets. What the provider sends in becomes a visitor's message (`inbound.rs`,
//! `email/`); replies go out through the outbound rules, every one of them, in order, exactly
//! once (`delivery.rs`). Secrets are sealed (`secrets.rs`); the test button is `check.rs`.

mod check;
mod delivery;
mod email;
mod inbound;
mod secrets;
mod telegram_polling;
mod watch;

use std::sync::Arc;

use sb_channels::email::{EmailSettings, MailServer, Security};
use sb_channels::telegram::TelegramSettings;
use sb_channels::whatsapp::WhatsAppSettings;
use sb_connectors::Connector;
use sb_domain::{
    Channel, ChannelId, ChannelKind, Role, Timestamp, ValidationError, WidgetId, display_name,
    random_token,
};
use sb_secrets::{Keyring, Secret};
use sb_store::StoredChannel;
use serde::Serialize;

pub use delivery::DELIVERY_TICK;
pub use sb_channels::telegram::SECRET_HEADER as TELEGRAM_SECRET_HEADER;
pub use sb_channels::whatsapp::SIGNATURE_HEADER as WHATSAPP_SIGNATURE_HEADER;
pub use watch::InboundState;

use crate::connections::validate::{check_public_host, check_public_url};
use crate::{Actor, ConversationsService, EngineError};
use secrets::ChannelSecrets;

stores!(ChannelStores {
    attachments: AttachmentStore,
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
    /// Rung when a channel is made, changed or deleted: the inbound watchers follow.
    watched_changed: tokio::sync::Notify,
}

/// A channel as the API shows it: never its secrets, only whether they are set.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChannelView {
    #[serde(flatten)]
    pub channel: Channel,
    pub secrets_set: bool,
    /// What a node watches of the channel (an e-mail channel's mailbox, a Telegram bot's
    /// updates by long polling): when the provider was last reached, what last went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound: Option<InboundState>,
    /// Replies that could not be sent and wait for the next try (absent when none do).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryTrouble>,
}

/// Conversations whose replies wait after a failed send, and why the latest one failed (a
/// revoked token, a blocked bot: until it is mended, every try fails the same way).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DeliveryTrouble {
    pub waiting_conversations: u64,
    pub last_error: Option<String>,
}

/// What a channel is made or changed with; absent fields keep their value. (No `Debug`: it
/// carries secrets.)
#[derive(Default)]
pub struct ChannelDraft {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub widget_id: Option<WidgetId>,
    pub settings: Option<serde_json::Value>,
    /// Write-only: Telegram `{bot_token}`; WhatsApp `{access_token, app_secret, verify_token}`;
    /// e-mail `{smtp_password?, imap_password, webhook_secret?}`.
    pub secrets: Option<serde_json::Value>,
    pub active: Option<bool>,
}

/// What a channel's test found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChannelTest {
    pub ok: bool,
    pub notes: Vec<String>,
}

/// How long a received item may be noted and not yet taken before another delivery of it may
/// take it (its node died between the two).
const TAKE_WITHIN: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);

/// Items noted before this and never taken are abandoned.
fn stale_before(now: Timestamp) -> Timestamp {
    now.checked_sub(TAKE_WITHIN).unwrap_or(now)
}

/// Runs `work` to its end even when the caller stops waiting (a provider hanging up, a
/// mailbox watcher stopped for a changed channel): what is noted as received is taken, or
/// forgotten for the next try — never left half done.
async fn to_the_end<T: Send + 'static>(
    work: impl Future<Output = Result<T, EngineError>> + Send + 'static,
) -> Result<T, EngineError> {
    tokio::spawn(work)
        .await
        .map_err(|err| EngineError::Internal(format!("taking a received item failed: {err}")))?
}

/// What a channel's inbound cursor is a place in: an e-mail channel's mailbox (where, and
/// whose), a Telegram bot's updates (its address; a new token is another bot too, see
/// `update_channel`).
fn inbound_of(channel: &Channel) -> Option<(String, u16, String)> {
    match channel.kind {
        ChannelKind::Email => {
            let (settings, _) = EmailSettings::parse(&channel.settings).ok()?;
            settings.imap.map(|imap| (imap.host, imap.port, imap.username))
        }
        _ => Some((channel.settings.to_string(), 0, String::new())),
    }
}

/// Whether an e-mail channel has a mailbox to watch (and so needs its password).
pub(super) fn has_mailbox(channel: &Channel) -> bool {
    channel.kind == ChannelKind::Email
        && EmailSettings::parse(&channel.settings).is_ok_and(|(s, _)| s.imap.is_some())
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
        let store = ChannelStores::of(store);
        let watched_changed = tokio::sync::Notify::new();
        Arc::new(Self { store, node, keyring, connector, conversations, watched_changed })
    }

    async fn view(&self, stored: StoredChannel) -> Result<ChannelView, EngineError> {
        let inbound = watch::is_watched(&stored.channel).then(|| InboundState::of(&stored));
        let channel = stored.channel;
        let (waiting, last_error) =
            self.store.channels.failing_deliveries(&channel.tenant_id, &channel.id).await?;
        let delivery =
            (waiting > 0).then_some(DeliveryTrouble { waiting_conversations: waiting, last_error });
        let secrets_set = stored.sealed_secrets.is_some();
        Ok(ChannelView { secrets_set, channel, inbound, delivery })
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
            ChannelKind::Email => {
                let (settings, stored) = EmailSettings::parse(raw)?;
                self.mail_server_reachable(&settings.smtp, "settings.smtp")?;
                if let Some(imap) = &settings.imap {
                    self.mail_server_reachable(imap, "settings.imap")?;
                }
                Ok(stored)
            }
            ChannelKind::Widget => {
                let message = "widgets are made at /widgets";
                Err(ValidationError::new("kind", "invalid_kind", message).into())
            }
        }
    }

    /// Whether a mail server passes the outbound rules; unencrypted only when the operator
    /// allowlisted it (a relay on the same host), never to a server on the internet.
    fn mail_server_reachable(&self, server: &MailServer, field: &str) -> Result<(), EngineError> {
        let policy = self.connector.http().policy();
        let host_field = format!("{field}.host");
        check_public_host(&host_field, &server.host, server.port, policy)?;
        if let Some(pem) = &server.ca_certificate {
            email::tls::private_ca(pem).map_err(|why| {
                ValidationError::new(format!("{field}.ca_certificate"), "invalid_certificate", why)
            })?;
        }
        if server.security == Security::None && !policy.allowlisted(&server.host, server.port) {
            let message = "an unencrypted connection is only for a server the operator allowlisted (security.ssrf_allow); use \"tls\" or \"starttls\"";
            return Err(ValidationError::new(
                format!("{field}.tls"),
                "insecure_transport",
                message,
            )
            .into());
        }
        Ok(())
    }

    /// Whether the provider's address passes the outbound rules (a private one is refused
    /// unless the operator allowlists it).
    fn reachable(&self, url: &sb_net::Url) -> Result<(), EngineError> {
        let policy = self.connector.http().policy();
        check_public_url("settings.api_base_url", url, policy)?;
        Ok(())
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
        let needs = has_mailbox(&channel);
        let secrets =
            ChannelSecrets::merged(kind, needs, ChannelSecrets::default(), draft.secrets.as_ref())?;
        let sealed = self.seal(&channel, &secrets);
        self.store.channels.create_channel(&channel, Some(&sealed)).await?;
        self.watched_changed.notify_one();
        let stored = StoredChannel {
            channel,
            sealed_secrets: Some(sealed),
            inbound_state: None,
            inbound_generation: 0,
        };
        self.view(stored).await
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
        let needs = has_mailbox(&channel);
        if needs && draft.secrets.is_none() && !has_mailbox(&stored.channel) {
            // A mailbox added now needs its password now.
            let kept = self.open_secrets(&stored)?;
            if kept.imap_password.is_empty() {
                return Err(missing("secrets.imap_password").into());
            }
        }
        let sealed = match &draft.secrets {
            Some(given) => {
                // Secrets that can no longer be opened (a lost key) can still all be replaced.
                let kept = match self.open_secrets(&stored) {
                    Ok(kept) => kept,
                    Err(_) if ChannelSecrets::replaces_all(channel.kind, needs, given) => {
                        ChannelSecrets::default()
                    }
                    Err(err) => return Err(err),
                };
                let secrets = ChannelSecrets::merged(channel.kind, needs, kept, Some(given))?;
                Some(self.seal(&channel, &secrets))
            }
            None => None,
        };
        self.store.channels.update_channel(&channel, sealed.as_deref().map(Some)).await?;
        let (mut inbound_state, mut inbound_generation) =
            (stored.inbound_state, stored.inbound_generation);
        let new_bot = channel.kind == ChannelKind::Telegram
            && draft.secrets.as_ref().is_some_and(|s| s.get("bot_token").is_some());
        if new_bot || inbound_of(&channel) != inbound_of(&stored.channel) {
            // Another mailbox or bot: the cursor of the old one means nothing there, and a
            // watcher still at the old one writes nothing more.
            self.store.channels.reset_inbound(&channel.id).await?;
            (inbound_state, inbound_generation) = (None, inbound_generation + 1);
        }
        self.watched_changed.notify_one();
        let sealed_secrets = sealed.or(stored.sealed_secrets);
        let updated = StoredChannel { channel, sealed_secrets, inbound_state, inbound_generation };
        self.view(updated).await
    }

    pub async fn get_channel(
        &self,
        actor: &Actor,
        id: &ChannelId,
    ) -> Result<ChannelView, EngineError> {
        actor.require(Role::Admin)?;
        self.view(self.store.channels.get_channel(&actor.tenant_id, id).await?).await
    }

    pub async fn list_channels(&self, actor: &Actor) -> Result<Vec<ChannelView>, EngineError> {
        actor.require(Role::Admin)?;
        let stored = self.store.channels.list_channels(&actor.tenant_id).await?;
        let mut views = Vec::with_capacity(stored.len());
        for channel in stored {
            views.push(self.view(channel).await?);
        }
        Ok(views)
    }

    pub async fn delete_channel(&self, actor: &Actor, id: &ChannelId) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        self.store.channels.delete_channel(&actor.tenant_id, id).await?;
        self.watched_changed.notify_one();
        Ok(())
    }

    /// Forgets what channels received more than 90 days ago (housekeeping).
    pub async fn forget_old_inbound(&self) -> Result<u64, EngineError> {
        let now = Timestamp::now();
        let before = now.checked_sub(jiff::SignedDuration::from_hours(24 * 90)).unwrap_or(now);
        Ok(self.store.channels.prune_inbound(before).await?)
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
