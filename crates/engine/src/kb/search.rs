//! Hybrid search: BM25 over the index always; cosine similarity over the passages' embeddings
//! when the tenant has an embeddings model; the two rankings fused (see `sb_kb::fuse`).

use std::collections::HashMap;
use std::sync::Arc;

use sb_domain::{ChunkId, DocumentId, TenantId, WidgetId};
use sb_kb::{Hit, Lang, fuse};
use sb_store::{EmbeddedChunk, KbPassage};

use crate::{Actor, EngineError, KnowledgeService};

/// The most passages one search returns.
pub const MAX_LIMIT: usize = 20;
/// Candidates taken from each ranking per passage wanted.
const DEPTH: usize = 3;

pub struct SearchRequest<'a> {
    pub tenant: &'a TenantId,
    /// Only passages this widget may use.
    pub widget: Option<&'a WidgetId>,
    pub query: &'a str,
    /// The asker's language (ISO code), when known.
    pub language: Option<&'a str>,
    pub limit: usize,
}

/// A passage found, best first.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct SearchHit {
    pub chunk_id: ChunkId,
    pub document_id: DocumentId,
    pub title: String,
    pub url: Option<String>,
    /// The headings above the passage in its document.
    pub headings: Vec<String>,
    pub text: String,
    /// The best fragment, HTML-escaped, the matched words in `<b>` (full-text matches only).
    pub snippet_html: String,
    /// The fused score: higher is better; comparable within one search only.
    pub score: f32,
    /// Its place in the full-text (BM25) ranking, from 1.
    pub text_rank: Option<usize>,
    /// Its place in the vector ranking, from 1.
    pub vector_rank: Option<usize>,
    /// The share of the question's words the passage contains, 0 to 1.
    pub coverage: f32,
    /// Whether it contains every identifier (order number, SKU) of the question.
    pub exact: bool,
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0_f32, 0.0_f32, 0.0_f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na.sqrt() * nb.sqrt()) }
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl KnowledgeService {
    /// `GET /kb/search`: the account's passages best matching `query`.
    pub async fn search_knowledge(
        &self,
        actor: &Actor,
        query: &str,
        widget: Option<&WidgetId>,
        language: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SearchHit>, EngineError> {
        let request = SearchRequest { tenant: &actor.tenant_id, widget, query, language, limit };
        self.knowledge_search(&request).await
    }

    pub(crate) async fn knowledge_search(
        &self,
        request: &SearchRequest<'_>,
    ) -> Result<Vec<SearchHit>, EngineError> {
        let limit = request.limit.clamp(1, MAX_LIMIT);
        let text_hits = self.text_search(request, limit * DEPTH).await?;
        let vector_ids = self.vector_search(request, limit * DEPTH).await;
        let by_text: Vec<String> = text_hits.iter().map(|h| h.chunk_id.clone()).collect();
        let by_vector: Vec<String> = vector_ids.iter().map(ToString::to_string).collect();
        // Passages only the vectors found: their text is needed for the identifier rule.
        let vector_only: Vec<ChunkId> =
            vector_ids.iter().filter(|id| !by_text.contains(&id.to_string())).cloned().collect();
        let fetched = self.store.kb.passages(request.tenant, &vector_only).await?;
        let mut texts: HashMap<String, &str> =
            text_hits.iter().map(|h| (h.chunk_id.clone(), h.text.as_str())).collect();
        texts.extend(fetched.iter().map(|p| (p.chunk.id.to_string(), p.chunk.text.as_str())));
        let ranked = fuse(request.query, &by_text, &by_vector, |id| texts.get(id).copied());
        let chosen: Vec<ChunkId> =
            ranked.iter().take(limit).filter_map(|r| r.id.parse().ok()).collect();
        let passages: HashMap<String, KbPassage> = self
            .store
            .kb
            .passages(request.tenant, &chosen)
            .await?
            .into_iter()
            .map(|p| (p.chunk.id.to_string(), p))
            .collect();
        let hits_by_id: HashMap<&str, &Hit> =
            text_hits.iter().map(|h| (h.chunk_id.as_str(), h)).collect();
        Ok(ranked
            .into_iter()
            .take(limit)
            .filter_map(|r| {
                let passage = passages.get(&r.id)?;
                let hit = hits_by_id.get(r.id.as_str());
                Some(SearchHit {
                    chunk_id: passage.chunk.id.clone(),
                    document_id: passage.chunk.document_id.clone(),
                    title: passage.title.clone(),
                    url: passage.url.clone(),
                    headings: passage.chunk.headings.clone(),
                    text: passage.chunk.text.clone(),
                    snippet_html: hit.map_or_else(
                        || escape_html(&passage.chunk.text.chars().take(200).collect::<String>()),
                        |h| h.snippet_html.clone(),
                    ),
                    score: r.score,
                    text_rank: r.text_rank,
                    vector_rank: r.vector_rank,
                    coverage: hit.map_or(0.0, |h| h.coverage),
                    exact: r.exact,
                })
            })
            .collect())
    }

    async fn text_search(
        &self,
        request: &SearchRequest<'_>,
        depth: usize,
    ) -> Result<Vec<Hit>, EngineError> {
        let index = self.knowledge.index.clone();
        let (tenant, widget) =
            (request.tenant.to_string(), request.widget.map(ToString::to_string));
        let query = request.query.to_owned();
        let language = request.language.and_then(Lang::from_code);
        tokio::task::spawn_blocking(move || {
            index.search(&tenant, widget.as_deref(), &query, language, depth)
        })
        .await
        .map_err(|e| EngineError::Internal(e.to_string()))?
        .map_err(|e| EngineError::Internal(e.to_string()))
    }

    /// The nearest passages by embedding; empty without an embeddings model, or when the model
    /// cannot be reached (full-text search then stands alone).
    async fn vector_search(&self, request: &SearchRequest<'_>, depth: usize) -> Vec<ChunkId> {
        let provider = match self.ai.embedder_for(request.tenant).await {
            Ok(Some(provider)) => provider,
            _ => return Vec::new(),
        };
        let question = [request.query.to_owned()];
        let query = match self.ai.embed_texts(provider.as_ref(), request.tenant, &question).await {
            Ok(mut vectors) if !vectors.is_empty() => vectors.swap_remove(0),
            Ok(_) => return Vec::new(),
            Err(err) => {
                tracing::warn!(error = %err, "could not embed the question; full-text search only");
                return Vec::new();
            }
        };
        let vectors = match self.tenant_vectors(request.tenant, provider.model()).await {
            Ok(vectors) => vectors,
            Err(err) => {
                tracing::warn!(error = %err, "could not load passage vectors");
                return Vec::new();
            }
        };
        let mut scored: Vec<(f32, &EmbeddedChunk)> = vectors
            .iter()
            .filter(|c| {
                c.widget_ids.is_empty()
                    || request.widget.is_some_and(|w| c.widget_ids.contains(w))
                    || request.widget.is_none()
            })
            .map(|c| (cosine(&query, &c.vector), c))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.into_iter().take(depth).map(|(_, c)| c.id.clone()).collect()
    }

    async fn tenant_vectors(
        &self,
        tenant: &TenantId,
        model: &str,
    ) -> Result<Arc<Vec<EmbeddedChunk>>, EngineError> {
        let key = (tenant.clone(), model.to_owned());
        if let Some(cached) =
            self.knowledge.vectors.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
        {
            return Ok(cached.clone());
        }
        let loaded = Arc::new(self.store.kb.embedded_chunks(tenant, model).await?);
        self.knowledge
            .vectors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, loaded.clone());
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_vectors() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 1.0]), 0.0, "different models never match");
    }
}
