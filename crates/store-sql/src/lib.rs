//! Switchboard's store logic, written once over the [`Db`] seam and shared by the SQLite and
//! PostgreSQL backends. Each backend crate supplies the driver, the migrations and the mapping
//! of driver errors; everything above that lives here, so the two backends cannot drift apart.

/// The statement for [`SqlStore::delete_owned`]: row `$2` of `$table`, if it is tenant `$1`'s.
macro_rules! delete_owned_sql {
    ($table:literal) => {
        concat!("DELETE FROM ", $table, " WHERE tenant_id = $1 AND id = $2")
    };
}

mod accounts;
mod actions;
mod ai;
mod analytics;
mod api_keys;
mod attachments;
mod call_stats;
mod canned;
mod channels;
mod connections;
mod contacts;
mod conversations;
mod credentials;
mod db;
mod inbox;
mod json;
mod kb;
mod labels;
mod lists;
mod notes;
mod privacy;
mod ratings;
mod rules;
mod search;
mod sessions;
mod teams;
mod test_cases;
mod webhooks;
mod widgets;

pub use db::{Arg, Db, Query, Row, Tx, Value, q};

use async_trait::async_trait;
use sb_store::{Database, Page, PageRequest, StoreResult};

/// Turns "no row affected" into `NotFound`.
fn expect_found(affected: u64) -> StoreResult<()> {
    if affected == 0 { Err(sb_store::StoreError::NotFound) } else { Ok(()) }
}

/// Counts a change to the tenant's configuration (see [`SqlStore::config_write`]).
pub(crate) fn bump_config_revision(tenant: &str) -> Query {
    q("UPDATE tenants SET config_revision = config_revision + 1 WHERE id = $1").text(tenant)
}

/// A [`sb_store::Store`] over any [`Db`].
pub struct SqlStore<D> {
    db: D,
}

impl<D: Db> SqlStore<D> {
    pub fn new(db: D) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &D {
        &self.db
    }

    /// Deletes the row `id` of a table if it belongs to `tenant`; otherwise it is not found.
    /// `sql` is `delete_owned_sql!("table")`.
    async fn delete_owned(&self, sql: &'static str, tenant: &str, id: &str) -> StoreResult<()> {
        expect_found(self.db.execute(q(sql).text(tenant).text(id)).await?)
    }

    /// [`Self::delete_owned`] for a row of the tenant's configuration (see
    /// [`Self::config_write`]).
    async fn delete_config(&self, sql: &'static str, tenant: &str, id: &str) -> StoreResult<()> {
        expect_found(self.config_write(tenant, q(sql).text(tenant).text(id)).await?)
    }

    /// Runs `query`, a change to `tenant`'s configuration (its settings, widgets, rules,
    /// connections, endpoints or AI settings), and counts the change in the tenant's
    /// configuration revision in the same transaction: nodes that cache the configuration
    /// notice it with one read. Returns the rows `query` changed.
    async fn config_write(&self, tenant: &str, query: Query) -> StoreResult<u64> {
        let mut tx = self.db.begin().await?;
        let changed = tx.execute(query).await?;
        tx.execute(bump_config_revision(tenant)).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// One page of a keyset-paginated list. The statement takes the cursor (the last id the
    /// caller saw, `''` for the first page) and the number of rows to fetch as its last two
    /// parameters, after those `query` has bound; `items` decodes the rows, `cursor_of` gives
    /// an item's id for the next page.
    async fn fetch_page<T>(
        &self,
        query: Query,
        page: &PageRequest,
        items: impl FnOnce(&[Row]) -> StoreResult<Vec<T>>,
        cursor_of: impl Fn(&T) -> String,
    ) -> StoreResult<Page<T>> {
        let query = query.text(page.after.clone().unwrap_or_default()).int(page.fetch_limit());
        let rows = self.db.fetch_all(query).await?;
        Ok(page.finish(items(&rows)?, cursor_of))
    }
}

/// Decodes each row with `decode`: the usual `items` of [`SqlStore::fetch_page`].
fn each<T>(decode: impl Fn(&Row) -> StoreResult<T>) -> impl FnOnce(&[Row]) -> StoreResult<Vec<T>> {
    move |rows| rows.iter().map(decode).collect()
}

#[async_trait]
impl<D: Db> sb_store::Store for SqlStore<D> {}

#[async_trait]
impl<D: Db> Database for SqlStore<D> {
    fn backend(&self) -> &'static str {
        self.db.backend()
    }

    fn shared_across_nodes(&self) -> bool {
        self.db.shared_across_nodes()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.db.fetch_one(q("SELECT 1 AS one")).await.map(drop)
    }
}
