use async_trait::async_trait;
use sb_domain::webhook::{Delivery, DeliveryState, Webhook, WebhookEvent};
use sb_domain::{DeliveryId, TenantId, Timestamp, WebhookId};

use crate::{Page, PageRequest, StoreResult};

/// A webhook with its sealed signing secrets (opaque to the store).
#[derive(Debug, Clone)]
pub struct StoredWebhook {
    pub webhook: Webhook,
    pub secret_sealed: String,
    /// The secret before the last rotation, while `webhook.previous_secret_expires_at` lasts.
    pub previous_secret_sealed: Option<String>,
}

/// A delivery to queue: its body is fixed now, so every attempt sends (and signs) the same bytes.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: DeliveryId,
    pub tenant_id: TenantId,
    pub webhook_id: WebhookId,
    pub event: WebhookEvent,
    /// The JSON body, exactly as it will be sent.
    pub payload: String,
    pub created_at: Timestamp,
}

/// What a node asks for when it claims deliveries.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// Who claims, until when (a claim a dead node left behind runs out then).
    pub holder: &'a str,
    pub now: Timestamp,
    pub lease_until: Timestamp,
    /// At most this many in all, and at most one per webhook (its oldest due).
    pub limit: u32,
    /// Webhooks and tenants this node has as much in flight for as it allows.
    pub skip_webhooks: &'a [WebhookId],
    pub skip_tenants: &'a [TenantId],
    /// At most this many of any one tenant, so one tenant's backlog cannot take every slot.
    pub per_tenant: u32,
}

impl<'a> Claim<'a> {
    /// Up to `limit` deliveries for `holder` at `now`, leased until `lease_until`, with no
    /// webhook or tenant left out.
    pub fn new(holder: &'a str, now: Timestamp, lease_until: Timestamp, limit: u32) -> Self {
        Self {
            holder,
            now,
            lease_until,
            limit,
            skip_webhooks: &[],
            skip_tenants: &[],
            per_tenant: u32::MAX,
        }
    }
}

/// A delivery a node has claimed for one attempt, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: DeliveryId,
    pub tenant_id: TenantId,
    pub webhook_id: WebhookId,
    pub event: WebhookEvent,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub created_at: Timestamp,
    pub url: String,
    pub secret_sealed: String,
    pub previous_secret_sealed: Option<String>,
    pub previous_secret_expires_at: Option<Timestamp>,
}

/// What happened in one attempt, for the log.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub tenant_id: TenantId,
    pub delivery_id: DeliveryId,
    pub webhook_id: WebhookId,
    /// 1 for the first.
    pub attempt: u32,
    pub at: Timestamp,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub response_excerpt: Option<String>,
}

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    Retry {
        at: Timestamp,
    },
    Failed,
    /// Failed, and the webhook is switched off for this reason (410 Gone).
    FailedAndDisable {
        reason: String,
    },
}

impl AttemptOutcome {
    pub fn state(&self) -> DeliveryState {
        match self {
            Self::Delivered => DeliveryState::Delivered,
            Self::Retry { .. } => DeliveryState::Pending,
            Self::Failed | Self::FailedAndDisable { .. } => DeliveryState::Failed,
        }
    }
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_webhook(&self, webhook: &Webhook, secret_sealed: &str) -> StoreResult<()>;
    async fn get_webhook(&self, tenant: &TenantId, id: &WebhookId) -> StoreResult<StoredWebhook>;
    async fn list_webhooks(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<Webhook>>;
    async fn count_webhooks(&self, tenant: &TenantId) -> StoreResult<u64>;
    /// The tenant's active webhooks, whatever they subscribe to.
    async fn active_webhooks(&self, tenant: &TenantId) -> StoreResult<Vec<Webhook>>;
    /// Saves the URL, events, description, `active`, `disabled_reason` and `updated_at`.
    async fn update_webhook(&self, webhook: &Webhook) -> StoreResult<()>;
    /// Replaces the signing secret; the one it replaces — whatever it is at that moment, so two
    /// rotations at once each leave a secret that signs — stays valid until
    /// `previous_expires_at`.
    async fn rotate_webhook_secret(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
        secret_sealed: &str,
        previous_expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Deletes the webhook and its deliveries.
    async fn delete_webhook(&self, tenant: &TenantId, id: &WebhookId) -> StoreResult<()>;

    /// Queues deliveries, due at once. A delivery whose webhook is not its tenant's (deleted
    /// meanwhile) is left out, and so is one whose id is queued already.
    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<()>;
    /// Whether any pending delivery of an active webhook (or a `webhook.test` delivery of any)
    /// is due and unclaimed at `now` (a read; claiming is a write).
    async fn due_deliveries_exist(&self, now: Timestamp) -> StoreResult<bool>;
    /// Claims due deliveries of active webhooks (test deliveries of any) as `claim` describes.
    /// Nodes sharing the database never claim the same delivery at once. Oldest due first.
    async fn claim_deliveries(&self, claim: &Claim<'_>) -> StoreResult<Vec<ClaimedDelivery>>;
    /// Logs an attempt and moves its delivery on (releasing the claim), if `holder` still holds
    /// the claim; returns whether it did.
    async fn record_attempt(
        &self,
        holder: &str,
        attempt: &AttemptRecord,
        outcome: &AttemptOutcome,
    ) -> StoreResult<bool>;
    /// The webhook's deliveries, newest first, each with its attempts.
    async fn list_deliveries(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        page: &PageRequest,
    ) -> StoreResult<Page<Delivery>>;
    /// Gives up, at `now`, on the pending deliveries of inactive webhooks created before
    /// `created_before` (they are not attempted, so nothing else ends them). Returns how many.
    async fn fail_expired_deliveries(
        &self,
        created_before: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64>;
    /// Deletes deliveries of every tenant created before `before` (maintenance).
    async fn prune_deliveries(&self, before: Timestamp) -> StoreResult<u64>;
}
