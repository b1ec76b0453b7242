//! SQLite backend: the default, embedded store. One file, WAL journal, foreign keys enforced.

mod driver;
mod errors;
mod writer;

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sb_store::{StoreError, StoreResult};
use sb_store_sql::SqlStore;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqlSafeStr, SqlitePool};

pub use driver::SqliteDb;

/// The migrations, in order. Their versions and intent match the PostgreSQL backend's.
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

pub struct SqliteOptions {
    pub max_connections: u32,
    pub busy_timeout: Duration,
    /// Off only for scratch databases (see [`scratch`]), which hold rows whose parents live in
    /// another database.
    pub foreign_keys: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self { max_connections: 8, busy_timeout: Duration::from_secs(5), foreign_keys: true }
    }
}

/// A throwaway database in its own private folder, removed when this is dropped: where a test
/// run's sandbox keeps its conversations. Its rows refer to the real database's tenant,
/// widgets and people, so references are not enforced in it.
pub struct Scratch {
    pub store: Arc<SqlStore<SqliteDb>>,
    dir: std::path::PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Open connections keep reading what they hold; nothing opens it again.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Creates, migrates and opens a scratch database under the system's temporary folder.
pub async fn scratch() -> StoreResult<Scratch> {
    let name = format!("switchboard-scratch-{}", sb_domain::random_token(12));
    let dir = std::env::temp_dir().join(name);
    std::fs::DirBuilder::new().mode(0o700).create(&dir).map_err(|err| {
        StoreError::Unavailable(format!("cannot create {}: {err}", dir.display()))
    })?;
    let url = format!("sqlite://{}", dir.join("scratch.db").display());
    let options = SqliteOptions { max_connections: 4, foreign_keys: false, ..Default::default() };
    let store = connect(&url, &options).await?;
    migrate(&store).await?;
    Ok(Scratch { store: Arc::new(store), dir })
}

/// Opens (creating if needed) the database at a `sqlite://path` URL.
pub async fn connect(url: &str, options: &SqliteOptions) -> StoreResult<SqlStore<SqliteDb>> {
    let connect = SqliteConnectOptions::from_str(url)
        .map_err(|err| StoreError::Unavailable(format!("invalid SQLite URL: {err}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode; only an OS crash or power
        // loss can lose the last transactions.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(options.foreign_keys)
        .busy_timeout(options.busy_timeout);
    let file = connect.get_filename().to_owned();
    let is_new = !file.exists();
    if is_new {
        create_private_parent_dir(&file)?;
    }
    // The maintenance connection first: it creates the file and switches it to WAL before the
    // writer and readers open it. A connection to a local file does not go stale: no ping (a
    // round trip to the connection's thread) before each use.
    let maintenance = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(1)
        .connect_with(connect.clone())
        .await
        .map_err(errors::map)?;
    let readers = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(options.max_connections.max(1))
        .connect_with(connect)
        .await
        .map_err(errors::map)?;
    if is_new && file.exists() {
        // The database holds password hashes and sealed credentials: owner-only, like the key.
        // SQLite gives its -wal and -shm files the same permissions as the database file.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(|err| {
            StoreError::Unavailable(format!("cannot restrict {}: {err}", file.display()))
        })?;
    }
    let writer = writer::Writer::start(&file, options.busy_timeout, options.foreign_keys)?;
    let files = attachments_dir(&file);
    Ok(SqlStore::new(SqliteDb::new(readers, writer, maintenance, files)))
}

/// Where attachments' bytes live: `<database file>.attachments/` beside it (created, owner-only,
/// with the first file).
pub fn attachments_dir(database: &Path) -> std::path::PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_owned();
    name.push(".attachments");
    database.with_file_name(name)
}

/// Creates missing folders above a new database file, readable by the owner only.
fn create_private_parent_dir(file: &Path) -> StoreResult<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|err| {
                StoreError::Unavailable(format!("cannot create {}: {err}", dir.display()))
            })
        }
        _ => Ok(()),
    }
}

/// Writes a consistent copy of the whole database to `target` (which must not exist), while the
/// server may keep writing: SQLite's `VACUUM INTO` reads one snapshot. The copy is owner-only.
pub async fn backup(store: &SqlStore<SqliteDb>, target: &Path) -> StoreResult<()> {
    if target.exists() {
        return Err(StoreError::Internal(format!("{} already exists", target.display())));
    }
    let path = target
        .to_str()
        .ok_or_else(|| StoreError::Internal(format!("{} is not a UTF-8 path", target.display())))?;
    create_private_parent_dir(target)?;
    sqlx::query("VACUUM INTO ?")
        .bind(path)
        .execute(store.db().pool())
        .await
        .map_err(errors::map)?;
    std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o600)).map_err(|err| {
        StoreError::Internal(format!("cannot restrict {}: {err}", target.display()))
    })?;
    // The files the copied rows name were written before their rows; one its conversation's
    // deletion took since the copy was made is left out.
    copy_attachments(&store.db().files, &attachments_dir(target))
}

/// Copies the attachments' folder (finished files only) beside a backup, owner-only.
fn copy_attachments(from: &Path, to: &Path) -> StoreResult<()> {
    let failed = |path: &Path, err: std::io::Error| {
        StoreError::Internal(format!("cannot copy attachments to {}: {err}", path.display()))
    };
    let entries = match std::fs::read_dir(from) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(failed(from, err)),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(to)
        .map_err(|err| failed(to, err))?;
    for entry in entries {
        let source = entry.map_err(|err| failed(from, err))?.path();
        let Some(name) = source.file_name().filter(|n| !n.to_string_lossy().ends_with(".partial"))
        else {
            continue;
        };
        let copy = to.join(name);
        match std::fs::copy(&source, &copy) {
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(failed(&copy, err)),
        }
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600))
            .map_err(|err| failed(&copy, err))?;
    }
    Ok(())
}

/// Brings the schema up to date. Safe to run on every start.
pub async fn migrate(store: &SqlStore<SqliteDb>) -> StoreResult<()> {
    run_migrations(store.db().pool()).await
}

async fn run_migrations(pool: &SqlitePool) -> StoreResult<()> {
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
        .run(pool)
        .await
        .map_err(|err| StoreError::Internal(format!("migration failed: {err}")))
}
