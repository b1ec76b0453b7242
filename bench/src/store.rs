//! Scenario 5, message persistence: appending visitor messages through Switchboard's store (one
//! transaction: the conversation's next sequence number, then the message row with its indexes)
//! against a bare `INSERT` of a message-shaped row with sqlx into the same database, with the
//! same pool size and settings. On SQLite and, when a URL is given, on PostgreSQL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use sb_domain::{Author, ConversationId, MessageId, Role, TenantId, Timestamp};
use sb_engine::accounts::SignUp;
use sb_engine::conversations::VisitorStart;
use sb_engine::conversations::widgets::WidgetDraft;
use sb_engine::{Actor, Credential};
use sb_secrets::Secret;
use sb_store::{NewMessage, Store};

use crate::report::out;

const TEXT: &str = "Hi, where is my order #4521? It has not arrived yet.";

pub struct Row {
    pub database: &'static str,
    pub writers: usize,
    pub switchboard: f64,
    pub raw: f64,
}

enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

const RAW_TABLE: &str = "CREATE TABLE bench_messages (id TEXT PRIMARY KEY, \
    conversation_id TEXT NOT NULL, seq BIGINT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL)";
const RAW_INSERT: &str = "INSERT INTO bench_messages (id, conversation_id, seq, text, created_at) \
    VALUES ($1, $2, $3, $4, $5)";

impl Raw {
    async fn open(url: &str) -> anyhow::Result<Self> {
        use std::str::FromStr;
        let raw = if url.starts_with("sqlite:") {
            // The settings Switchboard's SQLite store uses.
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5));
            let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(8);
            Raw::Sqlite(pool.connect_with(options).await?)
        } else {
            Raw::Postgres(
                sqlx::postgres::PgPoolOptions::new().max_connections(8).connect(url).await?,
            )
        };
        match &raw {
            Raw::Sqlite(pool) => sqlx::query(RAW_TABLE).execute(pool).await.map(drop)?,
            Raw::Postgres(pool) => sqlx::query(RAW_TABLE).execute(pool).await.map(drop)?,
        }
        Ok(raw)
    }

    async fn insert(&self, conversation: &str, seq: i64) -> anyhow::Result<()> {
        let id = MessageId::new().to_string();
        let now = Timestamp::now().to_string();
        macro_rules! run {
            ($pool:expr) => {
                sqlx::query(RAW_INSERT)
                    .bind(id)
                    .bind(conversation)
                    .bind(seq)
                    .bind(TEXT)
                    .bind(now)
                    .execute($pool)
                    .await
                    .map(drop)
            };
        }
        match self {
            Raw::Sqlite(pool) => run!(pool)?,
            Raw::Postgres(pool) => run!(pool)?,
        }
        Ok(())
    }
}

/// A store with a tenant and `count` conversations to write to.
pub(crate) async fn prepared(
    url: &str,
    dir: &std::path::Path,
    count: usize,
) -> anyhow::Result<(Arc<dyn Store>, TenantId, Vec<ConversationId>)> {
    let setup = account(url, dir).await?;
    let mut conversations = Vec::new();
    for _ in 0..count {
        let conversation = &setup.services.conversations;
        let started =
            conversation.start_conversation(&setup.widget, VisitorStart::default()).await?;
        conversations.push(started.conversation.id);
    }
    Ok((setup.store, setup.actor.tenant_id, conversations))
}

/// A store and the services over it, with an account, its owner and a widget.
pub(crate) struct Account {
    pub store: Arc<dyn Store>,
    pub services: sb_engine::Services,
    pub actor: Actor,
    pub widget: sb_store::StoredWidget,
}

/// Opens (migrating) the database at `url` and signs an account up in it.
pub(crate) async fn account(url: &str, dir: &std::path::Path) -> anyhow::Result<Account> {
    let key = dir.join("master.key");
    sb_secrets::MasterKey::load_or_generate(&key)?;
    let file = dir.join("store.toml");
    std::fs::write(
        &file,
        format!(
            "[database]\nurl = \"{url}\"\n[security]\nmaster_key_file = \"{}\"\n[kb]\nindex_dir = \"{}\"\n",
            key.display(),
            dir.join("kb-index").display()
        ),
    )?;
    let config = switchboard::config::Config::load(Some(&file), &Default::default())?;
    let store = switchboard::open_store(&config, true).await?;
    let services = switchboard::build_services(&config, store.clone(), sb_realtime::Hub::new())?;
    let signup = SignUp {
        tenant_name: "Bench".into(),
        email: "owner@store.bench".into(),
        password: Secret::new("a long bench password".into()),
    };
    let (tenant, user) = services.accounts.sign_up(signup).await?;
    let actor = Actor {
        tenant_id: tenant.id.clone(),
        user_id: Some(user.id),
        role: Role::Owner,
        credential: Credential::CommandLine,
    };
    let draft = WidgetDraft { name: Some("Shop".into()), ..WidgetDraft::default() };
    let widget = services.conversations.create_widget(&actor, draft).await?.widget;
    let widget = store.get_widget(&tenant.id, &widget.id).await?;
    Ok(Account { store, services, actor, widget })
}

/// Messages per second that `writers` tasks append, each to its own conversation.
async fn rate<F, Fut>(writers: usize, duration: Duration, write: F) -> anyhow::Result<f64>
where
    F: Fn(usize, i64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let write = write.clone();
            tokio::spawn(async move {
                let mut n = 0i64;
                while Instant::now() < deadline {
                    n += 1;
                    write(w, n).await?;
                }
                anyhow::Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

async fn measure_one(
    database: &'static str,
    url: &str,
    dir: &std::path::Path,
    levels: &[usize],
    duration: Duration,
) -> anyhow::Result<Vec<Row>> {
    let most = levels.iter().copied().max().unwrap_or(1);
    let (store, tenant, conversations) = prepared(url, dir, most).await?;
    let raw = Arc::new(Raw::open(url).await.context("opening the raw pool")?);
    let conversations = Arc::new(conversations);
    let tenant = Arc::new(tenant);
    let mut rows = Vec::new();
    for &writers in levels {
        let (s, t, c) = (store.clone(), tenant.clone(), conversations.clone());
        let switchboard = rate(writers, duration, move |w, _| {
            let (s, t, c) = (s.clone(), t.clone(), c.clone());
            async move {
                let message = NewMessage {
                    id: &MessageId::new(),
                    conversation_id: &c[w],
                    author: Author::Visitor,
                    author_user_id: None,
                    text: TEXT,
                    translation: None,
                    created_at: Timestamp::now(),
                    action: None,
                    attachments: &[],
                    search_terms: "",
                    source: None,
                };
                s.append_message(&t, message).await.map(drop).map_err(Into::into)
            }
        })
        .await?;
        let (r, c) = (raw.clone(), conversations.clone());
        let raw_rate = rate(writers, duration, move |w, n| {
            let (r, c) = (r.clone(), c.clone());
            async move { r.insert(c[w].as_str(), n).await }
        })
        .await?;
        rows.push(Row { database, writers, switchboard, raw: raw_rate });
    }
    Ok(rows)
}

/// A fresh database beside the one `url` names, dropped afterwards.
pub async fn with_fresh_postgres(url: &str) -> anyhow::Result<(String, impl AsyncFnOnce())> {
    use sqlx::{AssertSqlSafe, Connection};
    // A name made here from the process id, never from input.
    let name = format!("switchboard_bench_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(url).await?;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
        .execute(&mut admin)
        .await?;
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
    let mut fresh = reqwest::Url::parse(url)?;
    fresh.set_path(&name);
    let cleanup = async move || {
        let _ = sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await;
    };
    Ok((fresh.to_string(), cleanup))
}

pub async fn measure(
    postgres: Option<&str>,
    levels: &[usize],
    duration: Duration,
) -> anyhow::Result<Vec<Row>> {
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}/store.db", dir.path().display());
    let mut rows = measure_one("SQLite", &sqlite, dir.path(), levels, duration).await?;
    if let Some(url) = postgres {
        let (fresh, cleanup) = with_fresh_postgres(url).await?;
        let pg_dir = tempfile::tempdir()?;
        let measured = measure_one("PostgreSQL", &fresh, pg_dir.path(), levels, duration).await;
        cleanup().await;
        rows.extend(measured?);
    }
    Ok(rows)
}

pub fn print(rows: &[Row], postgres: bool, out: &mut String) {
    out!(out, "## 5. Message persistence\n");
    out!(
        out,
        "Visitor messages appended through Switchboard's store — one unit taking the \
         conversation's next sequence number, then the message row and its indexes (on SQLite, \
         handed to the writer thread, which commits the waiting units together) — against a \
         bare sqlx `INSERT` of a message-shaped row into the same database, same pool. Each \
         writer appends to its own conversation.\n"
    );
    if !postgres {
        out!(
            out,
            "PostgreSQL was not measured: set `SWITCHBOARD_BENCH_POSTGRES_URL` to a server \
             the benchmark may create a database on.\n"
        );
    }
    out!(out, "| database | writers | Switchboard | bare INSERT | bare / Switchboard |");
    out!(out, "|---|---:|---:|---:|---:|");
    for row in rows {
        out!(
            out,
            "| {} | {} | {:.0} msg/s | {:.0} msg/s | {:.2}x |",
            row.database,
            row.writers,
            row.switchboard,
            row.raw,
            row.raw / row.switchboard.max(1e-9)
        );
    }
    out!(out);
}
