//! `/kb`: the knowledge base — documents (typed, or imported from a URL) and search.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use sb_domain::{DocumentId, KbDocument, WidgetId};
use sb_engine::kb::{DocumentDraft, DocumentWithContent, SearchHit};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::json::{ApiJson, Created, Data, Deleted, List, Paging, present};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Knowledge base")
        .get("/kb/documents", "List the documents and their processing status", list)
        .post("/kb/documents", "Add a document: its content, or a URL to import it from", create)
        .get("/kb/documents/{id}", "Show a document with its content", show)
        .patch("/kb/documents/{id}", "Change a document; new content is processed again", update)
        .delete("/kb/documents/{id}", "Delete a document", remove)
        .post("/kb/documents/{id}/refresh", "Import the document's URL again", refresh)
        .get("/kb/search", "Search the passages, best first", search)
}

/// A document to add, or the fields to change.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DocumentInput")]
struct DocumentBody {
    /// Required unless `url` is given (then the page's title is used).
    title: Option<String>,
    /// The text; empty or absent with a `url`: imported from there.
    content: Option<String>,
    /// `text`, `markdown` (the default) or `html`.
    format: Option<String>,
    /// Where the content comes from; fetched through the SSRF-safe client when there is no
    /// content. `null` removes it.
    #[serde(default, deserialize_with = "present")]
    url: Option<Option<String>>,
    /// Only these widgets use the document; empty: every widget.
    widget_ids: Option<Vec<WidgetId>>,
}

impl From<DocumentBody> for DocumentDraft {
    fn from(b: DocumentBody) -> Self {
        Self {
            title: b.title,
            content: b.content,
            url: b.url,
            format: b.format,
            widget_ids: b.widget_ids,
        }
    }
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<DocumentBody>,
) -> ApiResult<Created<KbDocument>> {
    Ok(Created(state.knowledge.create_document(&actor, body.into()).await?))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Paging(page): Paging,
) -> ApiResult<List<KbDocument>> {
    Ok(List(state.knowledge.list_documents(&actor, &page).await?))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<DocumentId>,
) -> ApiResult<Data<DocumentWithContent>> {
    Ok(Data(state.knowledge.get_document(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<DocumentId>,
    ApiJson(body): ApiJson<DocumentBody>,
) -> ApiResult<Data<KbDocument>> {
    Ok(Data(state.knowledge.update_document(&actor, &id, body.into()).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<DocumentId>,
) -> ApiResult<Data<Deleted>> {
    state.knowledge.delete_document(&actor, &id).await?;
    Ok(Deleted::id(id))
}

async fn refresh(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<DocumentId>,
) -> ApiResult<Data<KbDocument>> {
    Ok(Data(state.knowledge.refresh_document(&actor, &id).await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    /// The question or words to look for.
    q: String,
    /// How many passages, 1 to 20 (default 5).
    limit: Option<u32>,
    /// Only passages this widget may use.
    widget_id: Option<String>,
    /// The asker's language (e.g. `de`): passages in it rank higher.
    language: Option<String>,
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message.to_owned())
        .with_field(field)
}

async fn search(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Data<Vec<SearchHit>>> {
    let Query(params) = query
        .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text()))?;
    if params.q.trim().is_empty() {
        return Err(invalid("q", "say what to look for"));
    }
    let limit = params.limit.unwrap_or(5);
    if !(1..=20).contains(&limit) {
        return Err(invalid("limit", "must be from 1 to 20"));
    }
    let widget = params
        .widget_id
        .map(|w| w.parse::<WidgetId>().map_err(|_| invalid("widget_id", "not a widget id")))
        .transpose()?;
    let hits = state
        .knowledge
        .search_knowledge(
            &actor,
            &params.q,
            widget.as_ref(),
            params.language.as_deref(),
            limit as usize,
        )
        .await?;
    Ok(Data(hits))
}
