//! PostgreSQL backend: for several stateless nodes sharing one database.

mod driver;
mod errors;
#[cfg(feature = "testing")]
pub mod testing;

use std::time::Duration;

use sb_store::{StoreError, StoreResult};
use sb_store_sql::SqlStore;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::PgPoolOptions;

pub use driver::PostgresDb;

/// The migrations, in order. Their versions and intent match the SQLite backend's.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "accounts", include_str!("../migrations/0001_accounts.sql")),
    (2, "connections", include_str!("../migrations/0002_connections.sql")),
    (3, "conversations", include_str!("../migrations/0003_conversations.sql")),
    (4, "ai", include_str!("../migrations/0004_ai.sql")),
    (5, "kb", include_str!("../migrations/0005_kb.sql")),
    (6, "rules_revision", include_str!("../migrations/0006_rules_revision.sql")),
    (7, "conversation_leases", include_str!("../migrations/0007_conversation_leases.sql")),
    (8, "endpoint_stats", include_str!("../migrations/0008_endpoint_stats.sql")),
    (9, "webhooks", include_str!("../migrations/0009_webhooks.sql")),
    (10, "endpoint_cache", include_str!("../migrations/0010_endpoint_cache.sql")),
    (11, "credentials", include_str!("../migrations/0011_credentials.sql")),
    (12, "config_revision", include_str!("../migrations/0012_config_revision.sql")),
    (13, "waiting_messages", include_str!("../migrations/0013_waiting_messages.sql")),
    (14, "actions", include_str!("../migrations/0014_actions.sql")),
    (15, "read_marks", include_str!("../migrations/0015_read_marks.sql")),
    (16, "expected_statuses", include_str!("../migrations/0016_expected_statuses.sql")),
    (17, "test_cases", include_str!("../migrations/0017_test_cases.sql")),
    (18, "test_runs", include_str!("../migrations/0018_test_runs.sql")),
    (19, "notes", include_str!("../migrations/0019_notes.sql")),
    (20, "labels", include_str!("../migrations/0020_labels.sql")),
    (21, "canned_replies", include_str!("../migrations/0021_canned_replies.sql")),
    (22, "contacts", include_str!("../migrations/0022_contacts.sql")),
    (23, "audit_and_retention", include_str!("../migrations/0023_audit_and_retention.sql")),
    (24, "ratings", include_str!("../migrations/0024_ratings.sql")),
    (25, "office_hours", include_str!("../migrations/0025_office_hours.sql")),
    (26, "attachments", include_str!("../migrations/0026_attachments.sql")),
    (27, "search", include_str!("../migrations/0027_search.sql")),
    (28, "outcomes", include_str!("../migrations/0028_outcomes.sql")),
    (29, "knowledge_gaps", include_str!("../migrations/0029_knowledge_gaps.sql")),
    (30, "count_deltas", include_str!("../migrations/0030_count_deltas.sql")),
    (31, "mcp", include_str!("../migrations/0031_mcp.sql")),
    (32, "api_key_scopes", include_str!("../migrations/0032_api_key_scopes.sql")),
    (33, "channels", include_str!("../migrations/0033_channels.sql")),
    (34, "whatsapp_window", include_str!("../migrations/0034_whatsapp_window.sql")),
    (35, "channel_claims", include_str!("../migrations/0035_channel_claims.sql")),
    (36, "email_threads", include_str!("../migrations/0036_email_threads.sql")),
];

pub struct PostgresOptions {
    pub max_connections: u32,
    /// How long a request waits for a free connection before the store reports itself unavailable.
    pub acquire_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(5) }
    }
}

/// Connects to a `postgres://` URL. The pool connects lazily and reconnects on its own, so a
/// database that goes away and comes back needs no restart.
pub async fn connect(url: &str, options: &PostgresOptions) -> StoreResult<SqlStore<PostgresDb>> {
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(options.acquire_timeout)
        .connect(url)
        .await
        .map_err(errors::map)?;
    Ok(SqlStore::new(PostgresDb::new(pool)))
}

/// Brings the schema up to date. Concurrent nodes serialise on sqlx's advisory lock.
pub async fn migrate(store: &SqlStore<PostgresDb>) -> StoreResult<()> {
    let migrations = MIGRATIONS
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                description.into(),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
        .run(store.db().pool())
        .await
        .map_err(|err| StoreError::Internal(format!("migration failed: {err}")))
}
