use std::collections::HashMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use sb_domain::webhook::{AttemptError, Delivery, DeliveryAttempt, Webhook};
use sb_domain::{DeliveryId, TenantId, Timestamp, WebhookId};
use sb_store::{
    AttemptOutcome, AttemptRecord, Claim, ClaimedDelivery, NewDelivery, Page, PageRequest,
    StoreError, StoreResult, StoredWebhook, WebhookStore,
};

use crate::json::to_json;
use crate::lists::{
    IN_LIST, RowInserts, delimited, in_runs, not_listed, placeholders, row_inserts,
};
use crate::{Db, Row, SqlStore, each, expect_found, q};

/// A webhook's columns, in the order `create_webhook` binds them.
macro_rules! columns {
    () => {
        "id, tenant_id, url, events_json, description, active, disabled_reason, secret_sealed, \
         previous_secret_sealed, previous_secret_expires_at, created_at, updated_at"
    };
}

/// A delivery's columns, for [`delivery_from_row`].
macro_rules! delivery_columns {
    () => {
        "id, webhook_id, event_type, payload, state, attempts, next_attempt_at, created_at, \
         finished_at"
    };
}

fn webhook_from_row(row: &Row) -> StoreResult<StoredWebhook> {
    let webhook = Webhook {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        url: row.text("url")?,
        events: row.json("events_json")?,
        description: row.text("description")?,
        active: row.boolean("active")?,
        disabled_reason: row.opt_text("disabled_reason")?,
        previous_secret_expires_at: row.opt_ts("previous_secret_expires_at")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    };
    Ok(StoredWebhook {
        webhook,
        secret_sealed: row.text("secret_sealed")?,
        previous_secret_sealed: row.opt_text("previous_secret_sealed")?,
    })
}

fn count(row: &Row, column: &str) -> StoreResult<u32> {
    u32::try_from(row.int(column)?)
        .map_err(|_| StoreError::Internal(format!("column {column}: out of range")))
}

fn delivery_from_row(row: &Row) -> StoreResult<Delivery> {
    let payload = row.text("payload")?;
    Ok(Delivery {
        id: row.parse("id")?,
        webhook_id: row.parse("webhook_id")?,
        event: row.parse("event_type")?,
        state: row.parse("state")?,
        attempt_count: count(row, "attempts")?,
        next_attempt_at: row.opt_ts("next_attempt_at")?,
        created_at: row.ts("created_at")?,
        finished_at: row.opt_ts("finished_at")?,
        payload: serde_json::from_str(&payload)
            .map_err(|err| StoreError::Internal(format!("column payload: {err}")))?,
        attempts: Vec::new(),
    })
}

fn attempt_from_row(row: &Row) -> StoreResult<DeliveryAttempt> {
    let error = match row.opt_text("error_code")? {
        None => None,
        Some(code) => {
            Some(AttemptError { code, message: row.opt_text("error_message")?.unwrap_or_default() })
        }
    };
    Ok(DeliveryAttempt {
        attempt: count(row, "attempt")?,
        at: row.ts("attempted_at")?,
        status: row.opt_int("status")?.and_then(|s| u16::try_from(s).ok()),
        latency_ms: u64::try_from(row.int("latency_ms")?).unwrap_or_default(),
        error,
        response_excerpt: row.opt_text("response_excerpt")?,
    })
}

/// Due, unclaimed and pending, of an active webhook (test events go to switched-off webhooks
/// too): what a worker may claim. Binds `$1` (now) and `$2` (true). Uses the partial index on
/// pending rows.
macro_rules! due {
    () => {
        "d.state = 'pending' AND d.next_attempt_at <= $1 \
         AND (d.locked_until IS NULL OR d.locked_until < $1) \
         AND (w.active = $2 OR d.event_type = 'webhook.test')"
    };
}

/// Queues deliveries (up to each of `ROW_COUNTS` a statement), six parameters each after `$1` (pending) and `$2`
/// (0). Joined with the webhooks, so a row whose webhook was deleted meanwhile (or belongs to
/// another tenant) is left out instead of failing the batch, and so are the rows of nulls that
/// pad a short batch. VALUES columns are named column1, column2, … in both databases. A row
/// already queued (a retried batch) is left alone; SQLite needs the WHERE to read ON CONFLICT
/// as the upsert clause.
static ENQUEUE: LazyLock<RowInserts> = LazyLock::new(|| {
    row_inserts(|count| {
        let rows: Vec<String> =
            (0..count).map(|i| format!("({})", placeholders(i * 6 + 3, 6))).collect();
        format!(
            "INSERT INTO webhook_deliveries (id, tenant_id, webhook_id, event_type, payload, state, \
             attempts, next_attempt_at, created_at) \
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5, $1, $2, v.column6, v.column6 \
             FROM (VALUES {}) AS v JOIN webhooks w ON w.tenant_id = v.column2 AND w.id = v.column3 \
             WHERE 1 = 1 ON CONFLICT (id) DO NOTHING",
            rows.join(", ")
        )
    })
});

/// The webhooks in `$1 …`, an `IN_LIST` of them.
static WEBHOOKS_IN: LazyLock<String> = LazyLock::new(|| {
    format!(
        concat!("SELECT ", columns!(), " FROM webhooks WHERE id IN ({})"),
        placeholders(1, IN_LIST)
    )
});

/// The attempts of tenant `$1`'s deliveries in `$2 …`, an `IN_LIST` of them.
static ATTEMPTS_IN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT delivery_id, attempt, attempted_at, status, latency_ms, error_code, error_message, \
         response_excerpt FROM webhook_attempts WHERE tenant_id = $1 AND delivery_id IN ({}) \
         ORDER BY delivery_id, attempt",
        placeholders(2, IN_LIST)
    )
});

/// Claims due deliveries, binding `$1` (now), `$2` (true), `$3` (lease until), `$4` (holder),
/// `$5` (limit), `$6` (per tenant) and, as [`delimited`] lists, `$7` (webhooks to skip) and
/// `$8` (tenants to skip).
///
/// The oldest due delivery of each webhook (so one busy webhook cannot take every slot), the
/// oldest `per_tenant` of those of each tenant (so one tenant with many webhooks cannot
/// either), then the oldest of those. The conditions are repeated on the row being updated: on
/// PostgreSQL a node whose candidate another node claimed (or rescheduled) meanwhile re-reads
/// the row after that node commits, finds it claimed or not due, and skips it; SQLite has one
/// writer.
const CLAIM: &str = concat!(
    "UPDATE webhook_deliveries SET locked_until = $3, locked_by = $4 WHERE id IN ( \
       SELECT id FROM ( \
         SELECT id, due, ROW_NUMBER() OVER ( \
           PARTITION BY tenant_id ORDER BY due, id) AS tenant_place \
         FROM ( \
           SELECT d.id AS id, d.tenant_id AS tenant_id, d.next_attempt_at AS due, \
             ROW_NUMBER() OVER (PARTITION BY d.webhook_id ORDER BY d.next_attempt_at, d.id) AS place \
           FROM webhook_deliveries d \
           JOIN webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id \
           WHERE ",
    due!(),
    " AND ",
    not_listed!("$7", "d.webhook_id"),
    " AND ",
    not_listed!("$8", "d.tenant_id"),
    " \
         ) ranked WHERE place = 1 \
       ) fair WHERE tenant_place <= $6 ORDER BY due, id LIMIT $5 \
     ) AND state = 'pending' AND next_attempt_at <= $1 \
     AND (locked_until IS NULL OR locked_until < $1) \
     RETURNING id, tenant_id, webhook_id, event_type, payload, attempts, created_at"
);

#[async_trait]
impl<D: Db> WebhookStore for SqlStore<D> {
    async fn create_webhook(&self, w: &Webhook, secret_sealed: &str) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO webhooks (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        let query = q(sql)
            .text(w.id.as_str())
            .text(w.tenant_id.as_str())
            .text(&w.url)
            .json(to_json(&w.events))
            .text(&w.description)
            .boolean(w.active)
            .opt_text(w.disabled_reason.clone())
            .text(secret_sealed)
            .opt_text(None::<String>)
            .opt_ts(None)
            .ts(w.created_at)
            .ts(w.updated_at);
        self.db.execute(query).await.map(drop)
    }

    async fn get_webhook(&self, tenant: &TenantId, id: &WebhookId) -> StoreResult<StoredWebhook> {
        let sql = concat!("SELECT ", columns!(), " FROM webhooks WHERE tenant_id = $1 AND id = $2");
        webhook_from_row(&self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }

    async fn list_webhooks(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<Webhook>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM webhooks WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let query = q(sql).text(tenant.as_str());
        let webhook = |row: &Row| webhook_from_row(row).map(|s| s.webhook);
        self.fetch_page(query, page, each(webhook), |w| w.id.to_string()).await
    }

    async fn count_webhooks(&self, tenant: &TenantId) -> StoreResult<u64> {
        let row = self
            .db
            .fetch_one(
                q("SELECT COUNT(*) AS n FROM webhooks WHERE tenant_id = $1").text(tenant.as_str()),
            )
            .await?;
        Ok(u64::try_from(row.int("n")?).unwrap_or_default())
    }

    async fn active_webhooks(&self, tenant: &TenantId) -> StoreResult<Vec<Webhook>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM webhooks WHERE tenant_id = $1 AND active = $2 ORDER BY id"
        );
        let rows = self.db.fetch_all(q(sql).text(tenant.as_str()).boolean(true)).await?;
        rows.iter().map(|row| webhook_from_row(row).map(|s| s.webhook)).collect()
    }

    async fn update_webhook(&self, w: &Webhook) -> StoreResult<()> {
        let query =
            q("UPDATE webhooks SET url = $1, events_json = $2, description = $3, active = $4, \
                       disabled_reason = $5, updated_at = $6 WHERE tenant_id = $7 AND id = $8")
            .text(&w.url)
            .json(to_json(&w.events))
            .text(&w.description)
            .boolean(w.active)
            .opt_text(w.disabled_reason.clone())
            .ts(w.updated_at)
            .text(w.tenant_id.as_str())
            .text(w.id.as_str());
        expect_found(self.db.execute(query).await?)
    }

    async fn rotate_webhook_secret(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
        secret_sealed: &str,
        previous_expires_at: Timestamp,
    ) -> StoreResult<()> {
        // One statement: the secret moved to `previous` is the one stored now, not one read
        // earlier (both databases read the old row's values on the right-hand side).
        let query = q("UPDATE webhooks SET previous_secret_sealed = secret_sealed, secret_sealed = $1, \
                       previous_secret_expires_at = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
        .text(secret_sealed)
        .ts(previous_expires_at)
        .ts(Timestamp::now())
        .text(tenant.as_str())
        .text(id.as_str());
        expect_found(self.db.execute(query).await?)
    }

    async fn delete_webhook(&self, tenant: &TenantId, id: &WebhookId) -> StoreResult<()> {
        self.delete_owned(delete_owned_sql!("webhooks"), tenant.as_str(), id.as_str()).await
    }

    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<()> {
        let start = |sql| q(sql).text("pending").int(0);
        self.insert_rows(&ENQUEUE, start, deliveries, |query, d| {
            query
                .text(d.id.as_str())
                .text(d.tenant_id.as_str())
                .text(d.webhook_id.as_str())
                .text(d.event.as_str())
                .text(&d.payload)
                .ts(d.created_at)
        })
        .await
    }

    async fn due_deliveries_exist(&self, now: Timestamp) -> StoreResult<bool> {
        let sql = concat!(
            "SELECT d.id AS id FROM webhook_deliveries d \
             JOIN webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id \
             WHERE ",
            due!(),
            " LIMIT 1"
        );
        Ok(self.db.fetch_optional(q(sql).ts(now).boolean(true)).await?.is_some())
    }

    async fn claim_deliveries(&self, claim: &Claim<'_>) -> StoreResult<Vec<ClaimedDelivery>> {
        let Claim { holder, now, lease_until, limit, per_tenant, .. } = *claim;
        let (skip, skip_tenants) = (claim.skip_webhooks, claim.skip_tenants);
        if limit == 0 || per_tenant == 0 {
            return Ok(Vec::new());
        }
        let query = q(CLAIM)
            .ts(now)
            .boolean(true)
            .ts(lease_until)
            .text(holder)
            .int(i64::from(limit))
            .int(i64::from(per_tenant))
            .text(delimited(skip.iter().map(WebhookId::as_str)))
            .text(delimited(skip_tenants.iter().map(TenantId::as_str)));
        let claimed = self.db.fetch_all(query).await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        // Where to send them, and the secrets to sign with.
        let ids =
            claimed.iter().map(|row| row.text("webhook_id")).collect::<StoreResult<Vec<_>>>()?;
        let mut webhooks = HashMap::new();
        for run in in_runs(ids.iter().map(String::as_str).collect()) {
            for row in self.db.fetch_all(q(WEBHOOKS_IN.as_str()).texts(run)).await? {
                let stored = webhook_from_row(&row)?;
                let key = (stored.webhook.tenant_id.clone(), stored.webhook.id.clone());
                webhooks.insert(key, stored);
            }
        }
        let mut out = Vec::with_capacity(claimed.len());
        for row in &claimed {
            let tenant_id: TenantId = row.parse("tenant_id")?;
            let webhook_id: WebhookId = row.parse("webhook_id")?;
            // Deleted between the claim and this read: its deliveries are gone with it.
            let Some(stored) = webhooks.get(&(tenant_id.clone(), webhook_id.clone())) else {
                continue;
            };
            out.push(ClaimedDelivery {
                id: row.parse("id")?,
                tenant_id,
                webhook_id,
                event: row.parse("event_type")?,
                payload: row.text("payload")?,
                attempts: count(row, "attempts")?,
                created_at: row.ts("created_at")?,
                url: stored.webhook.url.clone(),
                secret_sealed: stored.secret_sealed.clone(),
                previous_secret_sealed: stored.previous_secret_sealed.clone(),
                previous_secret_expires_at: stored.webhook.previous_secret_expires_at,
            });
        }
        Ok(out)
    }

    async fn record_attempt(
        &self,
        holder: &str,
        a: &AttemptRecord,
        outcome: &AttemptOutcome,
    ) -> StoreResult<bool> {
        let (next, finished) = match outcome {
            AttemptOutcome::Retry { at } => (Some(*at), None),
            _ => (None, Some(a.at)),
        };
        let mut tx = self.db.begin().await?;
        let moved = tx
            .execute(
                q("UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3, \
                   locked_until = NULL, locked_by = NULL, finished_at = $4 \
                   WHERE tenant_id = $5 AND id = $6 AND locked_by = $7")
                .text(outcome.state().as_str())
                .int(i64::from(a.attempt))
                .opt_ts(next)
                .opt_ts(finished)
                .text(a.tenant_id.as_str())
                .text(a.delivery_id.as_str())
                .text(holder),
            )
            .await?;
        if moved == 0 {
            // The claim ran out and another node took the delivery over: its attempt counts.
            return Ok(false);
        }
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        tx.execute(
            q("INSERT INTO webhook_attempts (tenant_id, delivery_id, attempt, attempted_at, status, \
               latency_ms, error_code, error_message, response_excerpt) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (delivery_id, attempt) DO NOTHING")
            .text(a.tenant_id.as_str())
            .text(a.delivery_id.as_str())
            .int(i64::from(a.attempt))
            .ts(a.at)
            .opt_int(a.status.map(i64::from))
            .int(clamp(a.latency_ms))
            .opt_text(a.error_code.clone())
            .opt_text(a.error_message.clone())
            .opt_text(a.response_excerpt.clone()),
        )
        .await?;
        if let AttemptOutcome::FailedAndDisable { reason } = outcome {
            tx.execute(
                q("UPDATE webhooks SET active = $1, disabled_reason = $2, updated_at = $3 \
                   WHERE tenant_id = $4 AND id = $5")
                .boolean(false)
                .text(reason)
                .ts(a.at)
                .text(a.tenant_id.as_str())
                .text(a.webhook_id.as_str()),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn list_deliveries(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        page: &PageRequest,
    ) -> StoreResult<Page<Delivery>> {
        let sql = concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2 \
             AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4"
        );
        let query = q(sql).text(tenant.as_str()).text(webhook.as_str());
        let mut page =
            self.fetch_page(query, page, each(delivery_from_row), |d| d.id.to_string()).await?;
        if page.items.is_empty() {
            return Ok(page);
        }
        let mut attempts: HashMap<DeliveryId, Vec<DeliveryAttempt>> = HashMap::new();
        for run in in_runs(page.items.iter().map(|d| d.id.as_str()).collect()) {
            let query = q(ATTEMPTS_IN.as_str()).text(tenant.as_str()).texts(run);
            for row in self.db.fetch_all(query).await? {
                let delivery = row.parse("delivery_id")?;
                attempts.entry(delivery).or_default().push(attempt_from_row(&row)?);
            }
        }
        for delivery in &mut page.items {
            delivery.attempts = attempts.remove(&delivery.id).unwrap_or_default();
        }
        Ok(page)
    }

    async fn fail_expired_deliveries(
        &self,
        created_before: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64> {
        // Only switched-off webhooks' deliveries: the worker gives up on the others itself,
        // after their last attempt.
        let query = q("UPDATE webhook_deliveries SET state = $1, next_attempt_at = NULL, locked_until = NULL, \
                       locked_by = NULL, finished_at = $2 WHERE state = 'pending' AND created_at < $3 \
                       AND (locked_until IS NULL OR locked_until < $2) AND EXISTS (SELECT 1 FROM webhooks w \
                       WHERE w.tenant_id = webhook_deliveries.tenant_id AND w.id = webhook_deliveries.webhook_id \
                       AND w.active = $4)")
        .text("failed")
        .ts(now)
        .ts(created_before)
        .boolean(false);
        self.db.execute(query).await
    }

    async fn prune_deliveries(&self, before: Timestamp) -> StoreResult<u64> {
        // Attempts go with their deliveries (ON DELETE CASCADE).
        self.db.execute(q("DELETE FROM webhook_deliveries WHERE created_at < $1").ts(before)).await
    }
}
