use async_trait::async_trait;
use sb_domain::analytics::Outcome;
use sb_domain::{ConversationId, Feedback, Rating, TenantId};
use sb_store::{RatingStore, StoreResult};

use crate::{Db, SqlStore, q};

#[async_trait]
impl<D: Db> RatingStore for SqlStore<D> {
    async fn rate(&self, tenant: &TenantId, r: &Rating, outcome: Outcome) -> StoreResult<()> {
        let query =
            q("INSERT INTO ratings (conversation_id, tenant_id, score, comment, rated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_id) DO UPDATE SET \
             score = excluded.score, comment = excluded.comment, rated_at = excluded.rated_at \
             WHERE ratings.tenant_id = excluded.tenant_id")
            .text(r.conversation_id.as_str())
            .text(tenant.as_str())
            .int(i64::from(r.score))
            .opt_text(r.comment.as_deref())
            .ts(r.rated_at);
        // The last rating counts: the earlier one leaves its hour's counts.
        let uncount = q(crate::analytics::UNCOUNT_RATING)
            .text(tenant.as_str())
            .text(r.conversation_id.as_str());
        let metric = format!("rating:{}", r.score);
        let counted = crate::analytics::count(tenant, &r.conversation_id, r.rated_at, &metric, 1);
        let mut unit = vec![uncount, query, counted];
        // It changes how the conversation ended, not when: the close keeps its hour.
        unit.extend(crate::analytics::outcome_statements(
            tenant,
            &r.conversation_id,
            Some(outcome),
            true,
        ));
        crate::analytics::outcome_written(&self.db.write_unit(unit).await?)
    }

    async fn rating(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Option<Rating>> {
        let query = q("SELECT conversation_id, score, comment, rated_at FROM ratings \
                       WHERE tenant_id = $1 AND conversation_id = $2")
        .text(tenant.as_str())
        .text(conversation.as_str());
        let Some(row) = self.db.fetch_optional(query).await? else { return Ok(None) };
        Ok(Some(Rating {
            conversation_id: row.parse("conversation_id")?,
            score: u8::try_from(row.int("score")?).unwrap_or(0),
            comment: row.opt_text("comment")?,
            rated_at: row.ts("rated_at")?,
        }))
    }

    async fn give_feedback(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        f: &Feedback,
    ) -> StoreResult<()> {
        let query = q("INSERT INTO message_feedback \
             (message_id, tenant_id, conversation_id, helpful, given_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (message_id) DO UPDATE SET helpful = excluded.helpful, \
             given_at = excluded.given_at \
             WHERE message_feedback.tenant_id = excluded.tenant_id")
        .text(f.message_id.as_str())
        .text(tenant.as_str())
        .text(conversation.as_str())
        .boolean(f.helpful)
        .ts(f.given_at);
        let mark = |sql| q(sql).text(tenant.as_str()).text(f.message_id.as_str());
        let gap = match f.helpful {
            true => crate::analytics::UNGAP_HELPFUL,
            false => crate::analytics::GAP_NOT_HELPFUL,
        };
        let unit = vec![
            mark(crate::analytics::UNCOUNT_FEEDBACK),
            query,
            mark(crate::analytics::COUNT_FEEDBACK),
            mark(gap),
        ];
        self.db.write_unit(unit).await.map(drop)
    }

    async fn feedback(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Vec<Feedback>> {
        let query = q("SELECT message_id, helpful, given_at FROM message_feedback \
                       WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY given_at, message_id")
        .text(tenant.as_str())
        .text(conversation.as_str());
        self.db
            .fetch_all(query)
            .await?
            .iter()
            .map(|row| {
                Ok(Feedback {
                    message_id: row.parse("message_id")?,
                    helpful: row.boolean("helpful")?,
                    given_at: row.ts("given_at")?,
                })
            })
            .collect()
    }
}
