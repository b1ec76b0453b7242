use serde::Serialize;

/// Why a model call failed, with a stable code. Messages never contain the API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct LlmError {
    pub code: &'static str,
    pub message: String,
}

impl LlmError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl From<sb_net::NetError> for LlmError {
    fn from(err: sb_net::NetError) -> Self {
        Self::new(err.code(), err.to_string())
    }
}
