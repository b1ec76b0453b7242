//! Test support: a fresh, empty schema per test inside the database named by
//! `TEST_POSTGRES_URL`, so tests can run in parallel without seeing each other's rows.

/// The base URL from `TEST_POSTGRES_URL`, or `None` when PostgreSQL tests should be skipped.
/// With `SWITCHBOARD_REQUIRE_POSTGRES=1` (set by CI) a missing URL is an error, not a skip.
pub fn base_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("SWITCHBOARD_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
            panic!("SWITCHBOARD_REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
        }
        _ => {
            eprintln!("TEST_POSTGRES_URL is not set: skipping the PostgreSQL part of this test");
            None
        }
    }
}

/// Runs a statement that has to name something made at run time: a schema or a table. This is
/// the one place in the crates that hands sqlx SQL built at run time (a test in `store-sql`
/// keeps it so), and the names in it are safe: a schema name this module generates (`t_` and
/// random base32), and table names read from the test schema's own catalog, quoted. Test
/// support only; the store itself runs constant SQL.
async fn run_generated(pool: &sqlx::PgPool, sql: String, what: &str) -> Vec<sqlx::postgres::PgRow> {
    sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await.expect(what)
}

/// Creates a new schema and returns a URL whose connections use it as their search path.
pub async fn fresh_schema_url(base: &str) -> String {
    let schema = format!("t_{}", sb_domain::random_token(10));
    let pool = sqlx::PgPool::connect(base).await.expect("connect to TEST_POSTGRES_URL");
    run_generated(&pool, format!("CREATE SCHEMA {schema}"), "create test schema").await;
    pool.close().await;
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-csearch_path%3D{schema}")
}

/// Every row of every table in the URL's search path, as text: for tests proving that some
/// value (a planted secret) is stored nowhere in plaintext.
pub async fn dump_text(url: &str) -> String {
    use sqlx::Row;
    let pool = sqlx::PgPool::connect(url).await.expect("connect for dump");
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_all(&pool)
    .await
    .expect("list tables")
    .iter()
    .map(|row| row.get::<String, _>(0))
    .collect();
    let mut text = String::new();
    for table in tables {
        let sql = format!("SELECT row_to_json(t)::text FROM \"{table}\" t");
        for row in run_generated(&pool, sql, "dump table").await {
            text.push_str(&row.get::<String, _>(0));
            text.push('\n');
        }
    }
    pool.close().await;
    text
}
