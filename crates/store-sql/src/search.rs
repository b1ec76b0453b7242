//! Conversation search: the words each conversation holds, one row per word and conversation,
//! looked up through the primary key. The engine analyses text (as the knowledge base does);
//! here are only the rows and the statement's shape.

use std::sync::LazyLock;

use async_trait::async_trait;
use sb_domain::{Conversation, ConversationId, TenantId};
use sb_store::{SEARCH_TERMS_PER_WORD, SEARCH_WORDS, SearchStore, SearchWord, StoreResult};

use crate::conversations::{conversation_columns, conversation_from_row};
use crate::labels::like_pattern;
use crate::lists::{RowInserts, placeholders, row_inserts, row_inserts_for};
use crate::{Db, Query, SqlStore, q};

/// A conversation's new words, up to each of `ROW_COUNTS` a statement; a word it already holds
/// is left as it is.
static INSERT_TERMS: LazyLock<RowInserts> = LazyLock::new(|| {
    row_inserts(|count| {
        let rows: Vec<String> = (0..count).map(|i| format!("(${})", i + 3)).collect();
        format!(
            "INSERT INTO search_terms (tenant_id, conversation_id, term) \
             SELECT $1, $2, v.column1 FROM (VALUES {}) AS v WHERE v.column1 IS NOT NULL \
             ON CONFLICT DO NOTHING",
            rows.join(", ")
        )
    })
});

/// The statements that give `conversation` the words in `terms` (separated by spaces).
pub(crate) fn term_inserts(
    tenant: &TenantId,
    conversation: &ConversationId,
    terms: &str,
) -> Vec<Query> {
    let mut words: Vec<&str> = terms.split(' ').filter(|t| !t.is_empty()).collect();
    words.sort_unstable();
    words.dedup();
    let start = |sql| q(sql).text(tenant.as_str()).text(conversation.as_str());
    row_inserts_for(&INSERT_TERMS, start, &words, |query, word| query.text(*word))
}

/// Parameters a word of a search takes: its `LIKE` pattern, then its terms.
const PER_WORD: usize = 1 + SEARCH_TERMS_PER_WORD;

/// The conditions of a search of up to [`SEARCH_WORDS`] words, parameters from `$first`: each
/// word must be one of the conversation's words (in any of its analysed forms), or part of a
/// label's name or of the contact's name or e-mail. An unused word's pattern is `''`.
pub(crate) fn word_conditions(first: usize) -> String {
    (0..SEARCH_WORDS)
        .map(|i| {
            let pattern = first + i * PER_WORD;
            let terms = placeholders(pattern + 1, SEARCH_TERMS_PER_WORD);
            format!(
                " AND (${pattern} = '' \
                 OR c.id IN (SELECT st.conversation_id FROM search_terms st \
                     WHERE st.tenant_id = $1 AND st.term IN ({terms})) \
                 OR lower(c.labels_json) LIKE ${pattern} ESCAPE '\\' \
                 OR EXISTS (SELECT 1 FROM contacts ct WHERE ct.tenant_id = c.tenant_id \
                     AND ct.id = c.contact_id AND (lower(ct.name) LIKE ${pattern} ESCAPE '\\' \
                     OR lower(ct.email) LIKE ${pattern} ESCAPE '\\')))"
            )
        })
        .collect()
}

/// Binds `words` to [`word_conditions`]' parameters, unused places blank.
pub(crate) fn bind_words(mut query: Query, words: &[SearchWord]) -> Query {
    for i in 0..SEARCH_WORDS {
        let word = words.get(i);
        query =
            query.text(word.map(|w| format!("%{}%", like_pattern(&w.text))).unwrap_or_default());
        for j in 0..SEARCH_TERMS_PER_WORD {
            let term = word.and_then(|w| w.terms.get(j).or(w.terms.first()));
            query = query.text(term.cloned().unwrap_or_default());
        }
    }
    query
}

#[async_trait]
impl<D: Db> SearchStore for SqlStore<D> {
    async fn add_search_terms(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        terms: &str,
    ) -> StoreResult<()> {
        let unit = term_inserts(tenant, conversation, terms);
        if !unit.is_empty() {
            self.db.write_unit(unit).await?;
        }
        Ok(())
    }

    async fn search_backlog(&self, limit: u32) -> StoreResult<Vec<Conversation>> {
        let sql = concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations c WHERE c.id IN \
             (SELECT b.conversation_id FROM search_backlog b ORDER BY b.conversation_id LIMIT $1) \
             ORDER BY c.id"
        );
        self.db
            .fetch_all(q(sql).int(i64::from(limit)))
            .await?
            .iter()
            .map(conversation_from_row)
            .collect()
    }

    async fn rebuild_search_terms(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        terms: &str,
    ) -> StoreResult<()> {
        let mut unit = term_inserts(tenant, conversation, terms);
        unit.push(
            q("DELETE FROM search_backlog WHERE tenant_id = $1 AND conversation_id = $2")
                .text(tenant.as_str())
                .text(conversation.as_str()),
        );
        self.db.write_unit(unit).await.map(drop)
    }

    async fn queue_search_rebuild(&self) -> StoreResult<u64> {
        self.db
            .execute(q("INSERT INTO search_backlog (tenant_id, conversation_id) \
                        SELECT tenant_id, id FROM conversations WHERE true \
                        ON CONFLICT DO NOTHING"))
            .await
    }
}
