use async_trait::async_trait;
use sb_domain::{ApiKey, ApiKeyId, ApiKeyScope, TenantId, Timestamp};
use sb_store::{ApiKeyStore, Page, PageRequest, StoreResult};

use crate::{Db, Row, SqlStore, each, q};

/// An API key's columns, for [`api_key_from_row`].
macro_rules! columns {
    () => {
        "id, tenant_id, name, prefix, role, scopes, created_by, created_at, last_used_at"
    };
}

fn api_key_from_row(row: &Row) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        name: row.text("name")?,
        prefix: row.text("prefix")?,
        role: row.parse("role")?,
        scopes: ApiKeyScope::from_stored(&row.text("scopes")?),
        created_by: row.opt_parse("created_by")?,
        created_at: row.ts("created_at")?,
        last_used_at: row.opt_ts("last_used_at")?,
    })
}

#[async_trait]
impl<D: Db> ApiKeyStore for SqlStore<D> {
    async fn create_api_key(&self, key: &ApiKey, key_hash: &str) -> StoreResult<()> {
        self.db
            .execute(
                q("INSERT INTO api_keys \
                   (id, tenant_id, name, prefix, key_hash, role, scopes, created_by, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .text(key.id.as_str())
                .text(key.tenant_id.as_str())
                .text(&key.name)
                .text(&key.prefix)
                .text(key_hash)
                .text(key.role.as_str())
                .text(ApiKeyScope::to_stored(&key.scopes))
                .opt_text(key.created_by.as_ref().map(|u| u.as_str()))
                .ts(key.created_at),
            )
            .await
            .map(drop)
    }

    async fn list_api_keys(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<ApiKey>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM api_keys WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let query = q(sql).text(tenant.as_str());
        self.fetch_page(query, page, each(api_key_from_row), |k| k.id.to_string()).await
    }

    async fn delete_api_key(&self, tenant: &TenantId, id: &ApiKeyId) -> StoreResult<()> {
        self.delete_owned(delete_owned_sql!("api_keys"), tenant.as_str(), id.as_str()).await
    }

    async fn find_api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let row = self
            .db
            .fetch_optional(
                q(concat!("SELECT ", columns!(), " FROM api_keys WHERE key_hash = $1"))
                    .text(key_hash),
            )
            .await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    async fn touch_api_key(&self, id: &ApiKeyId, used_at: Timestamp) -> StoreResult<()> {
        self.db
            .execute(
                q("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .ts(used_at)
                    .text(id.as_str()),
            )
            .await
            .map(drop)
    }
}
