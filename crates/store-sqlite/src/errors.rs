use sb_store::{Constraint, StoreError};
use sqlx::error::ErrorKind;

/// SQLite reports a unique violation by its columns ("UNIQUE constraint failed: users.email"),
/// not by the constraint's name, so the columns of each named constraint are listed here.
pub(crate) const UNIQUE_COLUMNS: &[(&str, Constraint)] = &[
    ("users.email", Constraint::UserEmail),
    ("api_keys.tenant_id, api_keys.name", Constraint::ApiKeyName),
    ("api_keys.key_hash", Constraint::ApiKeyHash),
    ("teams.tenant_id, teams.name", Constraint::TeamName),
    ("team_members.team_id, team_members.user_id", Constraint::TeamMember),
    ("connections.tenant_id, connections.name", Constraint::ConnectionName),
    ("endpoints.tenant_id, endpoints.name", Constraint::EndpointName),
    ("labels.tenant_id, labels.name", Constraint::LabelName),
    ("canned_replies.tenant_id, canned_replies.shortcut", Constraint::CannedShortcut),
    ("contacts.tenant_id, contacts.user_id", Constraint::ContactUser),
    ("contacts.tenant_id, contacts.browser_key_hash", Constraint::ContactBrowser),
    ("channels.tenant_id, channels.name", Constraint::ChannelName),
    ("channel_threads.channel_id, channel_threads.thread_key", Constraint::ChannelThread),
];

pub(crate) fn map(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => {
                let columns = db.message().rsplit(": ").next().unwrap_or_default();
                UNIQUE_COLUMNS
                    .iter()
                    .find(|(cols, _)| *cols == columns)
                    .map(|&(_, constraint)| StoreError::Conflict(constraint))
                    .unwrap_or_else(|| StoreError::Internal(err.to_string()))
            }
            ErrorKind::ForeignKeyViolation => StoreError::MissingReference,
            _ => StoreError::Internal(err.to_string()),
        },
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
        _ => StoreError::Internal(err.to_string()),
    }
}
