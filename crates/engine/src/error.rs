use sb_domain::ValidationError;
use sb_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The actor is known but lacks the role for this action.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Refused for a reason the caller can act on (`code` names it), e.g. a widget used from a
    /// site it does not allow.
    #[error("{code}: {message}")]
    Refused { code: &'static str, message: &'static str },
    /// The credential presented opens nothing (an unknown or ended visitor token).
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// Too many at once or too often: try again after the given time.
    #[error("{message}")]
    Busy { code: &'static str, message: &'static str, retry_after: std::time::Duration },
    /// The request conflicts with the current state (`code` says how), e.g. an action that has
    /// already been decided.
    #[error("{code}: {message}")]
    Conflict { code: &'static str, message: &'static str },
    /// The thing existed but is no longer usable (`code` says why), e.g. an expired action.
    #[error("{code}: {message}")]
    Gone { code: &'static str, message: &'static str },
    /// The named thing does not exist for this caller.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The action would have side effects the caller has not confirmed.
    #[error("{0}")]
    ConfirmationRequired(String),
    /// A file the account does not take: too large (413 `too_large`) or of a type it does not
    /// allow (415 `type_not_allowed`).
    #[error("{message}")]
    FileRefused { too_large: bool, message: String },
    /// A tenant's backend (an MCP server listing its tools) could not be reached or refused:
    /// `code` is the call's error code (`timeout`, `connect_failed`, `auth_failed`, …).
    #[error("{code}: {message}")]
    Backend { code: &'static str, message: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sb_connectors::CallError> for EngineError {
    fn from(err: sb_connectors::CallError) -> Self {
        EngineError::Backend { code: err.code, message: err.message }
    }
}
