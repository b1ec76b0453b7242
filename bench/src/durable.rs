//! The durable floor of the lookup-and-reply scenario: the bare proxy's backend call, plus what
//! any honest service must do — store the visitor's message and the reply so that nothing
//! answered is lost. One writer commits whatever is waiting in one transaction (group commit) on
//! a SQLite file in WAL mode with `synchronous = NORMAL` (as Switchboard's), or on PostgreSQL;
//! each request is answered after the commit that holds its rows.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::proxy::{Proxy, lookup};

/// The two rows of one answered message.
struct Turn {
    conversation: String,
    question: String,
    reply: String,
    committed: oneshot::Sender<()>,
}

struct Durable {
    proxy: Proxy,
    writer: mpsc::Sender<Turn>,
}

const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS floor_messages (id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, \
     seq BIGINT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL, created_at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS floor_messages_conversation ON floor_messages (conversation_id, seq)",
];
const INSERT: &str = "INSERT INTO floor_messages (id, conversation_id, seq, author, text, created_at) \
                      VALUES ($1, $2, $3, $4, $5, $6)";
/// Turns committed together at most.
const BATCH: usize = 256;

async fn message(
    State(durable): State<Arc<Durable>>,
    Path(conversation): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, StatusCode> {
    let question = body["text"].as_str().ok_or(StatusCode::UNPROCESSABLE_ENTITY)?.to_owned();
    let reply = lookup(&durable.proxy, &question).await?;
    let (committed, done) = oneshot::channel();
    let turn = Turn { conversation, question, reply: reply.clone(), committed };
    durable.writer.send(turn).await.map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    done.await.map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(Json(json!({"data": {"replies": [{"text": reply}]}})))
}

/// Writes waiting turns, many per transaction, and answers each after its commit.
macro_rules! writer_loop {
    ($connection:expr, $turns:expr, $seq:expr) => {{
        let mut connection = $connection;
        let mut turns: mpsc::Receiver<Turn> = $turns;
        let mut batch = Vec::with_capacity(BATCH);
        while turns.recv_many(&mut batch, BATCH).await > 0 {
            let mut tx = connection.begin().await?;
            let now = sb_domain::Timestamp::now().as_millisecond();
            for turn in &batch {
                for (author, text) in [("visitor", &turn.question), ("bot", &turn.reply)] {
                    let seq = $seq.fetch_add(1, Ordering::Relaxed);
                    sqlx::query(INSERT)
                        .bind(sb_domain::random_token(16))
                        .bind(&turn.conversation)
                        .bind(seq)
                        .bind(author)
                        .bind(text)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            for turn in batch.drain(..) {
                let _ = turn.committed.send(());
            }
        }
        anyhow::Ok(())
    }};
}

pub async fn serve(backend: SocketAddr, database: &str) -> anyhow::Result<()> {
    let (writer, turns) = mpsc::channel(4 * BATCH);
    let durable = Arc::new(Durable { proxy: Proxy::new(backend)?, writer });
    // Message sequence numbers: the floor keeps no per-conversation counter in the database.
    let seq = Arc::new(AtomicI64::new(1));
    if database.starts_with("sqlite:") {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(database)?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
        let mut connection = sqlx::SqliteConnection::connect_with(&options).await?;
        for statement in SCHEMA {
            sqlx::query(statement).execute(&mut connection).await?;
        }
        tokio::spawn(async move { writer_loop!(connection, turns, seq) });
    } else {
        let mut connection = sqlx::PgConnection::connect(database).await?;
        for statement in SCHEMA {
            sqlx::query(statement).execute(&mut connection).await?;
        }
        tokio::spawn(async move { writer_loop!(connection, turns, seq) });
    }
    let app = Router::new()
        .route("/conversations/{conversation}/messages", post(message))
        .with_state(durable);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    crate::child::announce(&listener)?;
    axum::serve(listener, app).await?;
    Ok(())
}
