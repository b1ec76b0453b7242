use async_trait::async_trait;
use sb_domain::{AuditEntry, AuditId, ContactId, ConversationId, TenantId, Timestamp};
use sb_store::{Erased, Page, PageRequest, PrivacyStore, StoreResult};

use crate::attachments::remove_files;
use crate::db::Tx;
use crate::json::to_json;
use crate::labels::like_pattern;
use crate::{Db, Row, SqlStore, bump_config_revision, expect_found, q};

fn entry_from_row(row: &Row) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        at: row.ts("at")?,
        actor_user_id: row.opt_parse("actor_user_id")?,
        actor_email: row.opt_text("actor_email")?,
        actor_api_key_id: row.opt_parse("actor_api_key_id")?,
        action: row.text("action")?,
        target: row.opt_text("target")?,
        details: row.json("details_json")?,
    })
}

/// Where a page of the audit log continues: `<ms>.<id>` of the last entry shown.
fn parse_cursor(text: &str) -> Option<(Timestamp, AuditId)> {
    let (millis, id) = text.split_once('.')?;
    Some((Timestamp::from_millisecond(millis.parse().ok()?).ok()?, id.parse().ok()?))
}

/// Deletes a conversation (its messages, notes, trace, actions, read marks, attachments and
/// search words go with it) and the webhook deliveries whose payload names it (conversation
/// ids are unique). Adds the attachments whose files are to be removed after the commit to
/// `files`.
async fn delete_one(
    tx: &mut Box<dyn Tx>,
    tenant: &str,
    id: &str,
    files: &mut Vec<String>,
) -> StoreResult<(u64, u64)> {
    for row in tx.fetch_all(crate::attachments::files_of(tenant, id)).await? {
        files.push(row.text("id")?);
    }
    let deliveries = tx
        .execute(
            q("DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND payload LIKE $2 ESCAPE '\\'")
                .text(tenant)
                .text(format!("%{}%", like_pattern(&to_json(id)))),
        )
        .await?;
    let conversations = tx
        .execute(
            q("DELETE FROM conversations WHERE tenant_id = $1 AND id = $2").text(tenant).text(id),
        )
        .await?;
    Ok((conversations, deliveries))
}

#[async_trait]
impl<D: Db> PrivacyStore for SqlStore<D> {
    async fn record_audit(&self, e: &AuditEntry) -> StoreResult<()> {
        let query =
            q("INSERT INTO audit_log (id, tenant_id, at, actor_user_id, actor_api_key_id, \
                       action, target, details_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .text(e.id.as_str())
            .text(e.tenant_id.as_str())
            .ts(e.at)
            .opt_text(e.actor_user_id.as_ref().map(|u| u.as_str()))
            .opt_text(e.actor_api_key_id.as_ref().map(|k| k.as_str()))
            .text(&e.action)
            .opt_text(e.target.as_deref())
            .json(to_json(&e.details));
        self.db.execute(query).await.map(drop)
    }

    async fn list_audit(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditEntry>> {
        let after = match page.after.as_deref() {
            None => None,
            Some(text) => match parse_cursor(text) {
                Some(cursor) => Some(cursor),
                None => return Ok(Page { items: Vec::new(), next: None }),
            },
        };
        let query = q("SELECT a.id, a.tenant_id, a.at, a.actor_user_id, u.email AS actor_email, \
             a.actor_api_key_id, a.action, a.target, a.details_json FROM audit_log a \
             LEFT JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.actor_user_id \
             WHERE a.tenant_id = $1 \
             AND ($3 = '' OR a.at < $2 OR (a.at = $2 AND a.id < $3)) \
             ORDER BY a.at DESC, a.id DESC LIMIT $4")
        .text(tenant.as_str())
        .ts(after.as_ref().map_or(Timestamp::UNIX_EPOCH, |a| a.0))
        .text(after.as_ref().map(|a| a.1.as_str()).unwrap_or_default())
        .int(page.fetch_limit());
        let rows = self.db.fetch_all(query).await?;
        let items = rows.iter().map(entry_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok(page.finish(items, |e| format!("{}.{}", e.at.as_millisecond(), e.id)))
    }

    async fn erase_contact(&self, tenant: &TenantId, contact: &ContactId) -> StoreResult<Erased> {
        let mut tx = self.db.begin().await?;
        let found = q("SELECT id FROM contacts WHERE tenant_id = $1 AND id = $2")
            .text(tenant.as_str())
            .text(contact.as_str());
        tx.fetch_one(found).await?;
        let ids = q("SELECT id FROM conversations WHERE tenant_id = $1 AND contact_id = $2")
            .text(tenant.as_str())
            .text(contact.as_str());
        let mut erased = Erased::default();
        let mut files = Vec::new();
        for row in tx.fetch_all(ids).await? {
            let (conversations, deliveries) =
                delete_one(&mut tx, tenant.as_str(), &row.text("id")?, &mut files).await?;
            erased.conversations += conversations;
            erased.webhook_deliveries += deliveries;
        }
        let gone = q("DELETE FROM contacts WHERE tenant_id = $1 AND id = $2")
            .text(tenant.as_str())
            .text(contact.as_str());
        expect_found(tx.execute(gone).await?)?;
        // Every node drops what it keeps of the tenant (answers cached from its endpoints).
        tx.execute(bump_config_revision(tenant.as_str())).await?;
        tx.commit().await?;
        erased.attachments = files.len() as u64;
        // The erasure stands once committed: a file that cannot be removed now is no longer
        // named by any row, and the hourly sweep removes it.
        let _ = remove_files(self.db.file_dir(), files).await;
        Ok(erased)
    }

    async fn expired_conversations(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(TenantId, ConversationId)>> {
        // A day is 86,400,000 ms; the cut-off is the tenant's own.
        let query = q("SELECT c.tenant_id, c.id FROM conversations c \
             JOIN tenants t ON t.id = c.tenant_id \
             WHERE t.retention_days IS NOT NULL AND c.status = 'closed' \
             AND COALESCE(c.last_message_at, c.updated_at) < $1 - t.retention_days * 86400000 \
             ORDER BY COALESCE(c.last_message_at, c.updated_at) LIMIT $2")
        .ts(now)
        .int(i64::from(limit));
        let rows = self.db.fetch_all(query).await?;
        rows.iter().map(|row| Ok((row.parse("tenant_id")?, row.parse("id")?))).collect()
    }

    async fn delete_idle_contacts(&self, now: Timestamp) -> StoreResult<u64> {
        let query = q("DELETE FROM contacts WHERE EXISTS (SELECT 1 FROM tenants t \
             WHERE t.id = contacts.tenant_id AND t.retention_days IS NOT NULL \
             AND contacts.last_seen_at < $1 - t.retention_days * 86400000) \
             AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.contact_id = contacts.id)")
        .ts(now);
        self.db.execute(query).await
    }

    async fn delete_conversation(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let mut files = Vec::new();
        let (deleted, _) =
            delete_one(&mut tx, tenant.as_str(), conversation.as_str(), &mut files).await?;
        expect_found(deleted)?;
        tx.commit().await?;
        // As for an erasure: what cannot be removed now, the sweep removes.
        let _ = remove_files(self.db.file_dir(), files).await;
        Ok(())
    }

    async fn scrub(&self) -> StoreResult<()> {
        self.db.scrub().await
    }
}
