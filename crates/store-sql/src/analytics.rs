//! What analytics keeps of conversations: how each ended, and how long the visitor waited for
//! the first reply of the assistant and of a person.

use async_trait::async_trait;
use sb_domain::analytics::{Outcome, OutcomeFacts};
use sb_domain::{Author, ConversationId, TenantId};
use sb_store::{AnalyticsStore, NewMessage, StoreResult};

use crate::{Db, Query, SqlStore, expect_found, q};

/// The first reply of the assistant (`$1` its time) counts from the visitor's first message.
const FIRST_ASSISTANT: &str = "UPDATE conversations SET first_assistant_ms = $1 - \
     (SELECT MIN(m.created_at) FROM messages m WHERE m.tenant_id = $2 AND m.conversation_id = $3 \
      AND m.author = 'visitor') \
     WHERE tenant_id = $2 AND id = $3 AND first_assistant_ms IS NULL \
     AND EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = $2 AND m.conversation_id = $3 \
      AND m.author = 'visitor')";

/// A person's first reply counts from the latest hand-over before it, or from the visitor's
/// first message when there was none.
const FIRST_PERSON: &str = "UPDATE conversations SET first_person_ms = $1 - COALESCE( \
     (SELECT MAX(t.created_at) FROM trace_events t WHERE t.tenant_id = $2 \
      AND t.conversation_id = $3 AND t.kind = 'assigned' AND t.created_at <= $1), \
     (SELECT MIN(m.created_at) FROM messages m WHERE m.tenant_id = $2 AND m.conversation_id = $3 \
      AND m.author = 'visitor')) \
     WHERE tenant_id = $2 AND id = $3 AND first_person_ms IS NULL \
     AND EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = $2 AND m.conversation_id = $3 \
      AND m.author = 'visitor')";

/// The statement that records `m` as the first reply of its kind, if it is one.
pub(crate) fn first_response(tenant: &TenantId, m: &NewMessage<'_>) -> Option<Query> {
    let sql = match m.author {
        Author::Bot => FIRST_ASSISTANT,
        Author::Operator => FIRST_PERSON,
        Author::Visitor | Author::System => return None,
    };
    Some(q(sql).ts(m.created_at).text(tenant.as_str()).text(m.conversation_id.as_str()))
}

const FACTS: &str = "SELECT \
     (SELECT COUNT(*) FROM messages m WHERE m.tenant_id = $1 AND m.conversation_id = $2 \
      AND m.author = 'operator') AS operator_messages, \
     (c.assigned_user_id IS NOT NULL OR c.assigned_team_id IS NOT NULL OR EXISTS \
      (SELECT 1 FROM trace_events t WHERE t.tenant_id = $1 AND t.conversation_id = $2 \
       AND t.kind = 'assigned')) AS handed_over, \
     COALESCE((SELECT m.author FROM messages m WHERE m.tenant_id = $1 AND m.conversation_id = $2 \
      AND m.author <> 'system' ORDER BY m.seq DESC LIMIT 1), '') AS last_author, \
     (SELECT r.score FROM ratings r WHERE r.tenant_id = $1 AND r.conversation_id = $2) AS rating \
     FROM conversations c WHERE c.tenant_id = $1 AND c.id = $2";

#[async_trait]
impl<D: Db> AnalyticsStore for SqlStore<D> {
    async fn outcome_facts(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<OutcomeFacts> {
        let query = q(FACTS).text(tenant.as_str()).text(conversation.as_str());
        let row = self.db.fetch_one(query).await?;
        Ok(OutcomeFacts {
            operator_messages: u32::try_from(row.int("operator_messages")?).unwrap_or(u32::MAX),
            handed_over: row.boolean("handed_over")?,
            last_visitor_message_answered: row.text("last_author")? != "visitor",
            rating: row.opt_int("rating")?.and_then(|r| u8::try_from(r).ok()),
        })
    }

    async fn set_outcome(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        outcome: Option<Outcome>,
    ) -> StoreResult<()> {
        let query = q("UPDATE conversations SET outcome = $1 WHERE tenant_id = $2 AND id = $3")
            .opt_text(outcome.map(|o| o.as_str()))
            .text(tenant.as_str())
            .text(conversation.as_str());
        expect_found(self.db.execute(query).await?)
    }
}
