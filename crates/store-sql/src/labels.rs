use async_trait::async_trait;
use sb_domain::{Label, LabelId, TenantId};
use sb_store::{LabelStore, StoreResult};

use crate::json::to_json;
use crate::{Db, Row, SqlStore, q};

fn label_from_row(row: &Row) -> StoreResult<Label> {
    Ok(Label {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        name: row.text("name")?,
        color: row.text("color")?,
        created_at: row.ts("created_at")?,
    })
}

/// `text` with `LIKE`'s wildcards (and the escape, `\`) escaped.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern
}

/// A `LIKE` pattern (escape `\`) matching a `labels_json` that holds `name`: its JSON string,
/// quotes included, so `vip` never matches `vip-gold`.
pub(crate) fn label_pattern(name: &str) -> String {
    format!("%{}%", like_pattern(&to_json(name)))
}

#[async_trait]
impl<D: Db> LabelStore for SqlStore<D> {
    async fn create_label(&self, label: &Label) -> StoreResult<()> {
        let query = q("INSERT INTO labels (id, tenant_id, name, color, created_at) \
                       VALUES ($1, $2, $3, $4, $5)")
        .text(label.id.as_str())
        .text(label.tenant_id.as_str())
        .text(&label.name)
        .text(&label.color)
        .ts(label.created_at);
        self.db.execute(query).await.map(drop)
    }

    async fn list_labels(&self, tenant: &TenantId) -> StoreResult<Vec<Label>> {
        let query = q("SELECT id, tenant_id, name, color, created_at FROM labels \
                       WHERE tenant_id = $1 ORDER BY name")
        .text(tenant.as_str());
        self.db.fetch_all(query).await?.iter().map(label_from_row).collect()
    }

    async fn delete_label(&self, tenant: &TenantId, id: &LabelId) -> StoreResult<Label> {
        let mut tx = self.db.begin().await?;
        let found = q("SELECT id, tenant_id, name, color, created_at FROM labels \
                       WHERE tenant_id = $1 AND id = $2")
        .text(tenant.as_str())
        .text(id.as_str());
        let label = label_from_row(&tx.fetch_one(found).await?)?;
        tx.execute(
            q("DELETE FROM labels WHERE tenant_id = $1 AND id = $2")
                .text(tenant.as_str())
                .text(id.as_str()),
        )
        .await?;
        let carrying = q("SELECT id, labels_json FROM conversations \
                          WHERE tenant_id = $1 AND labels_json LIKE $2 ESCAPE '\\'")
        .text(tenant.as_str())
        .text(label_pattern(&label.name));
        for row in tx.fetch_all(carrying).await? {
            let mut labels: Vec<String> = row.json("labels_json")?;
            labels.retain(|l| *l != label.name);
            tx.execute(
                q("UPDATE conversations SET labels_json = $1 \
                          WHERE tenant_id = $2 AND id = $3")
                .json(to_json(&labels))
                .text(tenant.as_str())
                .text(row.text("id")?),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(label)
    }
}
