//! Outbound webhooks: tenants' URLs that are sent conversation events, signed per the Standard
//! Webhooks specification (see docs/webhooks.md).
//!
//! Three parts: the use-cases here (admins manage webhooks; the signing secret is sealed like
//! connection credentials and shown only when it is made), the event tap and the delivery worker
//! in `worker` (events become durable delivery rows, sent through the SSRF-safe client and
//! retried with backoff), and `signing`.

mod excerpt;
mod payload;
mod queue;
mod settings;
pub mod signing;
#[cfg(test)]
mod tests;
mod worker;

use std::sync::Mutex;

use jiff::SignedDuration;
use sb_domain::webhook::{Delivery, Webhook, WebhookEvent, validate_webhook_events};
use sb_domain::{DeliveryId, Role, TenantId, Timestamp, ValidationError, WebhookId};
use sb_secrets::Secret;
use sb_store::{NewDelivery, Page, PageRequest, StoredWebhook};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;

pub use settings::WebhookSettings;
pub use worker::WebhookWorker;

use crate::connections::check_public_url;
use crate::{Actor, EngineError};
use sb_domain::events::{ConversationEvent, EventSink};

stores!(WebhookStores { webhooks: WebhookStore, conversations: ConversationStore });

/// The webhooks aggregate: subscriptions, signing secrets, and delivery of conversation events
/// to them with retries.
pub struct WebhooksService {
    store: WebhookStores,
    keyring: std::sync::Arc<sb_secrets::Keyring>,
    connector: std::sync::Arc<sb_connectors::Connector>,
    webhooks: Webhooks,
}

impl WebhooksService {
    /// The service, and the event sink the other services publish to: everything published
    /// still reaches `events`, and once the worker runs, a copy is queued for webhooks too.
    pub fn new(
        store: &std::sync::Arc<dyn sb_store::Store>,
        keyring: std::sync::Arc<sb_secrets::Keyring>,
        connector: std::sync::Arc<sb_connectors::Connector>,
        events: std::sync::Arc<dyn EventSink>,
    ) -> (std::sync::Arc<Self>, std::sync::Arc<dyn EventSink>) {
        let (webhooks, events) = Webhooks::new(events);
        let service = Self { store: WebhookStores::of(store), keyring, connector, webhooks };
        (std::sync::Arc::new(service), events)
    }
}

/// After a rotation, deliveries are signed with the previous secret too for this long.
pub const ROTATION_GRACE: SignedDuration = SignedDuration::from_hours(24);
/// Deliveries (and their attempts) are kept this long, then pruned.
pub const DELIVERY_RETENTION: SignedDuration = SignedDuration::from_hours(7 * 24);
/// Webhooks per account: each event is queued once per subscribed webhook.
pub const MAX_WEBHOOKS: u64 = 20;
const MAX_URL_CHARS: usize = 2000;
const MAX_DESCRIPTION_CHARS: usize = 500;
/// Test events per webhook and minute (per node), all of them available in a burst.
pub const TESTS_PER_MINUTE: u32 = 10;

/// The engine's share of the webhook machinery: the tap's other end, until the worker takes it.
pub(crate) struct Webhooks {
    events: Mutex<Option<mpsc::Receiver<ConversationEvent>>>,
    tap: std::sync::Arc<queue::Tap>,
    /// Wakes the delivery worker when something is queued.
    wake: std::sync::Arc<tokio::sync::Notify>,
    /// Names this node's claims on deliveries.
    holder: String,
    /// Set when the worker starts.
    settings: std::sync::OnceLock<std::sync::Arc<WebhookSettings>>,
    /// Test events sent per webhook, so "send test event" cannot flood a receiver (or the queue).
    tests: governor::DefaultKeyedRateLimiter<(TenantId, WebhookId)>,
}

impl Webhooks {
    /// Wraps `events`: everything published still reaches it, and once the worker runs, a copy
    /// goes to the webhook queue too.
    pub(crate) fn new(
        events: std::sync::Arc<dyn EventSink>,
    ) -> (Self, std::sync::Arc<dyn EventSink>) {
        let (tap, receiver) = queue::Tap::new(events);
        let sink: std::sync::Arc<dyn EventSink> = tap.clone();
        let webhooks = Self {
            events: Mutex::new(Some(receiver)),
            tap,
            wake: Default::default(),
            holder: format!("node_{}", sb_domain::random_token(16)),
            settings: Default::default(),
            tests: governor::RateLimiter::keyed(governor::Quota::per_minute(
                std::num::NonZeroU32::new(TESTS_PER_MINUTE).unwrap_or(std::num::NonZeroU32::MIN),
            )),
        };
        (webhooks, sink)
    }
}

/// A webhook as submitted; on update, absent fields keep their value.
#[derive(Debug, Default)]
pub struct WebhookDraft {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// A webhook with its signing secret: the answer to creating one and to rotating its secret,
/// the only times the secret is shown.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_…`: the key to verify signatures with. Shown this once; store it now.
    pub secret: String,
}

/// What "send test event" queued.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TestQueued {
    /// The delivery (and its `webhook-id` header); its outcome appears in the delivery log.
    pub delivery_id: DeliveryId,
    pub webhook_id: WebhookId,
    #[serde(rename = "type")]
    pub event: WebhookEvent,
}

fn webhook_url(raw: &str, policy: &sb_net::SsrfPolicy) -> Result<String, ValidationError> {
    let raw = raw.trim();
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(ValidationError::new(
            "url",
            "too_long",
            format!("must be at most {MAX_URL_CHARS} characters"),
        ));
    }
    let url = sb_net::Url::parse(raw)
        .map_err(|err| ValidationError::new("url", "invalid_url", format!("not a URL: {err}")))?;
    // The same rules as a connection's base URL, checked without connecting; names are checked
    // again, against every address they resolve to, at each delivery.
    check_public_url("url", &url, policy)?;
    if url.fragment().is_some() {
        return Err(ValidationError::new(
            "url",
            "invalid_url",
            "a webhook URL cannot have a #fragment",
        ));
    }
    Ok(url.to_string())
}

fn description(value: &str) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.chars().count() > MAX_DESCRIPTION_CHARS
        || value.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(ValidationError::new(
            "description",
            "invalid_field",
            format!(
                "must be at most {MAX_DESCRIPTION_CHARS} characters, without control characters"
            ),
        ));
    }
    Ok(value.to_owned())
}

impl WebhooksService {
    fn seal_webhook_secret(&self, tenant: &TenantId, secret: &Secret<String>) -> String {
        self.keyring.seal(tenant.as_str(), secret.expose().as_bytes())
    }

    /// Opens a sealed webhook secret.
    pub(crate) fn open_webhook_secret(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        sealed: &str,
    ) -> Result<Secret<String>, EngineError> {
        let plaintext = self.keyring.open(tenant.as_str(), sealed).map_err(|err| {
            EngineError::Internal(format!(
                "the secret of webhook {webhook} cannot be opened: {err}"
            ))
        })?;
        String::from_utf8(plaintext)
            .map(Secret::new)
            .map_err(|_| EngineError::Internal("a sealed webhook secret is not text".into()))
    }

    pub async fn create_webhook(
        &self,
        actor: &Actor,
        draft: WebhookDraft,
    ) -> Result<WebhookWithSecret, EngineError> {
        actor.require(Role::Admin)?;
        let policy = self.connector.http().policy();
        let url = draft
            .url
            .ok_or_else(|| ValidationError::new("url", "missing_field", "missing field `url`"))?;
        let url = webhook_url(&url, policy)?;
        let events = draft.events.ok_or_else(|| {
            ValidationError::new("events", "missing_field", "missing field `events`")
        })?;
        let events = validate_webhook_events(&events)?;
        let description = description(draft.description.as_deref().unwrap_or_default())?;
        if self.store.webhooks.count_webhooks(&actor.tenant_id).await? >= MAX_WEBHOOKS {
            return Err(ValidationError::new(
                "url",
                "too_many_webhooks",
                format!("an account can have at most {MAX_WEBHOOKS} webhooks; delete one first"),
            )
            .into());
        }
        let now = Timestamp::now();
        let webhook = Webhook {
            id: WebhookId::new(),
            tenant_id: actor.tenant_id.clone(),
            url,
            events,
            description,
            active: draft.active.unwrap_or(true),
            disabled_reason: None,
            previous_secret_expires_at: None,
            created_at: now,
            updated_at: now,
        };
        let secret = signing::new_secret();
        let sealed = self.seal_webhook_secret(&actor.tenant_id, &secret);
        self.store.webhooks.create_webhook(&webhook, &sealed).await?;
        Ok(WebhookWithSecret { webhook, secret: secret.expose().clone() })
    }

    pub async fn list_webhooks(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<Webhook>, EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.webhooks.list_webhooks(&actor.tenant_id, page).await?)
    }

    async fn stored_webhook(
        &self,
        actor: &Actor,
        id: &WebhookId,
    ) -> Result<StoredWebhook, EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.webhooks.get_webhook(&actor.tenant_id, id).await?)
    }

    pub async fn get_webhook(&self, actor: &Actor, id: &WebhookId) -> Result<Webhook, EngineError> {
        Ok(self.stored_webhook(actor, id).await?.webhook)
    }

    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: &WebhookId,
        draft: WebhookDraft,
    ) -> Result<Webhook, EngineError> {
        let mut webhook = self.stored_webhook(actor, id).await?.webhook;
        if let Some(url) = draft.url {
            webhook.url = webhook_url(&url, self.connector.http().policy())?;
        }
        if let Some(events) = draft.events {
            webhook.events = validate_webhook_events(&events)?;
        }
        if let Some(text) = draft.description {
            webhook.description = description(&text)?;
        }
        if let Some(active) = draft.active {
            // Switching a webhook (back) on clears why the server switched it off.
            if active {
                webhook.disabled_reason = None;
            }
            webhook.active = active;
        }
        webhook.updated_at = Timestamp::now();
        self.store.webhooks.update_webhook(&webhook).await?;
        Ok(webhook)
    }

    pub async fn delete_webhook(&self, actor: &Actor, id: &WebhookId) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.webhooks.delete_webhook(&actor.tenant_id, id).await?)
    }

    /// A new signing secret. The current one stays valid for [`ROTATION_GRACE`]: until then
    /// deliveries carry a signature of each. (A secret older than the current one is dropped.)
    pub async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        id: &WebhookId,
    ) -> Result<WebhookWithSecret, EngineError> {
        actor.require(Role::Admin)?;
        let secret = signing::new_secret();
        let sealed = self.seal_webhook_secret(&actor.tenant_id, &secret);
        let expires = Timestamp::now() + ROTATION_GRACE;
        // Another tenant's or an unknown webhook is not found by the update itself.
        self.store.webhooks.rotate_webhook_secret(&actor.tenant_id, id, &sealed, expires).await?;
        let webhook = self.get_webhook(actor, id).await?;
        Ok(WebhookWithSecret { webhook, secret: secret.expose().clone() })
    }

    /// Queues a `webhook.test` delivery (sent even while the webhook is switched off), at most
    /// [`TESTS_PER_MINUTE`] per webhook: the allowance is taken only once the caller may test
    /// this webhook.
    pub async fn test_webhook(
        &self,
        actor: &Actor,
        id: &WebhookId,
    ) -> Result<TestQueued, EngineError> {
        use governor::clock::{Clock, DefaultClock};
        let webhook = self.stored_webhook(actor, id).await?.webhook;
        let allowance = self.webhooks.tests.check_key(&(actor.tenant_id.clone(), id.clone()));
        if let Err(not_until) = allowance {
            return Err(EngineError::Busy {
                code: "rate_limited",
                message: "too many test events for this webhook; try again shortly",
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            });
        }
        let now = Timestamp::now();
        let data = json!({
            "webhook_id": webhook.id,
            "message": "A test event from Switchboard: this endpoint receives and verifies deliveries.",
        });
        let delivery = NewDelivery {
            id: DeliveryId::new(),
            tenant_id: actor.tenant_id.clone(),
            webhook_id: webhook.id.clone(),
            event: WebhookEvent::WebhookTest,
            payload: payload::body(WebhookEvent::WebhookTest, now, data),
            created_at: now,
        };
        self.store.webhooks.enqueue_deliveries(std::slice::from_ref(&delivery)).await?;
        self.webhooks.wake.notify_one();
        Ok(TestQueued {
            delivery_id: delivery.id,
            webhook_id: webhook.id,
            event: WebhookEvent::WebhookTest,
        })
    }

    /// The webhook's deliveries, newest first, with their attempts.
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        id: &WebhookId,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, EngineError> {
        self.stored_webhook(actor, id).await?;
        Ok(self.store.webhooks.list_deliveries(&actor.tenant_id, id, page).await?)
    }

    /// Upkeep: gives up on deliveries older than the retry window that are still waiting (those
    /// of switched-off webhooks); with `prune`, also deletes deliveries past their retention.
    pub async fn webhook_housekeeping(&self, prune: bool) -> Result<(), EngineError> {
        let window = self
            .webhooks
            .settings
            .get()
            .map(|s| s.window())
            .unwrap_or_else(|| WebhookSettings::default().window());
        let now = Timestamp::now();
        let expired = self.store.webhooks.fail_expired_deliveries(now - window, now).await?;
        if expired > 0 {
            tracing::info!(
                deliveries = expired,
                "gave up on webhook deliveries past the retry window"
            );
        }
        self.webhooks.tests.retain_recent();
        if prune {
            self.store.webhooks.prune_deliveries(now - DELIVERY_RETENTION).await?;
        }
        Ok(())
    }
}
