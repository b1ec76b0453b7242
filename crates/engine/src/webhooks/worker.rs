//! Delivering webhook events: claiming due rows and sending them (queueing is in `queue.rs`).
//!
//! **Delivering.** One worker per node claims due rows in the database (an UPDATE that sets a
//! lease, safe with several nodes sharing PostgreSQL; a dead node's claims run out), at most
//! `max_in_flight` at once, `max_in_flight_per_webhook` per webhook and
//! `max_in_flight_per_tenant` per tenant (each claim takes the oldest due delivery of each
//! webhook, and a few per tenant, so a receiver with a backlog or one that hangs, or a tenant
//! with many of them, cannot starve the others), and sends them through the SSRF-safe client under `timeout`. Every attempt
//! is logged; failures are retried after `retry_delays` with full jitter until `retry_window`
//! after the event.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use sb_domain::{TenantId, Timestamp, WebhookId};
use sb_net::{Method, OutboundRequest};
use sb_store::{AttemptOutcome, AttemptRecord, Claim, ClaimedDelivery};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

use super::excerpt::{excerpt, loggable};
use super::queue::BATCH;
use super::settings::WebhookSettings;
use super::signing;
use crate::{EngineError, WebhooksService};

/// How long a claim lasts: far longer than an attempt (at most 5 s) and its bookkeeping.
const LEASE: SignedDuration = SignedDuration::from_secs(60);

/// The running worker of this node; dropping it stops it.
pub struct WebhookWorker {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for WebhookWorker {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Webhooks and tenants this node is busy with, and how many deliveries of each are in flight.
#[derive(Default)]
struct InFlight {
    webhooks: HashMap<WebhookId, usize>,
    tenants: HashMap<TenantId, usize>,
}

impl InFlight {
    fn add(&mut self, d: &ClaimedDelivery) {
        *self.webhooks.entry(d.webhook_id.clone()).or_default() += 1;
        *self.tenants.entry(d.tenant_id.clone()).or_default() += 1;
    }

    fn remove(&mut self, tenant: &TenantId, webhook: &WebhookId) {
        fn down<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
            if let Some(n) = map.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(key);
                }
            }
        }
        down(&mut self.webhooks, webhook);
        down(&mut self.tenants, tenant);
    }
}

type Busy = Arc<Mutex<InFlight>>;

fn lock(busy: &Busy) -> std::sync::MutexGuard<'_, InFlight> {
    busy.lock().unwrap_or_else(|p| p.into_inner())
}

/// What one attempt came to.
struct Attempted {
    status: Option<u16>,
    latency_ms: u64,
    error: Option<(String, String)>,
    excerpt: Option<String>,
    gone: bool,
}

impl WebhooksService {
    /// Starts this node's webhook worker: events start flowing into the queue, and due
    /// deliveries are sent. Runs until the returned handle is dropped.
    pub fn start_webhooks(self: &Arc<Self>, settings: WebhookSettings) -> WebhookWorker {
        let settings = Arc::new(settings);
        let _ = self.webhooks.settings.set(settings.clone());
        let wake = self.webhooks.wake.clone();
        let mut tasks = Vec::new();
        let receiver = self.webhooks.events.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut receiver) = receiver {
            self.webhooks.tap.on.store(true, Ordering::Relaxed);
            let engine = Arc::downgrade(self);
            let wake = wake.clone();
            tasks.push(tokio::spawn(async move {
                let mut batch = Vec::with_capacity(BATCH);
                while receiver.recv_many(&mut batch, BATCH).await > 0 {
                    let Some(engine) = engine.upgrade() else { return };
                    let events = std::mem::take(&mut batch);
                    if engine.queue_deliveries(events).await {
                        wake.notify_one();
                    }
                }
            }));
        }
        let engine = Arc::downgrade(self);
        tasks.push(tokio::spawn(deliver(engine, settings, wake)));
        WebhookWorker { tasks }
    }

    /// Claims due deliveries while there are free slots, and starts sending each.
    async fn claim_and_send(
        self: &Arc<Self>,
        settings: &Arc<WebhookSettings>,
        slots: &Arc<Semaphore>,
        busy: &Busy,
    ) -> Result<(), EngineError> {
        let mut looked = false;
        loop {
            let free = slots.available_permits();
            if free == 0 {
                return Ok(());
            }
            let now = Timestamp::now();
            // A read first: an idle node does not take SQLite's write lock every poll.
            if !looked && !self.store.webhooks.due_deliveries_exist(now).await? {
                return Ok(());
            }
            looked = true;
            let (skip, skip_tenants, per_tenant) = {
                let busy = lock(busy);
                let skip: Vec<WebhookId> = busy
                    .webhooks
                    .iter()
                    .filter(|(_, n)| **n >= settings.max_in_flight_per_webhook)
                    .map(|(id, _)| id.clone())
                    .collect();
                let cap = settings.max_in_flight_per_tenant.max(1);
                let skip_tenants: Vec<TenantId> = busy
                    .tenants
                    .iter()
                    .filter(|(_, n)| **n >= cap)
                    .map(|(id, _)| id.clone())
                    .collect();
                // Room left to the busiest tenant below its cap: no tenant goes over it.
                let busiest = busy.tenants.values().filter(|n| **n < cap).max().copied();
                (skip, skip_tenants, cap - busiest.unwrap_or_default())
            };
            let limit = u32::try_from(free).unwrap_or(u32::MAX);
            let per_tenant = u32::try_from(per_tenant).unwrap_or(u32::MAX);
            let claim = Claim {
                skip_webhooks: &skip,
                skip_tenants: &skip_tenants,
                per_tenant,
                ..Claim::new(&self.webhooks.holder, now, now + LEASE, limit)
            };
            let claimed = self.store.webhooks.claim_deliveries(&claim).await?;
            if claimed.is_empty() {
                return Ok(());
            }
            for delivery in claimed {
                let Ok(permit) = slots.clone().acquire_owned().await else { return Ok(()) };
                lock(busy).add(&delivery);
                let (engine, settings, busy) = (self.clone(), settings.clone(), busy.clone());
                let wake = self.webhooks.wake.clone();
                tokio::spawn(async move {
                    let (tenant, webhook) =
                        (delivery.tenant_id.clone(), delivery.webhook_id.clone());
                    engine.attempt_delivery(delivery, &settings).await;
                    lock(&busy).remove(&tenant, &webhook);
                    drop(permit);
                    // A slot is free: look for more at once.
                    wake.notify_one();
                });
            }
        }
    }

    /// The secrets to sign a delivery with: the current one, and the previous one during its
    /// grace period.
    fn signing_secrets(
        &self,
        d: &ClaimedDelivery,
    ) -> Result<Vec<sb_secrets::Secret<String>>, EngineError> {
        let mut secrets =
            vec![self.open_webhook_secret(&d.tenant_id, &d.webhook_id, &d.secret_sealed)?];
        if let (Some(sealed), Some(until)) =
            (&d.previous_secret_sealed, d.previous_secret_expires_at)
            && until > Timestamp::now()
        {
            secrets.push(self.open_webhook_secret(&d.tenant_id, &d.webhook_id, sealed)?);
        }
        Ok(secrets)
    }

    /// Sends one delivery once, logs the attempt and schedules what follows.
    async fn attempt_delivery(&self, d: ClaimedDelivery, settings: &WebhookSettings) {
        let attempt = d.attempts + 1;
        let at = Timestamp::now();
        let attempted = match self.signing_secrets(&d) {
            Ok(secrets) => self.send_delivery(&d, &secrets, settings.timeout).await,
            Err(err) => {
                tracing::error!(delivery = %d.id, error = %err, "cannot sign a webhook delivery");
                Attempted {
                    status: None,
                    latency_ms: 0,
                    error: Some(("internal".into(), "the signing secret cannot be opened".into())),
                    excerpt: None,
                    gone: false,
                }
            }
        };
        let outcome = if attempted.error.is_none() {
            AttemptOutcome::Delivered
        } else if attempted.gone {
            AttemptOutcome::FailedAndDisable {
                reason: "the receiver answered 410 Gone: the webhook was switched off".into(),
            }
        } else {
            match settings.next_attempt(attempt, d.created_at, Timestamp::now()) {
                Some(next) => AttemptOutcome::Retry { at: next },
                None => AttemptOutcome::Failed,
            }
        };
        let label = match &outcome {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry { .. } => "retry",
            AttemptOutcome::Failed | AttemptOutcome::FailedAndDisable { .. } => "failed",
        };
        metrics::counter!("webhook_attempts_total", "outcome" => label).increment(1);
        tracing::debug!(
            delivery = %d.id, webhook = %d.webhook_id, attempt, status = attempted.status,
            code = attempted.error.as_ref().map(|e| e.0.as_str()), latency_ms = attempted.latency_ms,
            outcome = label, "webhook delivery attempt"
        );
        let (error_code, error_message) = attempted.error.unzip();
        let record = AttemptRecord {
            tenant_id: d.tenant_id.clone(),
            delivery_id: d.id.clone(),
            webhook_id: d.webhook_id.clone(),
            attempt,
            at,
            status: attempted.status,
            latency_ms: attempted.latency_ms,
            error_code,
            error_message,
            response_excerpt: attempted.excerpt,
        };
        self.record_attempt(record, &outcome).await;
    }

    /// Logs an attempt and moves its delivery on. A failure is retried, the last time without
    /// the receiver's text (should that be what the database refuses): a delivery whose attempt
    /// cannot be logged would otherwise be sent again each time its claim runs out, with its
    /// attempts never counted, so never given up.
    async fn record_attempt(&self, mut record: AttemptRecord, outcome: &AttemptOutcome) {
        const TRIES: u32 = 3;
        for tried in 1..=TRIES {
            if tried == TRIES {
                record.response_excerpt = None;
                record.error_message = record.error_message.map(|_| "(not kept)".to_owned());
            }
            match self.store.webhooks.record_attempt(&self.webhooks.holder, &record, outcome).await
            {
                Ok(true) => return,
                Ok(false) => {
                    tracing::warn!(delivery = %record.delivery_id, "a webhook delivery's claim ran out during its attempt");
                    return;
                }
                Err(err) if tried < TRIES => {
                    tracing::warn!(delivery = %record.delivery_id, error = %err, "could not log a webhook attempt; trying again");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(tried))).await;
                }
                // The claim runs out and the delivery is attempted again: at least once.
                Err(err) => {
                    tracing::error!(delivery = %record.delivery_id, error = %err, "could not log a webhook attempt")
                }
            }
        }
    }

    async fn send_delivery(
        &self,
        d: &ClaimedDelivery,
        secrets: &[sb_secrets::Secret<String>],
        timeout: Duration,
    ) -> Attempted {
        let timestamp = Timestamp::now().as_second();
        let keys: Vec<&str> = secrets.iter().map(|s| s.expose().as_str()).collect();
        let signature =
            signing::signature_header(&keys, d.id.as_str(), timestamp, d.payload.as_bytes());
        let request = OutboundRequest::new(Method::POST, &d.url).and_then(|r| {
            r.header("webhook-id", d.id.as_str())?
                .header("webhook-timestamp", &timestamp.to_string())?
                .header("webhook-signature", &signature)?
                .body("application/json", d.payload.clone())
        });
        let started = Instant::now();
        let result = match request {
            Ok(mut request) => {
                // A redirect is an answer like any other non-2xx: receivers give their final URL.
                request.follow_redirects = false;
                // The status decides; a long answer is cut, not a failure.
                request.truncate_body = true;
                self.connector.http().send(request.timeout(timeout)).await
            }
            Err(err) => Err(err),
        };
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(response) => {
                let status = response.status.as_u16();
                let excerpt = excerpt(&response.body, &keys);
                let error = (!response.status.is_success()).then(|| {
                    ("http_error".to_owned(), format!("the receiver answered {}", response.status))
                });
                Attempted { status: Some(status), latency_ms, error, excerpt, gone: status == 410 }
            }
            Err(err) => Attempted {
                status: None,
                latency_ms,
                error: Some((err.code().to_owned(), loggable(&err.to_string()))),
                excerpt: None,
                gone: false,
            },
        }
    }
}

/// The delivery loop: claims and sends due deliveries whenever woken or polled.
async fn deliver(engine: Weak<WebhooksService>, settings: Arc<WebhookSettings>, wake: Arc<Notify>) {
    let slots = Arc::new(Semaphore::new(settings.max_in_flight.max(1)));
    let busy: Busy = Default::default();
    loop {
        {
            let Some(engine) = engine.upgrade() else { return };
            if let Err(err) = engine.claim_and_send(&settings, &slots, &busy).await {
                tracing::warn!(error = %err, "could not claim webhook deliveries");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(settings.poll_interval) => {}
            () = wake.notified() => {}
        }
    }
}
