use async_trait::async_trait;
use sb_domain::{Rule, RuleId, TenantId, WidgetId};
use sb_store::{RuleStore, StoreResult};

use crate::json::to_json;
use crate::{Db, Row, SqlStore, Tx, expect_found, q};

/// A rule's columns, for [`rule_from_row`].
macro_rules! columns {
    () => {
        "id, tenant_id, name, widget_id, priority, enabled, definition_json, created_at, updated_at"
    };
}

fn rule_from_row(row: &Row) -> StoreResult<Rule> {
    Ok(Rule {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        name: row.text("name")?,
        widget_id: row.opt_parse("widget_id")?,
        priority: i32::try_from(row.int("priority")?).unwrap_or(i32::MAX),
        enabled: row.boolean("enabled")?,
        definition: row.json("definition_json")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

#[async_trait]
impl<D: Db> RuleStore for SqlStore<D> {
    async fn create_rule(&self, r: &Rule) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let sql = concat!(
            "INSERT INTO rules (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let query = q(sql)
            .text(r.id.as_str())
            .text(r.tenant_id.as_str())
            .text(&r.name)
            .opt_text(r.widget_id.as_ref().map(|w| w.as_str()))
            .int(i64::from(r.priority))
            .boolean(r.enabled)
            .json(to_json(&r.definition))
            .ts(r.created_at)
            .ts(r.updated_at);
        tx.execute(query).await?;
        bump_revision(tx.as_mut(), &r.tenant_id).await?;
        tx.commit().await
    }

    async fn get_rule(&self, tenant: &TenantId, id: &RuleId) -> StoreResult<Rule> {
        let sql = concat!("SELECT ", columns!(), " FROM rules WHERE tenant_id = $1 AND id = $2");
        rule_from_row(&self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }

    async fn list_rules(&self, tenant: &TenantId) -> StoreResult<Vec<Rule>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM rules WHERE tenant_id = $1 ORDER BY priority, id"
        );
        self.db.fetch_all(q(sql).text(tenant.as_str())).await?.iter().map(rule_from_row).collect()
    }

    async fn rules_for_widget(
        &self,
        tenant: &TenantId,
        widget: &WidgetId,
    ) -> StoreResult<Vec<Rule>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM rules WHERE tenant_id = $1 AND enabled = $2 \
             AND (widget_id IS NULL OR widget_id = $3) ORDER BY priority, id"
        );
        let query = q(sql).text(tenant.as_str()).boolean(true).text(widget.as_str());
        self.db.fetch_all(query).await?.iter().map(rule_from_row).collect()
    }

    async fn update_rule(&self, r: &Rule) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let query = q("UPDATE rules SET name = $1, widget_id = $2, priority = $3, enabled = $4, \
                       definition_json = $5, updated_at = $6 WHERE tenant_id = $7 AND id = $8")
        .text(&r.name)
        .opt_text(r.widget_id.as_ref().map(|w| w.as_str()))
        .int(i64::from(r.priority))
        .boolean(r.enabled)
        .json(to_json(&r.definition))
        .ts(r.updated_at)
        .text(r.tenant_id.as_str())
        .text(r.id.as_str());
        expect_found(tx.execute(query).await?)?;
        bump_revision(tx.as_mut(), &r.tenant_id).await?;
        tx.commit().await
    }

    async fn delete_rule(&self, tenant: &TenantId, id: &RuleId) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let query = q("DELETE FROM rules WHERE tenant_id = $1 AND id = $2")
            .text(tenant.as_str())
            .text(id.as_str());
        expect_found(tx.execute(query).await?)?;
        bump_revision(tx.as_mut(), tenant).await?;
        tx.commit().await
    }

    async fn config_revision(&self, tenant: &TenantId) -> StoreResult<i64> {
        let query = q("SELECT config_revision FROM tenants WHERE id = $1").text(tenant.as_str());
        self.db.fetch_one(query).await?.int("config_revision")
    }
}

/// Counts a change to the tenant's rules, in the transaction that makes it.
async fn bump_revision(tx: &mut dyn Tx, tenant: &TenantId) -> StoreResult<()> {
    tx.execute(crate::bump_config_revision(tenant.as_str())).await.map(drop)
}
