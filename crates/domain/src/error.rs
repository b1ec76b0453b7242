use std::borrow::Cow;

/// A value that failed validation, naming the field (a JSON path such as `member_ids[2]`)
/// so that API clients can point at the exact input that was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: Cow<'static, str>,
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(
        field: impl Into<Cow<'static, str>>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self { field: field.into(), code, message: message.into() }
    }

    /// Re-roots the error under a parent path: `name` inside `teams[1]` becomes `teams[1].name`.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            Cow::Owned(parent.to_owned())
        } else if self.field.starts_with('[') {
            Cow::Owned(format!("{parent}{}", self.field))
        } else {
            Cow::Owned(format!("{parent}.{}", self.field))
        };
        self
    }
}
