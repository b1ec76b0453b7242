//! Implements the portable [`Db`] seam over an sqlx PostgreSQL pool.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use sb_store::StoreResult;
use sb_store_sql::{Arg, Db, Query, Row, Tx, Value};
use sqlx::postgres::{PgArguments, PgRow, Postgres};
use sqlx::{Column, PgPool, Row as _, Transaction, TypeInfo};

use crate::errors::map;

pub struct PostgresDb {
    pool: PgPool,
}

impl PostgresDb {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

type SqlxQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

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

fn value(row: &PgRow, i: usize, type_name: &str) -> Result<Value, sqlx::Error> {
    if row.try_get_raw(i).map(|raw| sqlx::ValueRef::is_null(&raw))? {
        return Ok(Value::Null);
    }
    Ok(match type_name {
        "INT8" => Value::Int(row.try_get(i)?),
        "INT4" => Value::Int(row.try_get::<i32, _>(i)?.into()),
        "INT2" => Value::Int(row.try_get::<i16, _>(i)?.into()),
        "BOOL" => Value::Bool(row.try_get(i)?),
        "FLOAT8" => Value::Real(row.try_get(i)?),
        "FLOAT4" => Value::Real(row.try_get::<f32, _>(i)?.into()),
        "BYTEA" => Value::Bytes(row.try_get(i)?),
        _ => Value::Text(row.try_get(i)?),
    })
}

fn convert(rows: Vec<PgRow>) -> StoreResult<Vec<Row>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns: Arc<HashMap<String, usize>> =
        Arc::new(first.columns().iter().map(|c| (c.name().to_owned(), c.ordinal())).collect());
    let types: Vec<String> =
        first.columns().iter().map(|c| c.type_info().name().to_owned()).collect();
    rows.iter()
        .map(|row| {
            let values = types
                .iter()
                .enumerate()
                .map(|(i, type_name)| value(row, i, type_name).map_err(map))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Row::new(columns.clone(), values))
        })
        .collect()
}

#[async_trait]
impl Db for PostgresDb {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn shared_across_nodes(&self) -> bool {
        true
    }

    async fn fetch_all(&self, query: Query) -> StoreResult<Vec<Row>> {
        convert(prepare(query).fetch_all(&self.pool).await.map_err(map)?)
    }

    async fn execute(&self, query: Query) -> StoreResult<u64> {
        Ok(prepare(query).execute(&self.pool).await.map_err(map)?.rows_affected())
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(PostgresTx(self.pool.begin().await.map_err(map)?)))
    }
}

struct PostgresTx(Transaction<'static, Postgres>);

#[async_trait]
impl Tx for PostgresTx {
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
