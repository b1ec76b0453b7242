use async_trait::async_trait;
use sb_domain::{Conversation, ConversationId, TenantId};

use crate::StoreResult;

/// The words conversation search finds conversations by (see
/// [`crate::NewMessage::search_terms`]); messages bring theirs as they are stored.
#[async_trait]
pub trait SearchStore: Send + Sync {
    /// Lets search find the conversation by `terms` (analysed words, separated by spaces) too.
    async fn add_search_terms(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        terms: &str,
    ) -> StoreResult<()>;

    /// Up to `limit` conversations waiting for their words (see
    /// [`SearchStore::queue_search_rebuild`]), by id.
    async fn search_backlog(&self, limit: u32) -> StoreResult<Vec<Conversation>>;

    /// Adds the words a waiting conversation holds and takes it off the backlog, as one.
    /// Words already there stay: what was added meanwhile (a new message) is kept.
    async fn rebuild_search_terms(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        terms: &str,
    ) -> StoreResult<()>;

    /// Puts every conversation on the backlog (after the analysers changed); how many.
    async fn queue_search_rebuild(&self) -> StoreResult<u64>;
}
