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

use super::queue::BATCH;
use super::signing;
use crate::{Engine, EngineError};

/// How long a claim lasts: far longer than an attempt (at most 5 s) and its bookkeeping.
const LEASE: SignedDuration = SignedDuration::from_secs(60);
/// The receiver's answer kept in the log, at most.
const EXCERPT_BYTES: usize = 1024;

/// How the worker delivers (`[webhooks]` in the configuration).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// How often to look for due deliveries; new events wake the worker at once.
    pub poll_interval: Duration,
    /// The wait before each retry: the first after the first failure, and so on; the last
    /// repeats. Each wait is drawn between zero and this (full jitter).
    pub retry_delays: Vec<Duration>,
    /// No attempt is made later than this after the event; the delivery then fails for good.
    pub retry_window: Duration,
    /// The longest a receiver may take (the outbound client's ceiling applies too).
    pub timeout: Duration,
    pub max_in_flight: usize,
    pub max_in_flight_per_webhook: usize,
    /// At most this many of one tenant's deliveries at once on this node, so one tenant's
    /// hanging receivers cannot hold every slot.
    pub max_in_flight_per_tenant: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        let secs = Duration::from_secs;
        Self {
            poll_interval: secs(1),
            retry_delays: [5, 30, 120, 600, 1800, 3600, 7200].map(secs).to_vec(),
            retry_window: secs(24 * 3600),
            timeout: secs(5),
            max_in_flight: 8,
            max_in_flight_per_webhook: 2,
            max_in_flight_per_tenant: 4,
        }
    }
}

impl WebhookSettings {
    pub(crate) fn window(&self) -> SignedDuration {
        SignedDuration::try_from(self.retry_window).unwrap_or(SignedDuration::from_hours(24))
    }

    /// When to try again after attempt number `attempt` failed at `now`: a random point within
    /// that step's delay (full jitter), or `None` once that is past the retry window.
    fn next_attempt(
        &self,
        attempt: u32,
        created_at: Timestamp,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let index = (attempt as usize).saturating_sub(1);
        let step = self.retry_delays.get(index).or(self.retry_delays.last())?;
        let millis = u64::try_from(step.as_millis()).unwrap_or(u64::MAX);
        let delay = SignedDuration::from_millis(i64::try_from(jitter(millis)).unwrap_or(i64::MAX));
        let at = now.checked_add(delay).ok()?;
        (at <= created_at.checked_add(self.window()).ok()?).then_some(at)
    }
}

/// A uniformly random number of milliseconds from 0 to `max`.
fn jitter(max: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("operating system random source failed");
    u64::from_le_bytes(bytes) % max.saturating_add(1).max(1)
}

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

impl Engine {
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
            if !looked && !self.store.due_deliveries_exist(now).await? {
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
            let claimed = self.store.claim_deliveries(&claim).await?;
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
            match self.store.record_attempt(&self.webhooks.holder, &record, outcome).await {
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

/// The start of an answer for the log: at most [`EXCERPT_BYTES`] of text, with any signing
/// secret a receiver might echo replaced by `***` (before cutting, so a secret straddling the
/// cut leaves nothing behind) and control characters other than line breaks and tabs dropped.
fn excerpt(body: &[u8], secrets: &[&str]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    // The whole answer (at most the client's 1 MiB cap): control characters go first, so none
    // can hide a secret, then the secrets, then the cut.
    let mut text = loggable(&String::from_utf8_lossy(body));
    for secret in secrets {
        let key = secret.strip_prefix(signing::SECRET_PREFIX).unwrap_or(secret);
        text = text.replace(secret, "***");
        if !key.is_empty() {
            text = text.replace(key, "***");
        }
    }
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (!text.is_empty()).then_some(text)
}

/// `text` without control characters other than `\n`, `\r` and `\t`: storable in any database
/// (PostgreSQL's TEXT refuses NUL) and harmless in logs.
fn loggable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')).collect()
}

/// The delivery loop: claims and sends due deliveries whenever woken or polled.
async fn deliver(engine: Weak<Engine>, settings: Arc<WebhookSettings>, wake: Arc<Notify>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_with_jitter_until_the_window_closes() {
        let settings = WebhookSettings::default();
        let created: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        for _ in 0..200 {
            let first = settings.next_attempt(1, created, created).unwrap();
            assert!(first >= created && first <= created + SignedDuration::from_secs(5));
            let sixth = settings.next_attempt(6, created, created).unwrap();
            assert!(sixth <= created + SignedDuration::from_hours(1));
            // Past the schedule, the last step (2 h) repeats.
            let late = created + SignedDuration::from_hours(10);
            let tenth = settings.next_attempt(10, created, late).unwrap();
            assert!(tenth >= late && tenth <= late + SignedDuration::from_hours(2));
        }
        // Nothing is scheduled past 24 h after the event.
        let end = created + SignedDuration::from_hours(24);
        assert_eq!(settings.next_attempt(30, created, end + SignedDuration::from_secs(1)), None);
        let none = WebhookSettings { retry_delays: Vec::new(), ..WebhookSettings::default() };
        assert_eq!(none.next_attempt(1, created, created), None);
        let spread: std::collections::BTreeSet<u64> = (0..100).map(|_| jitter(1000)).collect();
        assert!(spread.len() > 50 && spread.iter().all(|ms| *ms <= 1000), "full jitter spreads");
    }

    #[test]
    fn excerpts_are_short_text_without_secrets() {
        let secret = "whsec_c2VjcmV0LWtleS1ieXRlcw==";
        let echoed = format!(
            "got whsec_c2VjcmV0LWtleS1ieXRlcw== and c2VjcmV0LWtleS1ieXRlcw== {}",
            "é".repeat(1000)
        );
        let text = excerpt(echoed.as_bytes(), &[secret]).unwrap();
        assert!(text.starts_with("got *** and *** "), "{text}");
        assert!(text.len() <= EXCERPT_BYTES && !text.contains("c2VjcmV0"));
        assert_eq!(excerpt(b"", &[secret]), None);
    }

    #[test]
    fn a_secret_straddling_the_cut_is_replaced_whole_and_control_characters_dropped() {
        let secret = "whsec_c2VjcmV0LWtleS1ieXRlcw==";
        for at in EXCERPT_BYTES - 20..EXCERPT_BYTES + 5 {
            let body = format!("{}{secret} tail", "a".repeat(at));
            let text = excerpt(body.as_bytes(), &[secret]).unwrap();
            assert!(!text.contains("whsec") && !text.contains("c2Vj"), "at {at}: {text}");
            assert!(text.len() <= EXCERPT_BYTES);
        }
        // A NUL cannot split a secret to hide it, and none is kept.
        let hidden = "ok\0 whsec_c2VjcmV0\0LWtleS1ieXRlcw==\r\n\u{1b}[1m";
        assert_eq!(excerpt(hidden.as_bytes(), &[secret]).unwrap(), "ok ***\r\n[1m");
        assert_eq!(excerpt(b"\0\0", &[secret]), None);
        assert_eq!(loggable("a\0b\tc\u{7f}"), "ab\tc");
    }
}
