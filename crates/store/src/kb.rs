use async_trait::async_trait;
use sb_domain::{ChunkId, DocumentId, KbChunk, KbDocument, TenantId, Timestamp, WidgetId};

use crate::{Page, PageRequest, StoreResult};

/// The passages a document was cut into, and what processing found out about it.
#[derive(Debug, Clone)]
pub struct ProcessedDocument {
    pub chunks: Vec<KbChunk>,
    pub language: Option<String>,
    pub characters: u32,
    pub embedding_model: Option<String>,
    /// The content, when processing produced it (a fetched page); `None` keeps the stored one.
    pub content: Option<String>,
    /// How that content is written (`html` for a fetched page); `None` keeps the stored format.
    pub format: Option<String>,
    /// The page's own title, when the document has none yet.
    pub title: Option<String>,
    pub at: Timestamp,
}

/// A change of some document (created, changed, processed, deleted), in commit order. Search
/// indexes follow these to stay in step with the store, on every node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbChange {
    pub seq: i64,
    pub document_id: DocumentId,
}

/// A passage with its document's title and url, as search results show it.
#[derive(Debug, Clone)]
pub struct KbPassage {
    pub chunk: KbChunk,
    pub title: String,
    pub url: Option<String>,
}

/// A passage's embedding, with what a search needs to filter it.
#[derive(Debug, Clone)]
pub struct EmbeddedChunk {
    pub id: ChunkId,
    pub document_id: DocumentId,
    /// The document's widgets (empty: every widget).
    pub widget_ids: Vec<WidgetId>,
    pub vector: Vec<f32>,
}

/// Every mutating method also records a [`KbChange`] in the same transaction.
#[async_trait]
pub trait KbStore: Send + Sync {
    /// Stores a new document (normally `processing`) with its content.
    async fn create_document(&self, document: &KbDocument, content: &str) -> StoreResult<()>;
    async fn get_document(&self, tenant: &TenantId, id: &DocumentId) -> StoreResult<KbDocument>;
    async fn get_document_content(&self, tenant: &TenantId, id: &DocumentId)
    -> StoreResult<String>;
    async fn list_documents(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<KbDocument>>;
    /// Saves the document's fields (title, url, format, widgets, status, error) and, when given,
    /// new content. A document set back to `processing` keeps its old passages until replaced.
    async fn update_document(
        &self,
        document: &KbDocument,
        content: Option<&str>,
    ) -> StoreResult<()>;
    /// Replaces the document's passages (it stays `processing` until [`mark_document_ready`],
    /// once they are indexed), unless it changed since `expected_updated_at` (then nothing is
    /// written and `false` returned: newer content is being processed).
    ///
    /// [`mark_document_ready`]: KbStore::mark_document_ready
    async fn finish_document(
        &self,
        tenant: &TenantId,
        id: &DocumentId,
        expected_updated_at: Timestamp,
        processed: &ProcessedDocument,
    ) -> StoreResult<bool>;
    /// Marks a processed document `ready` (searchable), unless it changed since
    /// `expected_updated_at`. Not a change for indexes: they hold its passages already.
    async fn mark_document_ready(
        &self,
        tenant: &TenantId,
        id: &DocumentId,
        expected_updated_at: Timestamp,
    ) -> StoreResult<bool>;
    /// Marks the document `failed` with `error` (its passages are removed), unless it changed
    /// since `expected_updated_at`.
    async fn fail_document(
        &self,
        tenant: &TenantId,
        id: &DocumentId,
        expected_updated_at: Timestamp,
        error: &str,
    ) -> StoreResult<bool>;
    async fn delete_document(&self, tenant: &TenantId, id: &DocumentId) -> StoreResult<()>;

    /// Documents left `processing` (by a stop in the middle of it), any tenant.
    async fn processing_documents(&self) -> StoreResult<Vec<(TenantId, DocumentId)>>;
    /// A document and its passages by id alone, for the index (which serves every tenant).
    async fn document_for_index(
        &self,
        id: &DocumentId,
    ) -> StoreResult<Option<(KbDocument, Vec<KbChunk>)>>;
    /// Ids of documents that have passages, after `after`, in id order, any tenant (for
    /// rebuilding indexes). Not only `ready` ones: a document is marked ready once indexed, so a
    /// rebuild between the two must include it.
    async fn indexed_documents(
        &self,
        after: Option<&DocumentId>,
        limit: u32,
    ) -> StoreResult<Vec<DocumentId>>;
    async fn changes_since(&self, seq: i64, limit: u32) -> StoreResult<Vec<KbChange>>;
    /// The newest change (0 when there is none).
    async fn last_change(&self) -> StoreResult<i64>;

    /// The tenant's passages embedded with `model`, from `ready` documents.
    async fn embedded_chunks(
        &self,
        tenant: &TenantId,
        model: &str,
    ) -> StoreResult<Vec<EmbeddedChunk>>;
    /// Passages by id (those of other tenants are left out), with their documents' titles.
    async fn passages(&self, tenant: &TenantId, ids: &[ChunkId]) -> StoreResult<Vec<KbPassage>>;
}
