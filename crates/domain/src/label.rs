//! Labels: the account's own tags for conversations ("refund", "vip"), set by operators and by
//! the `ADD_LABEL` rule action, and filtered by in the inbox.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{LabelId, TenantId, Timestamp, ValidationError};

/// The most labels one conversation carries.
pub const MAX_LABELS: usize = 20;
const MAX_NAME_CHARS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Label {
    pub id: LabelId,
    pub tenant_id: TenantId,
    /// Lowercase letters, digits, `-` and `_`: how operators type it and rules name it.
    pub name: String,
    /// `#rrggbb`, the chip's colour.
    pub color: String,
    pub created_at: Timestamp,
}

/// A label's name as stored: trimmed and lowercase, 1–50 letters, digits, `-` or `_` (no
/// spaces, so `refund-request` reads the same everywhere it is typed).
pub fn label_name(raw: &str, field: impl Into<String>) -> Result<String, ValidationError> {
    let name = raw.trim().to_lowercase();
    let field = field.into();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        let message = format!("a label has 1–{MAX_NAME_CHARS} characters");
        return Err(ValidationError::new(field, "invalid_label", message));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
        let message =
            "a label has letters, digits, - and _ only (refund-request, not “refund request”)";
        return Err(ValidationError::new(field, "invalid_label", message));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_are_lowercase_words_without_spaces() {
        assert_eq!(label_name("  VIP ", "name").unwrap(), "vip");
        assert_eq!(label_name("Rückgabe_2", "name").unwrap(), "rückgabe_2");
        for bad in ["", "refund request", "a%b", &"x".repeat(51)] {
            let error = label_name(bad, "name").unwrap_err();
            assert_eq!((error.code, error.field.as_ref()), ("invalid_label", "name"), "{bad:?}");
        }
    }
}
