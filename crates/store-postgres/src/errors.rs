use sb_store::{Constraint, StoreError};
use sqlx::error::ErrorKind;

pub(crate) fn map(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => db
                .constraint()
                .and_then(Constraint::from_name)
                .map(StoreError::Conflict)
                .unwrap_or_else(|| StoreError::Internal(err.to_string())),
            ErrorKind::ForeignKeyViolation => StoreError::MissingReference,
            // Class 08 (connection exception), 57P0x (shutdown), 53300 (too many connections).
            _ if db
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P0") || c == "53300") =>
            {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Internal(err.to_string()),
        },
        // A peer that is not speaking PostgreSQL properly (a connection cut mid-handshake, a
        // proxy with nothing behind it) is a database we cannot reach, not a fault of ours.
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
        _ => StoreError::Internal(err.to_string()),
    }
}
