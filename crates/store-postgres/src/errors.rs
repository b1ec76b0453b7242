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
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
        _ => StoreError::Internal(err.to_string()),
    }
}
