//! Every write goes to one thread that owns the database's only writing connection and commits
//! the work of many callers together (group commit).
//!
//! Why a thread of its own over a direct connection: through the async driver each statement is
//! a hand-off to the connection's thread and back (tens to a hundred microseconds on a busy
//! small machine), and a handled message took about a dozen of them one after another on the
//! single writer. Here a caller hands over a whole unit of statements at once, the thread runs
//! them back to back, and whatever units are waiting share one transaction: one hand-off per
//! unit, one commit per batch. Each unit runs inside a savepoint, so one failing unit is rolled
//! back alone; every unit is answered only after the commit that holds it (or its failure), so
//! nothing acknowledged can be lost to a crash of the process. Interactive transactions (a read
//! deciding the next write) join a batch the same way, their statements sent one at a time.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use sb_store::{Constraint, StoreError, StoreResult};
use sb_store_sql::{Arg, Query, Row, Value};
use tokio::sync::{mpsc, oneshot};

use crate::errors::UNIQUE_COLUMNS;

/// Units committed together at most: bounds how long the first waits for the last.
const MAX_BATCH: usize = 512;
/// Prepared statements kept on the writer connection.
const STATEMENT_CACHE: usize = 512;

/// What one statement of a unit gave back: its rows (for `RETURNING`) and the rows it changed.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub rows: Vec<Row>,
    pub affected: u64,
}

/// A command of an interactive transaction.
pub(crate) enum Step {
    Run(Query, oneshot::Sender<StoreResult<Written>>),
    Commit(oneshot::Sender<StoreResult<()>>),
}

enum Job {
    /// Statements run in order as one atomic unit.
    Unit(Vec<Query>, oneshot::Sender<StoreResult<Vec<Written>>>),
    /// A transaction driven from outside: its steps arrive until it commits, or rolls back when
    /// the sender goes away.
    Interactive(std_mpsc::Receiver<Step>),
}

/// The handle callers hold; the thread stops when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Writer {
    /// Opens the writing connection to `file` (which must exist, in WAL mode) and starts its
    /// thread.
    pub(crate) fn start(
        file: &Path,
        busy_timeout: Duration,
        foreign_keys: bool,
    ) -> StoreResult<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(file, flags).map_err(map)?;
        connection.busy_timeout(busy_timeout).map_err(map)?;
        let keys = if foreign_keys { "ON" } else { "OFF" };
        connection
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = {keys}; \
                 PRAGMA temp_store = MEMORY; PRAGMA secure_delete = ON;"
            ))
            .map_err(map)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let (jobs, queue) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(connection, queue))
            .map_err(|err| StoreError::Unavailable(format!("cannot start the writer: {err}")))?;
        Ok(Self { jobs })
    }

    /// Runs `statements` as one atomic unit; answered after its commit.
    pub(crate) async fn unit(&self, statements: Vec<Query>) -> StoreResult<Vec<Written>> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job::Unit(statements, reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Starts an interactive transaction: send its [`Step`]s on the returned channel.
    pub(crate) fn interactive(&self) -> StoreResult<std_mpsc::Sender<Step>> {
        let (steps, receiver) = std_mpsc::channel();
        self.jobs.send(Job::Interactive(receiver)).map_err(|_| stopped())?;
        Ok(steps)
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".into())
}

/// A finished unit, answered once its batch is committed (or has failed).
enum Done {
    Unit(oneshot::Sender<StoreResult<Vec<Written>>>, StoreResult<Vec<Written>>),
    Committed(oneshot::Sender<StoreResult<()>>),
}

fn run(connection: Connection, mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.blocking_recv() {
        let mut done = Vec::new();
        let begun = connection.execute_batch("BEGIN IMMEDIATE").map_err(map);
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match &begun {
                Ok(()) => run_job(&connection, job, &mut done),
                Err(err) => refuse(job, err, &mut done),
            }
            if done.len() < MAX_BATCH {
                next = queue.try_recv().ok();
            }
        }
        let committed = match begun {
            Ok(()) => connection.execute_batch("COMMIT").map_err(map),
            Err(err) => Err(err),
        };
        if committed.is_err() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        for finished in done {
            answer(finished, &committed);
        }
    }
}

fn answer(finished: Done, committed: &StoreResult<()>) {
    match (finished, committed) {
        (Done::Unit(reply, result), Ok(())) => drop(reply.send(result)),
        (Done::Unit(reply, _), Err(err)) => drop(reply.send(Err(err.clone()))),
        (Done::Committed(reply), outcome) => drop(reply.send(outcome.clone())),
    }
}

/// Without a transaction nothing runs: every step is answered with why.
fn refuse(job: Job, err: &StoreError, done: &mut Vec<Done>) {
    match job {
        Job::Unit(_, reply) => done.push(Done::Unit(reply, Err(err.clone()))),
        Job::Interactive(steps) => {
            while let Ok(step) = steps.recv() {
                match step {
                    Step::Run(_, reply) => drop(reply.send(Err(err.clone()))),
                    Step::Commit(reply) => drop(reply.send(Err(err.clone()))),
                }
            }
        }
    }
}

/// Runs one job inside a savepoint of the batch's transaction: kept when it succeeds, undone
/// alone when it fails.
fn run_job(connection: &Connection, job: Job, done: &mut Vec<Done>) {
    if let Err(err) = connection.execute_batch("SAVEPOINT unit").map_err(map) {
        return refuse(job, &err, done);
    }
    let kept = match job {
        Job::Unit(statements, reply) => {
            let result: StoreResult<Vec<Written>> =
                statements.iter().map(|query| execute(connection, query)).collect();
            let kept = result.is_ok();
            done.push(Done::Unit(reply, result));
            kept
        }
        Job::Interactive(steps) => loop {
            match steps.recv() {
                Ok(Step::Run(query, reply)) => drop(reply.send(execute(connection, &query))),
                Ok(Step::Commit(reply)) => {
                    done.push(Done::Committed(reply));
                    break true;
                }
                // Dropped without committing: rolled back.
                Err(_) => break false,
            }
        },
    };
    let end = if kept { "RELEASE unit" } else { "ROLLBACK TO unit; RELEASE unit" };
    if let Err(err) = connection.execute_batch(end) {
        tracing::error!(error = %err, "ending a unit of work failed");
    }
}

fn execute(connection: &Connection, query: &Query) -> StoreResult<Written> {
    let mut statement = connection.prepare_cached(query.sql).map_err(map)?;
    // Parameters are `$n`, numbered by the SQL; SQLite counts them in order of appearance.
    for index in 1..=statement.parameter_count() {
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| StoreError::Internal(format!("parameter {index} is not $n")))?;
        let arg = query.args.get(number - 1).ok_or_else(|| {
            StoreError::Internal(format!("no argument for ${number} in {}", query.sql))
        })?;
        statement.raw_bind_parameter(index, bound(arg)).map_err(map)?;
    }
    let names: Arc<HashMap<String, usize>> = Arc::new(
        statement.column_names().iter().enumerate().map(|(i, n)| ((*n).to_owned(), i)).collect(),
    );
    let width = names.len();
    let mut rows = Vec::new();
    let mut raw = statement.raw_query();
    while let Some(row) = raw.next().map_err(map)? {
        let values = (0..width)
            .map(|i| Ok(value(row.get_ref(i).map_err(map)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        rows.push(Row::new(names.clone(), values));
    }
    drop(raw);
    let affected = connection.changes();
    Ok(Written { rows, affected })
}

fn bound(arg: &Arg) -> ToSqlOutput<'_> {
    use rusqlite::types::Value as Sql;
    let value = match arg {
        Arg::Text(Some(text)) | Arg::Json(Some(text)) => {
            return ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes()));
        }
        Arg::Int(Some(n)) => Sql::Integer(*n),
        Arg::Bool(Some(b)) => Sql::Integer(i64::from(*b)),
        Arg::Real(Some(r)) => Sql::Real(*r),
        Arg::Bytes(Some(bytes)) => return ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
        Arg::Text(None)
        | Arg::Json(None)
        | Arg::Int(None)
        | Arg::Bool(None)
        | Arg::Real(None)
        | Arg::Bytes(None) => Sql::Null,
    };
    ToSqlOutput::Owned(value)
}

/// Reads a value by its storage class, which in SQLite belongs to the value, not the column.
fn value(raw: ValueRef<'_>) -> Value {
    match raw {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Int(n),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(text) => Value::Text(String::from_utf8_lossy(text).into_owned()),
        ValueRef::Blob(bytes) => Value::Bytes(bytes.to_vec()),
    }
}

/// The same meanings as the async driver's errors (see `errors::map`).
fn map(err: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    match &err {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(failure, message) => match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                let text = message.as_deref().unwrap_or_default();
                let columns = text.rsplit(": ").next().unwrap_or_default();
                UNIQUE_COLUMNS
                    .iter()
                    .find(|(cols, _)| *cols == columns)
                    .map(|&(_, constraint): &(&str, Constraint)| StoreError::Conflict(constraint))
                    .unwrap_or_else(|| StoreError::Internal(err.to_string()))
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::MissingReference,
            _ if matches!(failure.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Internal(err.to_string()),
        },
        _ => StoreError::Internal(err.to_string()),
    }
}
