//! Keeping this node's index in step with the store: a full rebuild when the index is new or
//! unusable, then the store's change log, applied in order. Change numbers are given at insert,
//! not at commit, so on PostgreSQL a lower number can show up after a higher one: a missing
//! number is looked for again until it appears, or until it is old enough to have been rolled
//! back.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use sb_domain::{DocumentId, KbChunk, KbDocument};
use sb_kb::{IndexedChunk, Lang};

use super::process::passage_text;
use crate::{EngineError, KnowledgeService};

/// How long a missing change number is waited for.
const GAP_PATIENCE: Duration = Duration::from_secs(30);
/// Changes read per query, and documents loaded per index write.
const PAGE: u32 = 500;

pub(super) struct SyncState {
    /// Every change up to this one is in the index; `None`: rebuild first.
    low: Option<i64>,
    /// Changes above `low` that are already applied.
    above: BTreeSet<i64>,
    /// When each missing change number was first noticed.
    gaps: HashMap<i64, Instant>,
}

impl SyncState {
    pub(super) fn new(applied: Option<i64>) -> Self {
        Self { low: applied, above: BTreeSet::new(), gaps: HashMap::new() }
    }
}

/// A document's passages as the index holds them.
fn indexed(document: &KbDocument, chunks: &[KbChunk]) -> Vec<IndexedChunk> {
    let widgets: Vec<String> = document.widget_ids.iter().map(ToString::to_string).collect();
    chunks
        .iter()
        .map(|chunk| IndexedChunk {
            chunk_id: chunk.id.to_string(),
            document_id: document.id.to_string(),
            tenant_id: document.tenant_id.to_string(),
            widgets: widgets.clone(),
            title: document.title.clone(),
            text: passage_text(&document.title, chunk),
            lang: Lang::from_code(&chunk.language).unwrap_or(Lang::Other),
        })
        .collect()
}

impl KnowledgeService {
    /// Brings the index up to date with the store. A failure is logged; searches go on with
    /// what the index has, and the next sync catches up.
    pub async fn sync_index(&self) {
        if let Err(err) = self.try_sync_index().await {
            tracing::warn!(error = %err, "could not update the knowledge-base index");
        }
    }

    /// Syncs every `every` while the engine lives (other nodes' changes arrive this way).
    pub fn keep_index_in_sync(self: &Arc<Self>, every: Duration) {
        let engine: Weak<KnowledgeService> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(engine) = engine.upgrade() else { return };
                engine.sync_index().await;
            }
        });
    }

    async fn try_sync_index(&self) -> Result<(), EngineError> {
        let mut state = self.knowledge.sync.lock().await;
        let mut low = match state.low {
            Some(low) => low,
            None => self.rebuild_index().await?,
        };
        let before = state.low;
        let mut touched = BTreeSet::new();
        let mut cursor = low;
        loop {
            let changes = self.store.kb.changes_since(cursor, PAGE).await?;
            for change in &changes {
                if state.above.insert(change.seq) {
                    touched.insert(change.document_id.clone());
                }
            }
            cursor = changes.last().map_or(cursor, |c| c.seq);
            if changes.len() < PAGE as usize {
                break;
            }
        }
        let now = Instant::now();
        loop {
            let next = low + 1;
            if state.above.remove(&next) {
                state.gaps.remove(&next);
                low = next;
                continue;
            }
            if state.above.is_empty() {
                break;
            }
            let noticed = *state.gaps.entry(next).or_insert(now);
            if now.duration_since(noticed) < GAP_PATIENCE {
                break;
            }
            state.gaps.remove(&next);
            low = next;
        }
        if touched.is_empty() && before == Some(low) {
            return Ok(());
        }
        let documents: Vec<DocumentId> = touched.into_iter().collect();
        self.reindex(&documents, low).await?;
        state.low = Some(low);
        Ok(())
    }

    /// Loads `documents` from the store and replaces them in the index (removes the deleted),
    /// then commits with `low` as the last change applied.
    async fn reindex(&self, documents: &[DocumentId], low: i64) -> Result<(), EngineError> {
        let mut batch = Vec::with_capacity(documents.len());
        for id in documents {
            let chunks = match self.store.kb.document_for_index(id).await? {
                Some((document, chunks)) => indexed(&document, &chunks),
                None => Vec::new(),
            };
            batch.push((id.to_string(), chunks));
        }
        let index = self.knowledge.index.clone();
        tokio::task::spawn_blocking(move || {
            for (id, chunks) in &batch {
                index.put_document(id, chunks)?;
            }
            index.commit(low)
        })
        .await
        .map_err(|e| EngineError::Internal(e.to_string()))?
        .map_err(|e| EngineError::Internal(e.to_string()))?;
        // Cached vectors may now be stale.
        self.knowledge.vectors.lock().unwrap_or_else(|p| p.into_inner()).clear();
        Ok(())
    }

    /// Fills an empty index from the store; returns the last change it now holds.
    async fn rebuild_index(&self) -> Result<i64, EngineError> {
        let started = Instant::now();
        // Read first: changes after this point are applied by the sync that follows.
        let last = self.store.kb.last_change().await?;
        let index = self.knowledge.index.clone();
        tokio::task::spawn_blocking(move || index.clear())
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))?
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let mut after: Option<DocumentId> = None;
        let mut count = 0;
        loop {
            let ids = self.store.kb.indexed_documents(after.as_ref(), PAGE).await?;
            count += ids.len();
            self.reindex(&ids, last).await?;
            if ids.len() < PAGE as usize {
                break;
            }
            after = ids.last().cloned();
        }
        self.reindex(&[], last).await?;
        tracing::info!(
            documents = count,
            passages = self.knowledge.index.len(),
            ms = started.elapsed().as_millis() as u64,
            "knowledge-base index built from the store"
        );
        Ok(last)
    }
}
