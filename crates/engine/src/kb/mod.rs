//! The knowledge base: a tenant's documents, processed into passages (fetched from a URL through
//! the SSRF-safe client when asked), indexed for full-text search on every node, optionally
//! embedded for vector search, and searched to ground AI replies or to answer on their own.

mod process;
mod search;
mod sync;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use sb_domain::{
    DocumentId, KbDocument, KbStatus, Role, TenantId, Timestamp, ValidationError, WidgetId,
    display_name,
};
use sb_kb::{Format, IndexError, KbIndex};
use sb_net::{HttpClient, Url};
use sb_store::{Page, PageRequest};

pub use search::{SearchHit, SearchRequest};

use crate::{Actor, AiService, EngineError};

stores!(KnowledgeStores { kb: KbStore, widgets: WidgetStore });

/// The knowledge-base aggregate: documents, their processing into passages, the search index
/// and search.
pub struct KnowledgeService {
    store: KnowledgeStores,
    knowledge: Knowledge,
    /// Embeddings, when the tenant's model offers them.
    ai: Arc<AiService>,
}

impl KnowledgeService {
    pub fn new(
        store: &Arc<dyn sb_store::Store>,
        knowledge: Knowledge,
        ai: Arc<AiService>,
    ) -> Arc<Self> {
        Arc::new(Self { store: KnowledgeStores::of(store), knowledge, ai })
    }
}

/// Largest content accepted, in characters (a page fetched from a URL is capped by the client).
pub const MAX_CONTENT_CHARS: usize = 2_000_000;

/// The knowledge base's machinery on this node: the index and what keeps it in step.
pub struct Knowledge {
    index: Arc<KbIndex>,
    /// The last store change the index holds, once opened; `None`: rebuild before use.
    sync: tokio::sync::Mutex<sync::SyncState>,
    /// Tenants' passage vectors, per embeddings model, loaded on first vector search.
    vectors: Mutex<HashMap<(TenantId, String), TenantVectors>>,
    /// Fetches documents from URLs: SSRF rules apply.
    http: HttpClient,
    /// Background processing: four documents at a time, at most two of one tenant, tenants
    /// taking turns.
    workers: Arc<crate::fair_slots::FairSlots>,
}

impl Knowledge {
    /// Opens the index in `dir` (in memory when `None`).
    pub fn open(dir: Option<&Path>, http: HttpClient) -> Result<Self, EngineError> {
        let opened = match KbIndex::open(dir) {
            // Two servers on one data folder: the second keeps its index in memory.
            Err(IndexError::InUse) => {
                tracing::warn!(
                    dir = %dir.map(|d| d.display().to_string()).unwrap_or_default(),
                    "the knowledge-base index folder is in use by another server; this one keeps its index in memory"
                );
                KbIndex::open(None)
            }
            other => other,
        };
        let (index, applied) = opened.map_err(|e| EngineError::Internal(e.to_string()))?;
        Ok(Self {
            index: Arc::new(index),
            sync: tokio::sync::Mutex::new(sync::SyncState::new(applied)),
            vectors: Mutex::default(),
            http,
            workers: crate::fair_slots::FairSlots::new(4, 2),
        })
    }
}

/// One tenant's embedded passages for one model.
type TenantVectors = Arc<Vec<sb_store::EmbeddedChunk>>;

/// A document as submitted; on update, absent fields keep their value.
#[derive(Debug, Default)]
pub struct DocumentDraft {
    pub title: Option<String>,
    pub content: Option<String>,
    /// `Some(None)` removes the URL.
    pub url: Option<Option<String>>,
    pub format: Option<String>,
    pub widget_ids: Option<Vec<WidgetId>>,
}

/// A document with its content.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct DocumentWithContent {
    #[serde(flatten)]
    pub document: KbDocument,
    pub content: String,
}

fn parse_format(raw: &str) -> Result<Format, ValidationError> {
    Format::parse(raw).ok_or_else(|| {
        ValidationError::new("format", "invalid_format", "use text, markdown or html")
    })
}

fn check_content(content: &str) -> Result<(), ValidationError> {
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(ValidationError::new(
            "content",
            "too_long",
            format!("must be at most {MAX_CONTENT_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A timestamp after `previous`: processing compares `updated_at` to tell versions apart, so two
/// versions must never share one.
fn next_version(previous: Timestamp) -> Timestamp {
    let now = Timestamp::now();
    if now > previous { now } else { previous + jiff::SignedDuration::from_millis(1) }
}

impl KnowledgeService {
    fn check_url(&self, raw: &str) -> Result<String, ValidationError> {
        let url = Url::parse(raw.trim())
            .map_err(|e| ValidationError::new("url", "invalid_url", format!("not a URL: {e}")))?;
        crate::connections::check_public_url("url", &url, self.knowledge.http.policy())?;
        Ok(url.to_string())
    }

    async fn check_widgets(&self, actor: &Actor, ids: &[WidgetId]) -> Result<(), EngineError> {
        for (i, id) in ids.iter().enumerate() {
            if self.store.widgets.get_widget(&actor.tenant_id, id).await.is_err() {
                return Err(ValidationError::new(
                    format!("widget_ids[{i}]"),
                    "unknown_widget",
                    "no such widget in this account",
                )
                .into());
            }
        }
        Ok(())
    }

    pub async fn create_document(
        self: &Arc<Self>,
        actor: &Actor,
        draft: DocumentDraft,
    ) -> Result<KbDocument, EngineError> {
        actor.require(Role::Admin)?;
        let url = draft.url.flatten().map(|u| self.check_url(&u)).transpose()?;
        let content = draft.content.unwrap_or_default();
        check_content(&content)?;
        if content.trim().is_empty() && url.is_none() {
            return Err(ValidationError::new(
                "content",
                "required",
                "give the content, or a url to fetch it from",
            )
            .into());
        }
        // Fetched pages may bring their own title; typed content needs one.
        let title = match (draft.title, &url) {
            (Some(title), _) => display_name(&title, "title", 200)?,
            (None, Some(url)) => url.clone(),
            (None, None) => {
                return Err(ValidationError::new("title", "required", "must not be empty").into());
            }
        };
        let format = parse_format(draft.format.as_deref().unwrap_or("markdown"))?;
        let widget_ids = draft.widget_ids.unwrap_or_default();
        self.check_widgets(actor, &widget_ids).await?;
        let now = Timestamp::now();
        let document = KbDocument {
            id: DocumentId::new(),
            tenant_id: actor.tenant_id.clone(),
            title,
            url,
            format: format.as_str().into(),
            widget_ids,
            status: KbStatus::Processing,
            error: None,
            language: None,
            chunks: 0,
            characters: 0,
            embedding_model: None,
            created_at: now,
            updated_at: now,
        };
        self.store.kb.create_document(&document, &content).await?;
        self.process_soon(&document.tenant_id, &document.id).await
    }

    pub async fn update_document(
        self: &Arc<Self>,
        actor: &Actor,
        id: &DocumentId,
        draft: DocumentDraft,
    ) -> Result<KbDocument, EngineError> {
        actor.require(Role::Admin)?;
        let mut document = self.store.kb.get_document(&actor.tenant_id, id).await?;
        let mut reprocess = false;
        let mut content = draft.content;
        if let Some(title) = draft.title {
            document.title = display_name(&title, "title", 200)?;
        }
        if let Some(url) = draft.url {
            document.url = url.map(|u| self.check_url(&u)).transpose()?;
            // A new url is imported from, unless new content comes with it.
            if document.url.is_some() && content.is_none() {
                content = Some(String::new());
            }
            reprocess = true;
        }
        if let Some(format) = draft.format {
            document.format = parse_format(&format)?.as_str().into();
            reprocess = true;
        }
        if let Some(content) = &content {
            check_content(content)?;
            if content.trim().is_empty() && document.url.is_none() {
                return Err(ValidationError::new("content", "required", "must not be empty").into());
            }
            reprocess = true;
        }
        if let Some(widget_ids) = draft.widget_ids {
            self.check_widgets(actor, &widget_ids).await?;
            document.widget_ids = widget_ids;
        }
        // A changed title or widget list is re-indexed from the stored passages; new content,
        // format or url is processed again.
        document.updated_at = next_version(document.updated_at);
        if reprocess {
            document.status = KbStatus::Processing;
            document.error = None;
        }
        self.store.kb.update_document(&document, content.as_deref()).await?;
        if reprocess {
            return self.process_soon(&document.tenant_id, &document.id).await;
        }
        self.sync_index().await;
        Ok(document)
    }

    /// Fetches the document's URL again and processes what it says now.
    pub async fn refresh_document(
        self: &Arc<Self>,
        actor: &Actor,
        id: &DocumentId,
    ) -> Result<KbDocument, EngineError> {
        actor.require(Role::Admin)?;
        let mut document = self.store.kb.get_document(&actor.tenant_id, id).await?;
        if document.url.is_none() {
            return Err(ValidationError::new("url", "no_url", "the document has no url").into());
        }
        document.status = KbStatus::Processing;
        document.error = None;
        document.updated_at = next_version(document.updated_at);
        // Empty content makes processing fetch the URL again.
        self.store.kb.update_document(&document, Some("")).await?;
        self.process_soon(&document.tenant_id, &document.id).await
    }

    pub async fn delete_document(&self, actor: &Actor, id: &DocumentId) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        self.store.kb.delete_document(&actor.tenant_id, id).await?;
        self.sync_index().await;
        Ok(())
    }

    pub async fn get_document(
        &self,
        actor: &Actor,
        id: &DocumentId,
    ) -> Result<DocumentWithContent, EngineError> {
        let document = self.store.kb.get_document(&actor.tenant_id, id).await?;
        let content = self.store.kb.get_document_content(&actor.tenant_id, id).await?;
        Ok(DocumentWithContent { document, content })
    }

    pub async fn list_documents(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<KbDocument>, EngineError> {
        Ok(self.store.kb.list_documents(&actor.tenant_id, page).await?)
    }
}
