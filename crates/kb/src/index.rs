//! The full-text index (tantivy, BM25) of every tenant's passages. It is a cache of the store:
//! each commit records the last change it contains, and an index that is missing, damaged or of
//! another layout is rebuilt from the store. Every search is confined to one tenant (and to the
//! passages a widget may use) inside the query itself.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TantivyDocument, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term, doc};

use crate::analysis::{Lang, terms};
use crate::highlight::{Highlighted, highlight};

/// Bumped whenever the fields or analyzers change: older indexes are then rebuilt.
const LAYOUT: u32 = 1;
/// How much more a match in the asker's language counts.
const PREFERRED_LANGUAGE_BOOST: f32 = 2.0;
/// Marks passages every widget may use.
const ALL_WIDGETS: &str = "*";

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Another index writer (another process, or another server in this one) holds the
    /// directory.
    #[error("knowledge-base index: the directory is in use by another process")]
    InUse,
    #[error("knowledge-base index: {0}")]
    Failed(String),
}

impl From<tantivy::TantivyError> for IndexError {
    fn from(err: tantivy::TantivyError) -> Self {
        match err {
            tantivy::TantivyError::LockFailure(
                tantivy::directory::error::LockError::LockBusy,
                _,
            ) => IndexError::InUse,
            other => IndexError::Failed(other.to_string()),
        }
    }
}

fn failed(err: impl std::fmt::Display) -> IndexError {
    IndexError::Failed(err.to_string())
}

/// A passage as the index holds it.
#[derive(Debug, Clone)]
pub struct IndexedChunk {
    pub chunk_id: String,
    pub document_id: String,
    pub tenant_id: String,
    /// Empty: every widget of the tenant.
    pub widgets: Vec<String>,
    pub title: String,
    /// The text indexed and quoted: the headings above the passage, then the passage.
    pub text: String,
    pub lang: Lang,
}

/// A passage found by a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub chunk_id: String,
    pub document_id: String,
    pub title: String,
    pub text: String,
    /// BM25; higher is better. Only comparable within one search.
    pub score: f32,
    /// The best fragment, HTML-escaped, with the matched words in `<b>`.
    pub snippet_html: String,
    /// The share of the query's words (after analysis) the passage contains, 0 to 1.
    pub coverage: f32,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    layout: u32,
    /// The last store change the committed index contains.
    seq: i64,
}

struct Fields {
    chunk_id: Field,
    document_id: Field,
    tenant_id: Field,
    widgets: Field,
    title: Field,
    lang: Field,
    text: HashMap<Lang, Field>,
}

pub struct KbIndex {
    /// Built once: an analyzer's stop-word set and stemmer are costly to make per search.
    analyzers: HashMap<Lang, TextAnalyzer>,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let chunk_id = builder.add_text_field("chunk_id", STRING | STORED);
    let document_id = builder.add_text_field("document_id", STRING | STORED);
    let tenant_id = builder.add_text_field("tenant_id", STRING);
    let widgets = builder.add_text_field("widgets", STRING);
    let title = builder.add_text_field("title", STORED);
    let lang = builder.add_text_field("lang", STRING | STORED);
    let text = Lang::ALL
        .iter()
        .map(|lang| {
            let indexing = TextFieldIndexing::default()
                .set_tokenizer(&analyzer_name(*lang))
                .set_index_option(IndexRecordOption::WithFreqsAndPositions);
            let options = TextOptions::default().set_indexing_options(indexing).set_stored();
            (*lang, builder.add_text_field(&format!("text_{}", lang.code()), options))
        })
        .collect();
    let fields = Fields { chunk_id, document_id, tenant_id, widgets, title, lang, text };
    (builder.build(), fields)
}

fn analyzer_name(lang: Lang) -> String {
    format!("sb_{}", lang.code())
}

impl KbIndex {
    /// Opens the index in `dir` (created if missing), or an in-memory one. Returns it with the
    /// last store change it holds; `None` means it is empty or was unusable and must be rebuilt.
    pub fn open(dir: Option<&Path>) -> Result<(Self, Option<i64>), IndexError> {
        let (schema, fields) = schema();
        let index = match dir {
            None => Index::create_in_ram(schema),
            Some(dir) => open_dir(dir, schema)?,
        };
        for lang in Lang::ALL {
            index.tokenizers().register(&analyzer_name(lang), lang.analyzer());
        }
        let payload: Option<Payload> = index
            .load_metas()?
            .payload
            .and_then(|p| serde_json::from_str(&p).ok())
            .filter(|p: &Payload| p.layout == LAYOUT);
        let writer = index.writer_with_num_threads(1, 32_000_000)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let analyzers = Lang::ALL.iter().map(|l| (*l, l.analyzer())).collect();
        let kb = Self { analyzers, reader, writer: Mutex::new(writer), fields };
        let seq = payload.map(|p| p.seq);
        if seq.is_none() {
            kb.clear()?;
        }
        Ok((kb, seq))
    }

    /// Removes everything (before a rebuild).
    pub fn clear(&self) -> Result<(), IndexError> {
        self.writer().delete_all_documents()?;
        Ok(())
    }

    /// Replaces a document's passages (none: it is gone).
    pub fn put_document(
        &self,
        document_id: &str,
        chunks: &[IndexedChunk],
    ) -> Result<(), IndexError> {
        let writer = self.writer();
        writer.delete_term(Term::from_field_text(self.fields.document_id, document_id));
        for chunk in chunks {
            let f = &self.fields;
            let mut document = doc!(
                f.chunk_id => chunk.chunk_id.as_str(),
                f.document_id => chunk.document_id.as_str(),
                f.tenant_id => chunk.tenant_id.as_str(),
                f.title => chunk.title.as_str(),
                f.lang => chunk.lang.code(),
                f.text[&chunk.lang] => chunk.text.as_str(),
            );
            if chunk.widgets.is_empty() {
                document.add_text(f.widgets, ALL_WIDGETS);
            }
            for widget in &chunk.widgets {
                document.add_text(f.widgets, widget);
            }
            writer.add_document(document)?;
        }
        Ok(())
    }

    /// Makes the changes so far visible to searches, recording `seq` as the last one applied.
    pub fn commit(&self, seq: i64) -> Result<(), IndexError> {
        {
            let mut writer = self.writer();
            let mut prepared = writer.prepare_commit()?;
            let payload =
                serde_json::to_string(&Payload { layout: LAYOUT, seq }).map_err(failed)?;
            prepared.set_payload(&payload);
            prepared.commit()?;
        }
        self.reader.reload()?;
        Ok(())
    }

    /// How many passages the index holds (committed).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tenant's passages best matching `query`, for `widget` (or any widget). The query is
    /// analysed for every language; passages in `language` (the asker's, when known; else a
    /// guess from the query) count double.
    pub fn search(
        &self,
        tenant: &str,
        widget: Option<&str>,
        query: &str,
        language: Option<Lang>,
        limit: usize,
    ) -> Result<Vec<Hit>, IndexError> {
        let f = &self.fields;
        let preferred = language.unwrap_or_else(|| Lang::detect(query, Lang::Other));
        let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut query_terms: HashMap<Lang, BTreeSet<String>> = HashMap::new();
        for lang in Lang::ALL {
            let distinct: BTreeSet<String> =
                terms(&mut self.analyzer(lang), query).into_iter().collect();
            for term in &distinct {
                let term = Term::from_field_text(f.text[&lang], term);
                let mut clause: Box<dyn Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                if lang == preferred {
                    clause = Box::new(BoostQuery::new(clause, PREFERRED_LANGUAGE_BOOST));
                }
                words.push((Occur::Should, clause));
            }
            query_terms.insert(lang, distinct);
        }
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let exact = |field: Field, value: &str| -> Box<dyn Query> {
            let term = Term::from_field_text(field, value);
            Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                0.0,
            ))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, exact(f.tenant_id, tenant)),
            (Occur::Must, Box::new(BooleanQuery::new(words))),
        ];
        if let Some(widget) = widget {
            let allowed = BooleanQuery::new(vec![
                (Occur::Should, exact(f.widgets, widget)),
                (Occur::Should, exact(f.widgets, ALL_WIDGETS)),
            ]);
            clauses.push((Occur::Must, Box::new(allowed)));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let found = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut hits = Vec::with_capacity(found.len());
        for (score, address) in found {
            let document: TantivyDocument = searcher.doc(address)?;
            let text_of = |field: Field| {
                document.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
            };
            let lang =
                Lang::ALL.into_iter().find(|l| l.code() == text_of(f.lang)).unwrap_or(Lang::Other);
            let text = text_of(f.text[&lang]);
            let Highlighted { snippet_html, coverage } =
                highlight(&mut self.analyzer(lang), &text, &query_terms[&lang]);
            hits.push(Hit {
                chunk_id: text_of(f.chunk_id),
                document_id: text_of(f.document_id),
                title: text_of(f.title),
                text,
                score,
                snippet_html,
                coverage,
            });
        }
        Ok(hits)
    }

    fn analyzer(&self, lang: Lang) -> TextAnalyzer {
        self.analyzers[&lang].clone()
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        // A panic while holding the writer leaves it usable: tantivy rolls back uncommitted work.
        self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Opens the index in `dir`; an unreadable one is set aside and a new one created.
fn open_dir(dir: &Path, schema: Schema) -> Result<Index, IndexError> {
    std::fs::create_dir_all(dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    let directory = || MmapDirectory::open(dir).map_err(failed);
    match Index::open_or_create(directory()?, schema.clone()) {
        Ok(index) => Ok(index),
        Err(err) => {
            tracing::warn!(error = %err, dir = %dir.display(), "rebuilding the knowledge-base index");
            std::fs::remove_dir_all(dir).map_err(failed)?;
            std::fs::create_dir_all(dir).map_err(failed)?;
            Ok(Index::create(directory()?, schema, Default::default())?)
        }
    }
}
