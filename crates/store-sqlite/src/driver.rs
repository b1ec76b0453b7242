//! Implements the portable [`Db`] seam: reads over an sqlx SQLite pool, writes on the writer
//! thread.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use sb_store::{StoreError, StoreResult};
use sb_store_sql::{Arg, Db, Query, Row, Tx, Value};
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteRow};
use sqlx::{Column, Row as _, SqlitePool, TypeInfo, ValueRef};
use tokio::sync::oneshot;

use crate::errors::map;
use crate::writer::{Step, Writer, Written};

/// Reads go to a pool of connections (WAL readers never wait for the writer); every write goes
/// to the writer thread, which commits many callers' work together (see [`crate::writer`]).
pub struct SqliteDb {
    readers: SqlitePool,
    writer: Writer,
    /// One connection for migrations and maintenance (backups), before and beside the traffic.
    maintenance: SqlitePool,
    /// Attachments' bytes, one file each, in a folder beside the database file.
    pub(crate) files: std::path::PathBuf,
}

impl SqliteDb {
    pub(crate) fn new(
        readers: SqlitePool,
        writer: Writer,
        maintenance: SqlitePool,
        files: std::path::PathBuf,
    ) -> Self {
        Self { readers, writer, maintenance, files }
    }

    /// The maintenance connection: for migrations and backups.
    pub fn pool(&self) -> &SqlitePool {
        &self.maintenance
    }
}

/// Whether `sql` only reads (and so may run on a reader).
fn is_read(sql: &str) -> bool {
    let head = sql.trim_start().get(..6).unwrap_or_default();
    head.eq_ignore_ascii_case("select")
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
            Arg::Bytes(v) => prepared.bind(v),
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
                        "BLOB" => Value::Bytes(row.try_get(i).map_err(map)?),
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
    fn file_dir(&self) -> Option<&std::path::Path> {
        Some(&self.files)
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    /// The file belongs to one process: a second node would need a database of its own.
    fn shared_across_nodes(&self) -> bool {
        false
    }

    async fn fetch_all(&self, query: Query) -> StoreResult<Vec<Row>> {
        if is_read(query.sql) {
            return convert(prepare(query).fetch_all(&self.readers).await.map_err(map)?);
        }
        let mut written = self.writer.unit(vec![query]).await?;
        Ok(written.pop().map(|w| w.rows).unwrap_or_default())
    }

    async fn execute(&self, query: Query) -> StoreResult<u64> {
        if is_read(query.sql) {
            return Ok(prepare(query).execute(&self.readers).await.map_err(map)?.rows_affected());
        }
        let mut written = self.writer.unit(vec![query]).await?;
        Ok(written.pop().map(|w| w.affected).unwrap_or_default())
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(SqliteTx(self.writer.interactive()?)))
    }

    async fn write_unit(&self, statements: Vec<Query>) -> StoreResult<Vec<Vec<Row>>> {
        Ok(self.writer.unit(statements).await?.into_iter().map(|w| w.rows).collect())
    }

    /// The writer zeroes what it deletes (`secure_delete`), but earlier page images stay in the
    /// write-ahead log until a checkpoint: this one copies the log into the file and truncates
    /// it, waiting (the busy timeout) for readers still using older pages.
    async fn scrub(&self) -> StoreResult<()> {
        for _ in 0..20 {
            let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.maintenance)
                .await
                .map_err(map)?;
            let busy: i64 = row.try_get(0).map_err(map)?;
            if busy == 0 {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Err(StoreError::Unavailable(
            "the write-ahead log stayed in use; it empties at the next checkpoint".into(),
        ))
    }
}

/// A transaction on the writer thread; dropped without committing, it rolls back.
struct SqliteTx(std::sync::mpsc::Sender<Step>);

impl SqliteTx {
    async fn run(&mut self, query: Query) -> StoreResult<Written> {
        let (reply, answer) = oneshot::channel();
        self.0.send(Step::Run(query, reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".into())
}

#[async_trait]
impl Tx for SqliteTx {
    async fn fetch_all(&mut self, query: Query) -> StoreResult<Vec<Row>> {
        Ok(self.run(query).await?.rows)
    }

    async fn execute(&mut self, query: Query) -> StoreResult<u64> {
        Ok(self.run(query).await?.affected)
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        let (reply, answer) = oneshot::channel();
        self.0.send(Step::Commit(reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}
