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
mod ai;
mod api_keys;
mod call_stats;
mod connections;
mod conversations;
mod credentials;
mod db;
mod json;
mod kb;
mod lists;
mod rules;
mod sessions;
mod teams;
mod webhooks;
mod widgets;

pub use db::{Arg, Db, Query, Row, Tx, Value, q};

use async_trait::async_trait;
use sb_store::{Store, StoreResult};

/// Turns "no row affected" into `NotFound`.
fn expect_found(affected: u64) -> StoreResult<()> {
    if affected == 0 { Err(sb_store::StoreError::NotFound) } else { Ok(()) }
}

/// A [`Store`] over any [`Db`].
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
}

#[async_trait]
impl<D: Db> Store for SqlStore<D> {
    fn backend(&self) -> &'static str {
        self.db.backend()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.db.fetch_one(q("SELECT 1 AS one")).await.map(drop)
    }
}
