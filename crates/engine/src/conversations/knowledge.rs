//! The knowledge base in a conversation: passages that ground an AI reply, and — when AI is off
//! or fails, or a rule says `REPLY_KB` — the best passage as the answer itself.

use sb_domain::analytics::ReplySource;
use serde_json::json;

use crate::conversations::Run;
use crate::kb::{SearchHit, SearchRequest};
use crate::{ConversationsService, EngineError};

/// Passages given to the model with each reply.
const GROUNDING_PASSAGES: usize = 4;
/// A passage answers on its own only if it holds at least this share of the question's words
/// (or every identifier in it): better no answer than a wrong one.
const MIN_COVERAGE: f32 = 0.5;

impl ConversationsService {
    /// Passages relevant to the visitor's message, best first, recorded in the trace.
    pub(crate) async fn knowledge_for(&self, run: &Run<'_>, limit: usize) -> Vec<SearchHit> {
        let language = run.conversation.visitor.language.clone();
        let request = SearchRequest {
            tenant: &run.tenant.id,
            widget: Some(&run.conversation.widget_id),
            query: &run.message.text,
            language: language.as_deref(),
            limit,
        };
        let hits = match self.knowledge.knowledge_search(&request).await {
            Ok(hits) => hits,
            Err(err) => {
                self.note(run, "kb_error", json!({"error": err.to_string()})).await;
                return Vec::new();
            }
        };
        if !hits.is_empty() {
            let found: Vec<_> = hits
                .iter()
                .map(|h| json!({"document_id": h.document_id, "title": h.title, "score": h.score, "coverage": h.coverage}))
                .collect();
            self.note(run, "kb_search", json!({"passages": found})).await;
        }
        hits
    }

    /// (title, passage) pairs for the AI's prompt.
    pub(crate) async fn knowledge_passages(&self, run: &Run<'_>) -> Vec<(String, String)> {
        self.knowledge_for(run, GROUNDING_PASSAGES)
            .await
            .into_iter()
            .map(|hit| (hit.title, hit.text))
            .collect()
    }

    /// Replies with the best passage if one answers the message well enough; returns whether
    /// it did.
    pub(crate) async fn reply_from_knowledge(
        &self,
        run: &mut Run<'_>,
    ) -> Result<bool, EngineError> {
        let hits = self.knowledge_for(run, 3).await;
        let Some(best) = hits.into_iter().find(|h| h.coverage >= MIN_COVERAGE || h.exact) else {
            self.note(run, "kb_no_answer", json!({})).await;
            return Ok(false);
        };
        let text = format!("{}\n\n— {}", best.text, best.title);
        self.reply(run, &text, ReplySource::Kb).await?;
        Ok(true)
    }

    /// `REPLY_KB`: the best passage, or the fallback template when none answers.
    pub(crate) async fn reply_kb(
        &self,
        run: &mut Run<'_>,
        fallback: Option<&str>,
    ) -> Result<(), EngineError> {
        if self.reply_from_knowledge(run).await? {
            return Ok(());
        }
        if let Some(fallback) = fallback {
            let text = sb_domain::template::Template::parse("fallback", fallback)
                .map(|t| t.render_text(&run.vars).0)
                .unwrap_or_else(|_| fallback.to_owned());
            self.reply(run, &text, ReplySource::Fallback).await?;
        }
        Ok(())
    }
}
