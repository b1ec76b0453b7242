//! What visitors think: a conversation's rating, and whether a bot reply helped.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ConversationId, MessageId, Timestamp, ValidationError};

/// The visitor's rating of a closed conversation; rating again replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Rating {
    pub conversation_id: ConversationId,
    /// 1 (bad) to 5 (great).
    pub score: u8,
    pub comment: Option<String>,
    pub rated_at: Timestamp,
}

impl Rating {
    /// Checks a score and a comment as the visitor sent them.
    pub fn check(
        score: i64,
        comment: Option<&str>,
    ) -> Result<(u8, Option<String>), ValidationError> {
        let score = u8::try_from(score)
            .ok()
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(|| ValidationError::new("score", "out_of_range", "a rating is 1 to 5"))?;
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > 2000) {
            return Err(ValidationError::new("comment", "too_long", "at most 2000 characters"));
        }
        Ok((score, comment.map(str::to_owned)))
    }
}

/// Whether a bot reply helped the visitor; marking again replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Feedback {
    pub message_id: MessageId,
    pub helpful: bool,
    pub given_at: Timestamp,
}
