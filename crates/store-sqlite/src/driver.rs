//! Implements the portable [`Db`] seam over an sqlx SQLite pool.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use sb_store::StoreResult;
use sb_store_sql::{Arg, Db, Query, Row, Tx, Value};
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteRow};
use sqlx::{Column, Row as _, SqlitePool, Transaction, TypeInfo, ValueRef};

use crate::errors::map;

/// Reads go to a pool of connections; every write goes to one writer connection. SQLite lets
/// one writer in at a time anyway, and writers that race for its lock do not queue: the loser
/// sleeps in the busy handler (backing off to 100 ms) and retries, so under load throughput
/// collapses. Queuing writes in the process instead keeps them moving in order.
pub struct SqliteDb {
    readers: SqlitePool,
    writer: SqlitePool,
}

impl SqliteDb {
    pub(crate) fn new(readers: SqlitePool, writer: SqlitePool) -> Self {
        Self { readers, writer }
    }

    /// The writer: for migrations and maintenance statements.
    pub fn pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// The pool `sql` runs on: anything but a plain read may write.
    fn pool_for(&self, sql: &str) -> &SqlitePool {
        let head = sql.trim_start().get(..6).unwrap_or_default();
        if head.eq_ignore_ascii_case("select") { &self.readers } else { &self.writer }
    }
}

type SqlxQuery<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

fn prepare(query: Query) -> SqlxQuery<'static> {
    // A `&'static str` made only from constants: sqlx takes it as safe SQL as it is.
    let mut prepared = sqlx::query(query.sql);
    for arg in query.args {
        prepared = match arg {
            Arg::Text(v) | Arg::Json(v) => prepared.bind(v),
            Arg::Int(v) => prepared.bind(v),
            Arg::Bool(v) => prepared.bind(v),
            Arg::Real(v) => prepared.bind(v),
        };
    }
    prepared
}

/// Reads values by their storage class, which in SQLite belongs to the value, not the column.
fn convert(rows: Vec<SqliteRow>) -> StoreResult<Vec<Row>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns: Arc<HashMap<String, usize>> =
        Arc::new(first.columns().iter().map(|c| (c.name().to_owned(), c.ordinal())).collect());
    rows.iter()
        .map(|row| {
            let values = (0..row.len())
                .map(|i| {
                    let raw = row.try_get_raw(i).map_err(map)?;
                    if raw.is_null() {
                        return Ok(Value::Null);
                    }
                    let value = match raw.type_info().name() {
                        "INTEGER" => Value::Int(row.try_get(i).map_err(map)?),
                        "REAL" => Value::Real(row.try_get(i).map_err(map)?),
                        _ => Value::Text(row.try_get(i).map_err(map)?),
                    };
                    Ok(value)
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Row::new(columns.clone(), values))
        })
        .collect()
}

#[async_trait]
impl Db for SqliteDb {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    /// The file belongs to one process: a second node would need a database of its own.
    fn shared_across_nodes(&self) -> bool {
        false
    }

    async fn fetch_all(&self, query: Query) -> StoreResult<Vec<Row>> {
        let pool = self.pool_for(query.sql);
        convert(prepare(query).fetch_all(pool).await.map_err(map)?)
    }

    async fn execute(&self, query: Query) -> StoreResult<u64> {
        let pool = self.pool_for(query.sql);
        Ok(prepare(query).execute(pool).await.map_err(map)?.rows_affected())
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(map)?;
        Ok(Box::new(SqliteTx(tx)))
    }
}

struct SqliteTx(Transaction<'static, Sqlite>);

#[async_trait]
impl Tx for SqliteTx {
    async fn fetch_all(&mut self, query: Query) -> StoreResult<Vec<Row>> {
        convert(prepare(query).fetch_all(&mut *self.0).await.map_err(map)?)
    }

    async fn execute(&mut self, query: Query) -> StoreResult<u64> {
        Ok(prepare(query).execute(&mut *self.0).await.map_err(map)?.rows_affected())
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.0.commit().await.map_err(map)
    }
}
