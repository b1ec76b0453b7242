//! Processing a document: its content (fetched from its URL when it has none), extracted,
//! chunked, embedded when an embeddings model is configured, stored as passages and indexed.
//! Processing works on one version of the document; if the document changes meanwhile, the
//! result is dropped and the newer version is processed instead.

use std::sync::Arc;

use sb_domain::{ChunkId, DocumentId, KbChunk, KbDocument, TenantId, Timestamp};
use sb_kb::{ChunkSizes, Extracted, Format, Lang, chunk, extract};
use sb_net::{Method, OutboundRequest, header};
use sb_store::ProcessedDocument;

use crate::{EngineError, KnowledgeService};

/// Passages embedded per request to the embeddings endpoint.
const EMBEDDING_BATCH: usize = 64;

/// Why processing failed, as stored on the document: `code: message`.
struct Failure(String);

impl Failure {
    fn new(code: &str, message: impl std::fmt::Display) -> Self {
        Failure(format!("{code}: {message}"))
    }
}

impl KnowledgeService {
    /// Processes the document now when that is quick (typed content, no embeddings to fetch),
    /// in the background otherwise. Answers with the document as it then stands.
    pub(super) async fn process_soon(
        self: &Arc<Self>,
        tenant: &TenantId,
        id: &DocumentId,
    ) -> Result<KbDocument, EngineError> {
        let content = self.store.kb.get_document_content(tenant, id).await?;
        if !content.trim().is_empty() && self.ai.embedder_for(tenant).await?.is_none() {
            self.process_document(tenant, id).await?;
        } else {
            let (engine, tenant, id) = (self.clone(), tenant.clone(), id.clone());
            tokio::spawn(async move {
                let _slot = engine.knowledge.workers.acquire(&tenant).await;
                if let Err(err) = engine.process_document(&tenant, &id).await {
                    tracing::warn!(document = %id, error = %err, "could not process a document");
                }
            });
        }
        Ok(self.store.kb.get_document(tenant, id).await?)
    }

    /// Picks up documents a stop left half processed.
    pub async fn resume_documents(self: &Arc<Self>) -> Result<usize, EngineError> {
        let waiting = self.store.kb.processing_documents().await?;
        for (tenant, id) in &waiting {
            self.process_soon(tenant, id).await?;
        }
        Ok(waiting.len())
    }

    async fn process_document(
        &self,
        tenant: &TenantId,
        id: &DocumentId,
    ) -> Result<(), EngineError> {
        let document = self.store.kb.get_document(tenant, id).await?;
        let version = document.updated_at;
        let stored = self.store.kb.get_document_content(tenant, id).await?;
        let written = match self.passages_of(&document, stored).await {
            Ok(processed) => {
                let stored = self.store.kb.finish_document(tenant, id, version, &processed).await?;
                // Ready means searchable: indexed first.
                self.sync_index().await;
                stored && self.store.kb.mark_document_ready(tenant, id, processed.at).await?
            }
            Err(Failure(reason)) => {
                let failed = self.store.kb.fail_document(tenant, id, version, &reason).await?;
                self.sync_index().await;
                failed
            }
        };
        if !written {
            tracing::debug!(document = %id, "the document changed while it was processed");
        }
        Ok(())
    }

    async fn passages_of(
        &self,
        document: &KbDocument,
        stored: String,
    ) -> Result<ProcessedDocument, Failure> {
        let (content, format, fetched) = if stored.trim().is_empty() {
            let url = document
                .url
                .as_deref()
                .ok_or_else(|| Failure::new("no_content", "the document is empty"))?;
            let (content, format) = self.fetch(url).await?;
            (content, format, true)
        } else {
            let format = Format::parse(&document.format).unwrap_or(Format::Markdown);
            (stored, format, false)
        };
        let extracted = extract(&content, format);
        if extracted.characters() == 0 {
            return Err(Failure::new("no_text", "no text was found in the content"));
        }
        let mut chunks = self.chunks_of(document, &extracted);
        let embedding_model = self.embed(document, &mut chunks).await;
        let language = majority_language(&chunks);
        Ok(ProcessedDocument {
            characters: u32::try_from(extracted.characters()).unwrap_or(u32::MAX),
            chunks,
            language,
            embedding_model,
            content: fetched.then_some(content),
            format: fetched.then(|| format.as_str().to_owned()),
            // A fetched page names itself when the document was only given a URL.
            title: extracted
                .title
                .filter(|_| fetched && Some(&document.title) == document.url.as_ref()),
            at: Timestamp::now().max(document.updated_at),
        })
    }

    /// Fetches `url` through the SSRF-safe client: the text and how it is written.
    async fn fetch(&self, url: &str) -> Result<(String, Format), Failure> {
        let request = OutboundRequest::new(Method::GET, url)
            .map_err(|e| Failure::new(e.code(), e))?
            .header("accept", "text/html, text/markdown;q=0.9, text/plain;q=0.8")
            .map_err(|e| Failure::new(e.code(), e))?;
        let response =
            self.knowledge.http.send(request).await.map_err(|e| Failure::new(e.code(), e))?;
        if !response.status.is_success() {
            return Err(Failure::new(
                "fetch_failed",
                format!("the page answered {}", response.status),
            ));
        }
        let content_type = response
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let format = if content_type.contains("html") {
            Format::Html
        } else if content_type.contains("markdown") {
            Format::Markdown
        } else if content_type.starts_with("text/") || content_type.is_empty() {
            Format::Text
        } else {
            return Err(Failure::new("unsupported_content", format!("cannot read {content_type}")));
        };
        let text = String::from_utf8_lossy(&response.body).into_owned();
        Ok((text, format))
    }

    fn chunks_of(&self, document: &KbDocument, extracted: &Extracted) -> Vec<KbChunk> {
        let whole: String = extracted
            .sections
            .iter()
            .flat_map(|s| &s.paragraphs)
            .take(20)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        let document_language = Lang::detect(&whole, Lang::Other);
        chunk(&extracted.sections, ChunkSizes::default())
            .into_iter()
            .enumerate()
            .map(|(ord, c)| KbChunk {
                id: ChunkId::new(),
                document_id: document.id.clone(),
                tenant_id: document.tenant_id.clone(),
                ord: u32::try_from(ord).unwrap_or(u32::MAX),
                language: Lang::detect_reliably(&c.text, document_language).code().into(),
                headings: c.headings,
                text: c.text,
                embedding: None,
            })
            .collect()
    }

    /// Embeds the passages when the tenant has an embeddings model; returns its name if all were
    /// embedded. A failure leaves the document searchable by full text only.
    async fn embed(&self, document: &KbDocument, chunks: &mut [KbChunk]) -> Option<String> {
        let provider = match self.ai.embedder_for(&document.tenant_id).await {
            Ok(Some(provider)) => provider,
            Ok(None) => return None,
            Err(err) => {
                tracing::warn!(error = %err, "no embeddings model");
                return None;
            }
        };
        for batch in chunks.chunks_mut(EMBEDDING_BATCH) {
            let texts: Vec<String> =
                batch.iter().map(|c| passage_text(&document.title, c)).collect();
            match self.ai.embed_texts(provider.as_ref(), &document.tenant_id, &texts).await {
                Ok(vectors) => {
                    for (chunk, vector) in batch.iter_mut().zip(vectors) {
                        chunk.embedding = Some(vector);
                    }
                }
                Err(err) => {
                    tracing::warn!(document = %document.id, error = %err, "embedding failed; full-text search only");
                    chunks.iter_mut().for_each(|c| c.embedding = None);
                    return None;
                }
            }
        }
        Some(provider.model().to_owned())
    }
}

/// What a passage is indexed and embedded as: the document title and headings give it context.
pub(super) fn passage_text(title: &str, chunk: &KbChunk) -> String {
    let mut text = String::from(title);
    for heading in &chunk.headings {
        text.push_str(" › ");
        text.push_str(heading);
    }
    text.push('\n');
    text.push_str(&chunk.text);
    text
}

fn majority_language(chunks: &[KbChunk]) -> Option<String> {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for chunk in chunks {
        *counts.entry(chunk.language.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(lang, n)| (*n, std::cmp::Reverse(*lang)))
        .map(|(l, _)| l.to_owned())
}
