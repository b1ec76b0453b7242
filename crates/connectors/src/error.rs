use serde::Serialize;

/// Why a call to a tenant's backend failed: a stable `code` and a message for people. Messages
/// never contain credentials (see [`CallError::scrubbed`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CallError {
    pub code: &'static str,
    pub message: String,
}

impl CallError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// Removes every occurrence of the given secrets from the message (providers sometimes echo
    /// what they were sent).
    pub fn scrubbed(mut self, secrets: &[&str]) -> Self {
        for secret in secrets.iter().filter(|s| s.len() >= 4) {
            self.message = self.message.replace(secret, "***");
        }
        self
    }
}

impl From<sb_net::NetError> for CallError {
    fn from(err: sb_net::NetError) -> Self {
        Self::new(err.code(), err.to_string())
    }
}
