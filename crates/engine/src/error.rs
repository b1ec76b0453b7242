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
    /// The action would have side effects the caller has not confirmed.
    #[error("{0}")]
    ConfirmationRequired(String),
    #[error("internal error: {0}")]
    Internal(String),
}
