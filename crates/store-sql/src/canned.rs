use async_trait::async_trait;
use sb_domain::{CannedReply, CannedReplyId, TenantId};
use sb_store::{CannedReplyStore, StoreResult};

use crate::{Db, Row, SqlStore, expect_found, q};

macro_rules! columns {
    () => {
        "id, tenant_id, shortcut, text, created_at, updated_at"
    };
}

fn reply_from_row(row: &Row) -> StoreResult<CannedReply> {
    Ok(CannedReply {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        shortcut: row.text("shortcut")?,
        text: row.text("text")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

#[async_trait]
impl<D: Db> CannedReplyStore for SqlStore<D> {
    async fn create_canned_reply(&self, r: &CannedReply) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO canned_replies (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6)"
        );
        let query = q(sql)
            .text(r.id.as_str())
            .text(r.tenant_id.as_str())
            .text(&r.shortcut)
            .text(&r.text)
            .ts(r.created_at)
            .ts(r.updated_at);
        self.db.execute(query).await.map(drop)
    }

    async fn list_canned_replies(&self, tenant: &TenantId) -> StoreResult<Vec<CannedReply>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM canned_replies WHERE tenant_id = $1 ORDER BY shortcut"
        );
        self.db.fetch_all(q(sql).text(tenant.as_str())).await?.iter().map(reply_from_row).collect()
    }

    async fn get_canned_reply(
        &self,
        tenant: &TenantId,
        id: &CannedReplyId,
    ) -> StoreResult<CannedReply> {
        let sql =
            concat!("SELECT ", columns!(), " FROM canned_replies WHERE tenant_id = $1 AND id = $2");
        reply_from_row(&self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }

    async fn update_canned_reply(&self, r: &CannedReply) -> StoreResult<()> {
        let query = q("UPDATE canned_replies SET shortcut = $1, text = $2, updated_at = $3 \
                       WHERE tenant_id = $4 AND id = $5")
        .text(&r.shortcut)
        .text(&r.text)
        .ts(r.updated_at)
        .text(r.tenant_id.as_str())
        .text(r.id.as_str());
        expect_found(self.db.execute(query).await?)
    }

    async fn delete_canned_reply(&self, tenant: &TenantId, id: &CannedReplyId) -> StoreResult<()> {
        let query = q("DELETE FROM canned_replies WHERE tenant_id = $1 AND id = $2")
            .text(tenant.as_str())
            .text(id.as_str());
        expect_found(self.db.execute(query).await?)
    }
}
