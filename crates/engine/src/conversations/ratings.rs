//! What visitors think: the rating the widget asks for once a conversation is closed, and the
//! helpful / not helpful marks on the bot's replies. The account's people read both with the
//! conversation.

use sb_domain::{
    Author, Conversation, ConversationId, Feedback, MessageId, Rating, Role, Timestamp,
};

use super::ConversationsService;
use crate::{Actor, EngineError};

impl ConversationsService {
    /// The visitor rates their conversation (again, replacing the last rating) once it is
    /// closed.
    pub async fn rate(
        &self,
        conversation: &Conversation,
        score: i64,
        comment: Option<&str>,
    ) -> Result<Rating, EngineError> {
        let (score, comment) = Rating::check(score, comment)?;
        // The stored state: the visitor's copy may be older than a close.
        let now = self
            .store
            .conversations
            .get_conversation(&conversation.tenant_id, &conversation.id)
            .await?;
        if now.status != sb_domain::ConversationStatus::Closed {
            return Err(EngineError::Conflict {
                code: "not_closed",
                message: "a conversation is rated once it is closed",
            });
        }
        let rating = Rating {
            conversation_id: conversation.id.clone(),
            score,
            comment,
            rated_at: Timestamp::now(),
        };
        // A rating of 1 or 2 means the assistant did not resolve it after all (and back): how
        // it ended is decided again, with this rating, and written with it.
        let mut facts = self.store.analytics.outcome_facts(&now.tenant_id, &now.id).await?;
        facts.rating = Some(score);
        let outcome = sb_domain::analytics::Outcome::of(&facts);
        self.store.ratings.rate(&conversation.tenant_id, &rating, outcome).await?;
        Ok(rating)
    }

    /// The visitor marks one of the bot's replies in their conversation helpful or not.
    pub async fn give_feedback(
        &self,
        conversation: &Conversation,
        message: &MessageId,
        helpful: bool,
    ) -> Result<Feedback, EngineError> {
        let tenant = &conversation.tenant_id;
        let found = self.store.conversations.get_message(tenant, message).await;
        let found = match found {
            Ok(m) if m.conversation_id == conversation.id => m,
            Ok(_) | Err(sb_store::StoreError::NotFound) => {
                return Err(EngineError::NotFound("message"));
            }
            Err(err) => return Err(err.into()),
        };
        if found.author != Author::Bot {
            return Err(EngineError::Conflict {
                code: "not_a_bot_reply",
                message: "only the assistant's replies take feedback",
            });
        }
        let feedback = Feedback { message_id: found.id, helpful, given_at: Timestamp::now() };
        self.store.ratings.give_feedback(tenant, &conversation.id, &feedback).await?;
        Ok(feedback)
    }

    /// The conversation's rating and the feedback on its replies, for the account's people.
    pub async fn opinions(
        &self,
        actor: &Actor,
        id: &ConversationId,
    ) -> Result<(Option<Rating>, Vec<Feedback>), EngineError> {
        actor.require(Role::Operator)?;
        let tenant = &actor.tenant_id;
        Ok((
            self.store.ratings.rating(tenant, id).await?,
            self.store.ratings.feedback(tenant, id).await?,
        ))
    }
}
