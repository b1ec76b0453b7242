use async_trait::async_trait;
use sb_domain::{TenantId, Widget, WidgetId};
use sb_store::{Page, PageRequest, StoreResult, StoredWidget, WidgetStore};

use crate::json::to_json;
use crate::{Db, Query, Row, SqlStore, each, expect_found, q};

/// A widget's columns, for [`widget_from_row`].
macro_rules! columns {
    () => {
        "id, tenant_id, name, greeting, active, ai_enabled, translation_enabled, primary_color, \
         position, allowed_origins_json, identity_secret_sealed, created_at, updated_at, \
         office_hours_json"
    };
}

fn widget_from_row(row: &Row) -> StoreResult<StoredWidget> {
    let widget = Widget {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        name: row.text("name")?,
        greeting: row.opt_text("greeting")?,
        active: row.boolean("active")?,
        ai_enabled: row.boolean("ai_enabled")?,
        translation_enabled: row.boolean("translation_enabled")?,
        primary_color: row.text("primary_color")?,
        position: row.parse("position")?,
        allowed_origins: row.json("allowed_origins_json")?,
        office_hours: row.opt_json("office_hours_json")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    };
    Ok(StoredWidget { widget, identity_secret_sealed: row.opt_text("identity_secret_sealed")? })
}

/// Binds the widget's mutable fields as $1..$11, in the order the INSERT and UPDATE name them.
fn bind_widget_fields(query: Query, w: &Widget, sealed: Option<&str>) -> Query {
    query
        .text(&w.name)
        .opt_text(w.greeting.clone())
        .boolean(w.active)
        .boolean(w.ai_enabled)
        .boolean(w.translation_enabled)
        .text(&w.primary_color)
        .text(w.position.as_str())
        .json(to_json(&w.allowed_origins))
        .opt_text(sealed)
        .ts(w.updated_at)
        .opt_json(w.office_hours.as_ref().map(to_json))
}

#[async_trait]
impl<D: Db> WidgetStore for SqlStore<D> {
    async fn create_widget(&self, w: &Widget, sealed: Option<&str>) -> StoreResult<()> {
        let sql = "INSERT INTO widgets (name, greeting, active, ai_enabled, translation_enabled, \
                   primary_color, position, allowed_origins_json, identity_secret_sealed, updated_at, \
                   office_hours_json, id, tenant_id, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
        let query = bind_widget_fields(q(sql), w, sealed)
            .text(w.id.as_str())
            .text(w.tenant_id.as_str())
            .ts(w.created_at);
        self.config_write(w.tenant_id.as_str(), query).await.map(drop)
    }

    async fn get_widget(&self, tenant: &TenantId, id: &WidgetId) -> StoreResult<StoredWidget> {
        let sql = concat!("SELECT ", columns!(), " FROM widgets WHERE tenant_id = $1 AND id = $2");
        widget_from_row(&self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }

    async fn find_widget(&self, id: &WidgetId) -> StoreResult<Option<StoredWidget>> {
        let sql = concat!("SELECT ", columns!(), " FROM widgets WHERE id = $1");
        self.db
            .fetch_optional(q(sql).text(id.as_str()))
            .await?
            .as_ref()
            .map(widget_from_row)
            .transpose()
    }

    async fn list_widgets(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredWidget>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM widgets WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let query = q(sql).text(tenant.as_str());
        self.fetch_page(query, page, each(widget_from_row), |w| w.widget.id.to_string()).await
    }

    async fn update_widget(&self, w: &Widget, sealed: Option<&str>) -> StoreResult<()> {
        let sql = "UPDATE widgets SET name = $1, greeting = $2, active = $3, ai_enabled = $4, \
                   translation_enabled = $5, primary_color = $6, position = $7, \
                   allowed_origins_json = $8, identity_secret_sealed = $9, updated_at = $10, \
                   office_hours_json = $11 WHERE tenant_id = $12 AND id = $13";
        let query =
            bind_widget_fields(q(sql), w, sealed).text(w.tenant_id.as_str()).text(w.id.as_str());
        expect_found(self.config_write(w.tenant_id.as_str(), query).await?)
    }

    async fn delete_widget(&self, tenant: &TenantId, id: &WidgetId) -> StoreResult<()> {
        self.delete_config(delete_owned_sql!("widgets"), tenant.as_str(), id.as_str()).await
    }
}
