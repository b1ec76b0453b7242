use async_trait::async_trait;
use sb_domain::{Channel, ChannelId, ChannelKind, ConversationId, TenantId, Timestamp};
use sb_store::{ChannelStore, ChannelThread, StoreResult, StoredChannel};

use crate::json::to_json;
use crate::{Db, Row, SqlStore, expect_found, q};

/// A channel's columns, for [`channel_from_row`].
macro_rules! columns {
    () => {
        "id, tenant_id, kind, name, widget_id, settings_json, secrets_sealed, active, created_at, \
         updated_at, inbound_state, inbound_generation"
    };
}

/// A thread's columns, for [`thread_from_row`].
macro_rules! thread_columns {
    () => {
        "tenant_id, conversation_id, channel_id, thread_key, delivered_seq, last_inbound_at, \
         attempts, template_sent_at, reply_context"
    };
}

fn channel_from_row(row: &Row) -> StoreResult<StoredChannel> {
    let channel = Channel {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        kind: row.parse("kind")?,
        name: row.text("name")?,
        widget_id: row.parse("widget_id")?,
        settings: row.json("settings_json")?,
        active: row.boolean("active")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    };
    Ok(StoredChannel {
        channel,
        sealed_secrets: row.opt_text("secrets_sealed")?,
        inbound_state: row.opt_text("inbound_state")?,
        inbound_generation: row.int("inbound_generation")?,
    })
}

fn thread_from_row(row: &Row) -> StoreResult<ChannelThread> {
    Ok(ChannelThread {
        tenant_id: row.parse("tenant_id")?,
        conversation_id: row.parse("conversation_id")?,
        channel_id: row.parse("channel_id")?,
        thread_key: row.text("thread_key")?,
        delivered_seq: row.int("delivered_seq")?,
        last_inbound_at: row.ts("last_inbound_at")?,
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
        template_sent_at: row.opt_ts("template_sent_at")?,
        reply_context: row.opt_text("reply_context")?,
    })
}

#[async_trait]
impl<D: Db> ChannelStore for SqlStore<D> {
    async fn create_channel(&self, c: &Channel, sealed: Option<&str>) -> StoreResult<()> {
        let query =
            q("INSERT INTO channels (id, tenant_id, kind, name, widget_id, settings_json, \
                       secrets_sealed, active, created_at, updated_at) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .text(c.id.as_str())
            .text(c.tenant_id.as_str())
            .text(c.kind.as_str())
            .text(&c.name)
            .text(c.widget_id.as_str())
            .json(to_json(&c.settings))
            .opt_text(sealed)
            .boolean(c.active)
            .ts(c.created_at)
            .ts(c.updated_at);
        self.db.execute(query).await.map(drop)
    }

    async fn update_channel(&self, c: &Channel, sealed: Option<Option<&str>>) -> StoreResult<()> {
        let query = q("UPDATE channels SET name = $1, widget_id = $2, settings_json = $3, \
                       active = $4, updated_at = $5, \
                       secrets_sealed = CASE WHEN $6 THEN $7 ELSE secrets_sealed END \
                       WHERE tenant_id = $8 AND id = $9")
        .text(&c.name)
        .text(c.widget_id.as_str())
        .json(to_json(&c.settings))
        .boolean(c.active)
        .ts(c.updated_at)
        .boolean(sealed.is_some())
        .opt_text(sealed.flatten())
        .text(c.tenant_id.as_str())
        .text(c.id.as_str());
        expect_found(self.db.execute(query).await?)
    }

    async fn get_channel(&self, tenant: &TenantId, id: &ChannelId) -> StoreResult<StoredChannel> {
        let sql = concat!("SELECT ", columns!(), " FROM channels WHERE tenant_id = $1 AND id = $2");
        channel_from_row(&self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }

    async fn find_channel(&self, id: &ChannelId) -> StoreResult<Option<StoredChannel>> {
        let sql = concat!("SELECT ", columns!(), " FROM channels WHERE id = $1");
        let row = self.db.fetch_optional(q(sql).text(id.as_str())).await?;
        row.as_ref().map(channel_from_row).transpose()
    }

    async fn list_channels(&self, tenant: &TenantId) -> StoreResult<Vec<StoredChannel>> {
        let sql = concat!("SELECT ", columns!(), " FROM channels WHERE tenant_id = $1 ORDER BY id");
        let rows = self.db.fetch_all(q(sql).text(tenant.as_str())).await?;
        rows.iter().map(channel_from_row).collect()
    }

    async fn delete_channel(&self, tenant: &TenantId, id: &ChannelId) -> StoreResult<()> {
        self.delete_owned(delete_owned_sql!("channels"), tenant.as_str(), id.as_str()).await
    }

    async fn channels_of_kind(&self, kind: ChannelKind) -> StoreResult<Vec<StoredChannel>> {
        let sql = concat!("SELECT ", columns!(), " FROM channels WHERE kind = $1 ORDER BY id");
        let rows = self.db.fetch_all(q(sql).text(kind.as_str())).await?;
        rows.iter().map(channel_from_row).collect()
    }

    async fn set_inbound_state(
        &self,
        channel: &ChannelId,
        state: &str,
        generation: i64,
    ) -> StoreResult<bool> {
        let query =
            q("UPDATE channels SET inbound_state = $1 WHERE id = $2 AND inbound_generation = $3")
                .text(state)
                .text(channel.as_str())
                .int(generation);
        Ok(self.db.execute(query).await? == 1)
    }

    async fn reset_inbound(&self, channel: &ChannelId) -> StoreResult<()> {
        let query = q("UPDATE channels SET inbound_state = NULL, \
                       inbound_generation = inbound_generation + 1 WHERE id = $1")
        .text(channel.as_str());
        self.db.execute(query).await.map(drop)
    }

    async fn release_inbound(&self, by: &str) -> StoreResult<()> {
        let query = q("UPDATE channels SET inbound_locked_by = NULL, inbound_locked_until = NULL \
                       WHERE inbound_locked_by = $1")
        .text(by);
        self.db.execute(query).await.map(drop)
    }

    async fn claim_inbound(
        &self,
        channel: &ChannelId,
        by: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<bool> {
        let query = q("UPDATE channels SET inbound_locked_by = $1, inbound_locked_until = $2 \
                       WHERE id = $3 AND (inbound_locked_until IS NULL \
                       OR inbound_locked_until < $4 OR inbound_locked_by = $1)")
        .text(by)
        .ts(until)
        .text(channel.as_str())
        .ts(now);
        Ok(self.db.execute(query).await? == 1)
    }

    async fn note_inbound(
        &self,
        channel: &ChannelId,
        external_id: &str,
        thread_key: Option<&str>,
        at: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<bool> {
        // A row noted long ago and never taken is an abandoned attempt: noted anew.
        let query = q("INSERT INTO channel_inbound (channel_id, external_id, received_at, \
                       thread_key) VALUES ($1, $2, $3, $4) \
                       ON CONFLICT (channel_id, external_id) DO UPDATE SET received_at = $3 \
                       WHERE channel_inbound.taken_at IS NULL \
                       AND channel_inbound.received_at < $5")
        .text(channel.as_str())
        .text(external_id)
        .ts(at)
        .opt_text(thread_key)
        .ts(stale_before);
        Ok(self.db.execute(query).await? == 1)
    }

    async fn mark_inbound_taken(
        &self,
        channel: &ChannelId,
        external_id: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        let query = q("UPDATE channel_inbound SET taken_at = $1 \
                       WHERE channel_id = $2 AND external_id = $3")
        .ts(at)
        .text(channel.as_str())
        .text(external_id);
        self.db.execute(query).await.map(drop)
    }

    async fn prune_inbound(&self, before: Timestamp) -> StoreResult<u64> {
        let query = q("DELETE FROM channel_inbound WHERE received_at < $1").ts(before);
        self.db.execute(query).await
    }

    async fn inbound_thread(
        &self,
        channel: &ChannelId,
        external_id: &str,
    ) -> StoreResult<Option<String>> {
        let query = q("SELECT thread_key FROM channel_inbound \
                       WHERE channel_id = $1 AND external_id = $2")
        .text(channel.as_str())
        .text(external_id);
        match self.db.fetch_optional(query).await? {
            Some(row) => row.opt_text("thread_key"),
            None => Ok(None),
        }
    }

    async fn forget_inbound(&self, channel: &ChannelId, external_id: &str) -> StoreResult<()> {
        let query = q("DELETE FROM channel_inbound WHERE channel_id = $1 AND external_id = $2")
            .text(channel.as_str())
            .text(external_id);
        self.db.execute(query).await.map(drop)
    }

    async fn find_thread(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        thread_key: &str,
    ) -> StoreResult<Option<ChannelThread>> {
        let sql = concat!(
            "SELECT ",
            thread_columns!(),
            " FROM channel_threads WHERE tenant_id = $1 AND channel_id = $2 AND thread_key = $3"
        );
        let query = q(sql).text(tenant.as_str()).text(channel.as_str()).text(thread_key);
        self.db.fetch_optional(query).await?.as_ref().map(thread_from_row).transpose()
    }

    async fn get_thread(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Option<ChannelThread>> {
        let sql = concat!(
            "SELECT ",
            thread_columns!(),
            " FROM channel_threads WHERE tenant_id = $1 AND conversation_id = $2"
        );
        let query = q(sql).text(tenant.as_str()).text(conversation.as_str());
        self.db.fetch_optional(query).await?.as_ref().map(thread_from_row).transpose()
    }

    async fn create_thread(&self, t: &ChannelThread) -> StoreResult<()> {
        let query = q(concat!(
            "INSERT INTO channel_threads (",
            thread_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .text(t.tenant_id.as_str())
        .text(t.conversation_id.as_str())
        .text(t.channel_id.as_str())
        .text(&t.thread_key)
        .int(t.delivered_seq)
        .ts(t.last_inbound_at)
        .int(i64::from(t.attempts))
        .opt_ts(t.template_sent_at)
        .opt_text(t.reply_context.as_deref());
        self.db.execute(query).await.map(drop)
    }

    async fn touch_thread(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        at: Timestamp,
    ) -> StoreResult<()> {
        let query = q("UPDATE channel_threads SET last_inbound_at = $1, next_attempt_at = NULL, \
                       attempts = 0 WHERE tenant_id = $2 AND conversation_id = $3")
        .ts(at)
        .text(tenant.as_str())
        .text(conversation.as_str());
        expect_found(self.db.execute(query).await?)
    }

    async fn set_reply_context(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        context: &str,
    ) -> StoreResult<()> {
        let query = q("UPDATE channel_threads SET reply_context = $1 \
                       WHERE tenant_id = $2 AND conversation_id = $3")
        .text(context)
        .text(tenant.as_str())
        .text(conversation.as_str());
        expect_found(self.db.execute(query).await?)
    }

    async fn claim_due_threads(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        by: &str,
        limit: u32,
    ) -> StoreResult<Vec<ChannelThread>> {
        // The inner SELECT finds threads behind their conversation; the outer condition is
        // checked again by the UPDATE itself, so two nodes never both claim one.
        let sql = concat!(
            "UPDATE channel_threads SET locked_until = $2, locked_by = $3 \
             WHERE conversation_id IN (SELECT t.conversation_id FROM channel_threads t \
                 JOIN conversations c ON c.tenant_id = t.tenant_id AND c.id = t.conversation_id \
                 JOIN channels ch ON ch.tenant_id = t.tenant_id AND ch.id = t.channel_id \
                 WHERE c.last_seq > t.delivered_seq AND ch.active = $5 \
                 AND (t.locked_until IS NULL OR t.locked_until < $1) \
                 AND (t.next_attempt_at IS NULL OR t.next_attempt_at <= $1) \
                 ORDER BY COALESCE(t.next_attempt_at, 0) LIMIT $4) \
             AND (locked_until IS NULL OR locked_until < $1) \
             RETURNING ",
            thread_columns!()
        );
        let query = q(sql).ts(now).ts(lease_until).text(by).int(i64::from(limit)).boolean(true);
        self.db.fetch_all(query).await?.iter().map(thread_from_row).collect()
    }

    async fn mark_delivered(&self, t: &ChannelThread, by: &str, seq: i64) -> StoreResult<bool> {
        let query = q("UPDATE channel_threads SET delivered_seq = $1, attempts = 0, \
                       next_attempt_at = NULL, last_error = NULL \
                       WHERE tenant_id = $2 AND conversation_id = $3 AND locked_by = $4 \
                       AND delivered_seq < $1")
        .int(seq)
        .text(t.tenant_id.as_str())
        .text(t.conversation_id.as_str())
        .text(by);
        Ok(self.db.execute(query).await? == 1)
    }

    async fn hold_thread(
        &self,
        t: &ChannelThread,
        by: &str,
        template_sent_at: Option<Timestamp>,
        until: Timestamp,
    ) -> StoreResult<()> {
        let query = q("UPDATE channel_threads SET template_sent_at = $1, next_attempt_at = $2 \
                       WHERE tenant_id = $3 AND conversation_id = $4 AND locked_by = $5 \
                       AND last_inbound_at = $6")
        .opt_ts(template_sent_at)
        .ts(until)
        .text(t.tenant_id.as_str())
        .text(t.conversation_id.as_str())
        .text(by)
        .ts(t.last_inbound_at);
        self.db.execute(query).await.map(drop)
    }

    async fn mark_delivery_failed(
        &self,
        t: &ChannelThread,
        by: &str,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> StoreResult<()> {
        let query = q("UPDATE channel_threads SET attempts = attempts + 1, last_error = $1, \
                       next_attempt_at = CASE WHEN last_inbound_at = $2 THEN $3 ELSE NULL END \
                       WHERE tenant_id = $4 AND conversation_id = $5 AND locked_by = $6")
        .text(error)
        .ts(t.last_inbound_at)
        .ts(next_attempt_at)
        .text(t.tenant_id.as_str())
        .text(t.conversation_id.as_str())
        .text(by);
        self.db.execute(query).await.map(drop)
    }

    async fn failing_deliveries(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
    ) -> StoreResult<(u64, Option<String>)> {
        let count = q("SELECT COUNT(*) AS failing FROM channel_threads \
                       WHERE tenant_id = $1 AND channel_id = $2 AND attempts > 0")
        .text(tenant.as_str())
        .text(channel.as_str());
        let failing_count = self.db.fetch_one(count).await?.int("failing")?;
        let latest = q("SELECT last_error FROM channel_threads \
                        WHERE tenant_id = $1 AND channel_id = $2 AND attempts > 0 \
                        ORDER BY COALESCE(next_attempt_at, 0) DESC, conversation_id LIMIT 1")
        .text(tenant.as_str())
        .text(channel.as_str());
        let error = match self.db.fetch_optional(latest).await? {
            Some(row) => row.opt_text("last_error")?,
            None => None,
        };
        Ok((u64::try_from(failing_count).unwrap_or(0), error))
    }

    async fn release_thread(&self, t: &ChannelThread, by: &str) -> StoreResult<()> {
        let query = q("UPDATE channel_threads SET locked_until = NULL, locked_by = NULL \
                       WHERE tenant_id = $1 AND conversation_id = $2 AND locked_by = $3")
        .text(t.tenant_id.as_str())
        .text(t.conversation_id.as_str())
        .text(by);
        self.db.execute(query).await.map(drop)
    }
}
