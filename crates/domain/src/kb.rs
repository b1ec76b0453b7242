//! The knowledge base: a tenant's documents (return policy, shipping times, …) and the passages
//! they are cut into for search.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ChunkId, DocumentId, TenantId, Timestamp, WidgetId};

/// Where a document is in its processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KbStatus {
    /// Being fetched, cut into passages or indexed.
    Processing,
    /// Searchable.
    Ready,
    /// Could not be processed; `error` says why.
    Failed,
}

impl KbStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KbStatus::Processing => "processing",
            KbStatus::Ready => "ready",
            KbStatus::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "processing" => Some(KbStatus::Processing),
            "ready" => Some(KbStatus::Ready),
            "failed" => Some(KbStatus::Failed),
            _ => None,
        }
    }
}

/// A document, without its content (which can be large; it is read on its own).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct KbDocument {
    pub id: DocumentId,
    pub tenant_id: TenantId,
    pub title: String,
    /// Where the content came from (fetched from there when no content was given).
    pub url: Option<String>,
    /// `text`, `markdown` or `html`.
    pub format: String,
    /// Only these widgets use the document; empty: every widget.
    pub widget_ids: Vec<WidgetId>,
    pub status: KbStatus,
    pub error: Option<String>,
    /// The language most of its passages are in (ISO 639-1, `cjk` or `other`).
    pub language: Option<String>,
    /// How many passages it was cut into.
    pub chunks: u32,
    /// Characters of text, after extraction.
    pub characters: u32,
    /// The embeddings model its passages were embedded with, if any.
    pub embedding_model: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A passage of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct KbChunk {
    pub id: ChunkId,
    pub document_id: DocumentId,
    pub tenant_id: TenantId,
    /// Its place in the document, from 0.
    pub ord: u32,
    /// The headings above it, outermost first.
    pub headings: Vec<String>,
    pub text: String,
    pub language: String,
    pub embedding: Option<Vec<f32>>,
}
