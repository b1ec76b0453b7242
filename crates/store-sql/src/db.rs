//! The narrow seam between the store logic and a concrete database driver.
//!
//! Store methods are written once, as SQL that SQLite and PostgreSQL both accept (`$1`
//! placeholders, `RETURNING`, `ON CONFLICT`), against these traits. Each backend crate implements
//! them over its sqlx pool: binding [`Arg`]s with the right SQL types, reading rows into the
//! driver-neutral [`Row`], and mapping driver errors to [`StoreError`]s.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use sb_domain::Timestamp;
use sb_store::{StoreError, StoreResult};

/// A bind parameter. Nulls carry their type because PostgreSQL types parameters strictly.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Real(Option<f64>),
    /// A JSON document, stored as text in both backends so it comes back exactly as written
    /// (PostgreSQL's `jsonb` would reorder object keys).
    Json(Option<String>),
    /// Raw bytes: `BLOB` in SQLite, `bytea` in PostgreSQL.
    Bytes(Option<Vec<u8>>),
}

impl Arg {
    /// A null of the same type.
    pub(crate) fn null(&self) -> Self {
        match self {
            Self::Text(_) => Self::Text(None),
            Self::Int(_) => Self::Int(None),
            Self::Bool(_) => Self::Bool(None),
            Self::Real(_) => Self::Real(None),
            Self::Json(_) => Self::Json(None),
            Self::Bytes(_) => Self::Bytes(None),
        }
    }
}

/// One SQL statement and its arguments, built fluently: `q("… $1 …").text(id)`.
///
/// The statement is `&'static str`: SQL text is made only from constants (literals, `concat!`
/// of column-list macros, or a static computed once from constants), never from values. Values
/// go in as arguments, and a list of them of any length uses the same statement text.
#[derive(Debug, Clone)]
pub struct Query {
    pub sql: &'static str,
    pub args: Vec<Arg>,
}

pub fn q(sql: &'static str) -> Query {
    Query { sql, args: Vec::new() }
}

impl Query {
    pub fn text(mut self, value: impl Into<String>) -> Self {
        self.args.push(Arg::Text(Some(value.into())));
        self
    }
    /// Each value as a text argument, in order.
    pub fn texts<'a>(self, values: impl IntoIterator<Item = &'a str>) -> Self {
        values.into_iter().fold(self, Self::text)
    }
    pub fn opt_text(mut self, value: Option<impl Into<String>>) -> Self {
        self.args.push(Arg::Text(value.map(Into::into)));
        self
    }
    pub fn int(mut self, value: i64) -> Self {
        self.args.push(Arg::Int(Some(value)));
        self
    }
    pub fn opt_int(mut self, value: Option<i64>) -> Self {
        self.args.push(Arg::Int(value));
        self
    }
    pub fn boolean(mut self, value: bool) -> Self {
        self.args.push(Arg::Bool(Some(value)));
        self
    }
    pub fn json(mut self, value: impl Into<String>) -> Self {
        self.args.push(Arg::Json(Some(value.into())));
        self
    }
    pub fn bytes(mut self, value: Option<Vec<u8>>) -> Self {
        self.args.push(Arg::Bytes(value));
        self
    }
    pub fn opt_json(mut self, value: Option<String>) -> Self {
        self.args.push(Arg::Json(value));
        self
    }
    /// Timestamps are stored as milliseconds since the Unix epoch in both backends.
    pub fn ts(self, value: Timestamp) -> Self {
        self.int(value.as_millisecond())
    }
    pub fn opt_ts(self, value: Option<Timestamp>) -> Self {
        self.opt_int(value.map(|t| t.as_millisecond()))
    }
}

/// A column value as read from either backend.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

/// A result row, decoupled from the driver. Columns are looked up by name.
#[derive(Debug, Clone)]
pub struct Row {
    columns: Arc<HashMap<String, usize>>,
    values: Vec<Value>,
}

fn decode_error(column: &str, expected: &str, found: &Value) -> StoreError {
    StoreError::Internal(format!("column {column}: expected {expected}, found {found:?}"))
}

impl Row {
    pub fn new(columns: Arc<HashMap<String, usize>>, values: Vec<Value>) -> Self {
        Self { columns, values }
    }

    fn value(&self, column: &str) -> StoreResult<&Value> {
        self.columns
            .get(column)
            .and_then(|&i| self.values.get(i))
            .ok_or_else(|| StoreError::Internal(format!("no column {column} in result")))
    }

    pub fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            other => Err(decode_error(column, "text", other)),
        }
    }

    pub fn text(&self, column: &str) -> StoreResult<String> {
        self.opt_text(column)?.ok_or_else(|| decode_error(column, "text", &Value::Null))
    }

    pub fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            other => Err(decode_error(column, "integer", other)),
        }
    }

    pub fn int(&self, column: &str) -> StoreResult<i64> {
        self.opt_int(column)?.ok_or_else(|| decode_error(column, "integer", &Value::Null))
    }

    pub fn opt_real(&self, column: &str) -> StoreResult<Option<f64>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Real(r) => Ok(Some(*r)),
            Value::Int(i) => Ok(Some(*i as f64)),
            other => Err(decode_error(column, "real", other)),
        }
    }

    pub fn opt_bytes(&self, column: &str) -> StoreResult<Option<Vec<u8>>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(b.clone())),
            other => Err(decode_error(column, "bytes", other)),
        }
    }

    /// SQLite has no boolean type and stores 0/1; PostgreSQL returns real booleans.
    pub fn boolean(&self, column: &str) -> StoreResult<bool> {
        match self.value(column)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(i) => Ok(*i != 0),
            other => Err(decode_error(column, "boolean", other)),
        }
    }

    /// Parses a text column into a domain type (ids, enums); bad stored data is an internal error.
    pub fn parse<T: std::str::FromStr>(&self, column: &str) -> StoreResult<T>
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.text(column)?;
        raw.parse().map_err(|err| StoreError::Internal(format!("column {column}: {err}")))
    }

    pub fn opt_parse<T: std::str::FromStr>(&self, column: &str) -> StoreResult<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        match self.opt_text(column)? {
            None => Ok(None),
            Some(raw) => raw
                .parse()
                .map(Some)
                .map_err(|err| StoreError::Internal(format!("column {column}: {err}"))),
        }
    }

    pub fn ts(&self, column: &str) -> StoreResult<Timestamp> {
        millis_to_ts(column, self.int(column)?)
    }

    pub fn opt_ts(&self, column: &str) -> StoreResult<Option<Timestamp>> {
        self.opt_int(column)?.map(|ms| millis_to_ts(column, ms)).transpose()
    }
}

fn millis_to_ts(column: &str, millis: i64) -> StoreResult<Timestamp> {
    Timestamp::from_millisecond(millis)
        .map_err(|err| StoreError::Internal(format!("column {column}: {err}")))
}

/// A database pool. Each call runs on some pooled connection, outside any transaction.
#[async_trait]
pub trait Db: Send + Sync + 'static {
    /// Which backend this is (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
    /// Whether several nodes may share this database (see [`sb_store::Store::shared_across_nodes`]).
    fn shared_across_nodes(&self) -> bool;
    async fn fetch_all(&self, query: Query) -> StoreResult<Vec<Row>>;
    async fn execute(&self, query: Query) -> StoreResult<u64>;
    /// A transaction that intends to write. On SQLite it takes the write lock up front, so two
    /// writers never deadlock trying to upgrade read locks.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;

    /// Runs `statements` in order as one atomic unit and returns each one's rows (for
    /// `RETURNING`). For writes whose statements do not depend on what earlier ones read: the
    /// whole unit is handed over at once (SQLite commits many callers' units together).
    async fn write_unit(&self, statements: Vec<Query>) -> StoreResult<Vec<Vec<Row>>> {
        let mut tx = self.begin().await?;
        let mut results = Vec::with_capacity(statements.len());
        for query in statements {
            results.push(tx.fetch_all(query).await?);
        }
        tx.commit().await?;
        Ok(results)
    }

    /// Makes deleted data unrecoverable from the files where the backend can (see
    /// [`sb_store::PrivacyStore::scrub`]); nothing to do by default.
    async fn scrub(&self) -> StoreResult<()> {
        Ok(())
    }

    /// The folder where this backend keeps attachments' bytes as files (SQLite: beside its
    /// database file); `None` keeps them in the `attachments` table itself (PostgreSQL, so
    /// every node reads the same).
    fn file_dir(&self) -> Option<&std::path::Path> {
        None
    }

    async fn fetch_optional(&self, query: Query) -> StoreResult<Option<Row>> {
        Ok(self.fetch_all(query).await?.into_iter().next())
    }

    /// The single expected row; none is [`StoreError::NotFound`].
    async fn fetch_one(&self, query: Query) -> StoreResult<Row> {
        self.fetch_optional(query).await?.ok_or(StoreError::NotFound)
    }
}

/// A transaction: dropped without [`Tx::commit`], it rolls back.
#[async_trait]
pub trait Tx: Send {
    async fn fetch_all(&mut self, query: Query) -> StoreResult<Vec<Row>>;
    async fn execute(&mut self, query: Query) -> StoreResult<u64>;
    async fn commit(self: Box<Self>) -> StoreResult<()>;

    async fn fetch_optional(&mut self, query: Query) -> StoreResult<Option<Row>> {
        Ok(self.fetch_all(query).await?.into_iter().next())
    }

    async fn fetch_one(&mut self, query: Query) -> StoreResult<Row> {
        self.fetch_optional(query).await?.ok_or(StoreError::NotFound)
    }
}
