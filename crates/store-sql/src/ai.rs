use async_trait::async_trait;
use sb_domain::{AiSettings, AiUsage, ConversationId, TenantId, Timestamp};
use sb_store::{AiStore, StoreResult, UsageTotals};

use crate::{Db, SqlStore, expect_found, q};

#[async_trait]
impl<D: Db> AiStore for SqlStore<D> {
    async fn get_ai_settings(
        &self,
        tenant: &TenantId,
    ) -> StoreResult<Option<(AiSettings, Option<String>)>> {
        let query = q(
            "SELECT tenant_id, provider, base_url, model, api_key_sealed, instructions, embedding_model, updated_at \
                       FROM ai_settings WHERE tenant_id = $1",
        )
        .text(tenant.as_str());
        let Some(row) = self.db.fetch_optional(query).await? else { return Ok(None) };
        let settings = AiSettings {
            tenant_id: row.parse("tenant_id")?,
            provider: row.text("provider")?,
            base_url: row.text("base_url")?,
            model: row.text("model")?,
            instructions: row.text("instructions")?,
            embedding_model: row.text("embedding_model")?,
            updated_at: row.ts("updated_at")?,
        };
        Ok(Some((settings, row.opt_text("api_key_sealed")?)))
    }

    async fn put_ai_settings(&self, s: &AiSettings, sealed: Option<&str>) -> StoreResult<()> {
        let query = q("INSERT INTO ai_settings (tenant_id, provider, base_url, model, api_key_sealed, instructions, updated_at, embedding_model) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                       ON CONFLICT (tenant_id) DO UPDATE SET provider = $2, base_url = $3, model = $4, \
                       api_key_sealed = $5, instructions = $6, updated_at = $7, embedding_model = $8")
        .text(s.tenant_id.as_str())
        .text(&s.provider)
        .text(&s.base_url)
        .text(&s.model)
        .opt_text(sealed)
        .text(&s.instructions)
        .ts(s.updated_at)
        .text(&s.embedding_model);
        self.config_write(s.tenant_id.as_str(), query).await.map(drop)
    }

    async fn delete_ai_settings(&self, tenant: &TenantId) -> StoreResult<()> {
        let query = q("DELETE FROM ai_settings WHERE tenant_id = $1").text(tenant.as_str());
        expect_found(self.config_write(tenant.as_str(), query).await?)
    }

    async fn record_ai_usage(&self, u: &AiUsage) -> StoreResult<()> {
        let query = q("INSERT INTO ai_usage (tenant_id, conversation_id, purpose, provider, model, input_tokens, output_tokens, created_at) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .text(u.tenant_id.as_str())
        .opt_text(u.conversation_id.as_ref().map(|c| c.as_str()))
        .text(&u.purpose)
        .text(&u.provider)
        .text(&u.model)
        .int(i64::try_from(u.input_tokens).unwrap_or(i64::MAX))
        .int(i64::try_from(u.output_tokens).unwrap_or(i64::MAX))
        .ts(u.at);
        let mut unit = vec![query];
        // AI use in a conversation (replies, intents, extraction, translation) counts toward its
        // widget; calls outside one (embeddings of documents) are in `ai_usage` only.
        if let Some(c) = &u.conversation_id {
            let tenant = &u.tenant_id;
            unit.push(crate::analytics::count(tenant, c, u.at, "ai_requests", 1));
            let tokens = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            unit.push(crate::analytics::count(
                tenant,
                c,
                u.at,
                "ai_input_tokens",
                tokens(u.input_tokens),
            ));
            unit.push(crate::analytics::count(
                tenant,
                c,
                u.at,
                "ai_output_tokens",
                tokens(u.output_tokens),
            ));
        }
        self.db.write_unit(unit).await.map(drop)
    }

    async fn ai_usage_totals(
        &self,
        tenant: &TenantId,
        conversation: Option<&ConversationId>,
        since: Timestamp,
    ) -> StoreResult<UsageTotals> {
        let query = q("SELECT COUNT(*) AS calls, CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT) AS input_tokens, \
                       CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT) AS output_tokens FROM ai_usage \
                       WHERE tenant_id = $1 AND created_at >= $2 AND ($3 = '' OR conversation_id = $3)")
        .text(tenant.as_str())
        .ts(since)
        .text(conversation.map(|c| c.as_str()).unwrap_or_default());
        let row = self.db.fetch_one(query).await?;
        Ok(UsageTotals {
            calls: row.int("calls")?,
            input_tokens: row.int("input_tokens")?,
            output_tokens: row.int("output_tokens")?,
        })
    }
}
