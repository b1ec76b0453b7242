//! Canned replies: the account's saved answers, inserted from the inbox's reply box by typing
//! `/` and their shortcut, with `{variables}` filled from the conversation.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::template::Template;
use crate::{CannedReplyId, MAX_MESSAGE_CHARS, TenantId, Timestamp, ValidationError};

const MAX_SHORTCUT_CHARS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CannedReply {
    pub id: CannedReplyId,
    pub tenant_id: TenantId,
    /// Typed after `/` in the reply box: lowercase letters, digits, `-` and `_`.
    pub shortcut: String,
    /// A template: `{visitor.name}`, `{order_id}` and the like are filled from the conversation.
    pub text: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A shortcut as stored: without its `/`, trimmed, lowercase, 1–32 letters, digits, `-`, `_`.
pub fn canned_shortcut(raw: &str) -> Result<String, ValidationError> {
    let shortcut = raw.trim().trim_start_matches('/').to_lowercase();
    let fits = !shortcut.is_empty()
        && shortcut.chars().count() <= MAX_SHORTCUT_CHARS
        && shortcut.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if fits {
        Ok(shortcut)
    } else {
        let message = format!(
            "a shortcut has 1–{MAX_SHORTCUT_CHARS} letters, digits, - and _ (typed as /refund)"
        );
        Err(ValidationError::new("shortcut", "invalid_shortcut", message))
    }
}

/// A reply's text: 1–4000 characters that read as a template.
pub fn canned_text(raw: &str) -> Result<String, ValidationError> {
    let text = raw.trim();
    if text.is_empty() || text.chars().count() > MAX_MESSAGE_CHARS {
        let message = format!("a reply has 1–{MAX_MESSAGE_CHARS} characters");
        return Err(ValidationError::new("text", "invalid_field", message));
    }
    Template::parse("text", text)?;
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_typed_words_and_texts_are_templates() {
        assert_eq!(canned_shortcut(" /Refund ").unwrap(), "refund");
        for bad in ["", "/", "two words", &"x".repeat(33)] {
            assert_eq!(canned_shortcut(bad).unwrap_err().code, "invalid_shortcut", "{bad:?}");
        }
        assert_eq!(canned_text(" Hi {visitor.name}! ").unwrap(), "Hi {visitor.name}!");
        assert_eq!(canned_text("Hi {unclosed").unwrap_err().field, "text");
    }
}
