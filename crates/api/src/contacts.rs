//! `/contacts`: the people behind the account's conversations — found again by their verified
//! identity or their browser — with their profile and history (docs/inbox.md#contacts).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use sb_domain::{AuditEntry, Contact, ContactId};
use sb_engine::conversations::{ContactExport, ContactUpdate};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Auth;
use crate::conversations::ConversationView;
use crate::error::{ApiError, ApiResult};
use crate::json::{ApiJson, Data, List, NoContent, page_request, present};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Contacts")
        .get(
            "/contacts",
            "List contacts, latest seen first; q searches name, e-mail, user id",
            list,
        )
        .get("/contacts/{id}", "Show a contact", show)
        .patch("/contacts/{id}", "Correct a contact's profile or set attributes", update)
        .get("/contacts/{id}/conversations", "The contact's conversations, newest first", history)
        .get(
            "/contacts/{id}/export",
            "Everything held about the contact, as one document (admins)",
            export,
        )
        .get(
            "/contacts/{id}/export.zip",
            "The same document with every file the contact sent or got, zipped (admins)",
            export_zip,
        )
        .delete(
            "/contacts/{id}",
            "Erase the contact and everything held about them (admins)",
            erase,
        )
        .get("/audit-log", "What the account's people did, newest first (owners)", audit_log)
}

async fn export(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ContactId>,
) -> ApiResult<Data<ContactExport>> {
    Ok(Data(state.conversations.export_contact(&actor, &id).await?))
}

/// `contact.json` (the export) and `attachments/<id>/<name>` for each file.
pub(crate) struct ExportZip(Vec<u8>);

async fn export_zip(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ContactId>,
) -> ApiResult<ExportZip> {
    let (export, files) = state.conversations.export_contact_with_files(&actor, &id).await?;
    let zip = tokio::task::spawn_blocking(move || zip_export(&export, &files))
        .await
        .map_err(|err| ApiError::internal(format!("zip task failed: {err}")))?
        .map_err(|err| ApiError::internal(format!("cannot zip the export: {err}")))?;
    Ok(ExportZip(zip))
}

fn zip_export(
    export: &ContactExport,
    files: &[(sb_domain::attachment::AttachmentRef, Vec<u8>)],
) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("contact.json", deflated)?;
    zip.write_all(&serde_json::to_vec_pretty(&serde_json::json!({"data": export}))?)?;
    // Pictures and PDFs are compressed already.
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (listed, bytes) in files {
        zip.start_file(format!("attachments/{}/{}", listed.id, listed.name), stored)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

impl axum::response::IntoResponse for ExportZip {
    fn into_response(self) -> axum::response::Response {
        use axum::http::header;
        let headers = [
            (header::CONTENT_TYPE, "application/zip"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"contact-export.zip\""),
        ];
        (headers, self.0).into_response()
    }
}

async fn erase(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ContactId>,
) -> ApiResult<NoContent> {
    state.conversations.erase_contact(&actor, &id).await?;
    Ok(NoContent)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// Items per page (1 to 200, default 50).
    #[schemars(with = "Option<u32>")]
    limit: Option<String>,
    /// The `next` value of the previous page.
    cursor: Option<String>,
}

async fn audit_log(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<List<AuditEntry>> {
    let Query(query) = query
        .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text()))?;
    let page = page_request(query.limit, query.cursor)?;
    Ok(List(state.accounts.audit_log(&actor, &page).await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Part of a name, an e-mail address or a user id.
    q: Option<String>,
    /// Items per page (1 to 200, default 50).
    #[schemars(with = "Option<u32>")]
    limit: Option<String>,
    /// The `next` value of the previous page.
    cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<List<Contact>> {
    let Query(query) = query
        .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text()))?;
    let page = page_request(query.limit, query.cursor)?;
    Ok(List(state.conversations.list_contacts(&actor, query.q.as_deref(), &page).await?))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ContactId>,
) -> ApiResult<Data<Contact>> {
    Ok(Data(state.conversations.get_contact(&actor, &id).await?))
}

/// The fields to change; absent ones keep their value, `null` clears one. The identity a site
/// signed (`user_id`, `verified`) is not edited here.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ContactUpdate")]
struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    language: Option<Option<String>>,
    /// Merged into the contact's attributes; a key set to null is removed (16 KiB in all).
    #[serde(default)]
    attributes: BTreeMap<String, Value>,
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ContactId>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Data<Contact>> {
    let update = ContactUpdate {
        name: body.name,
        email: body.email,
        language: body.language,
        attributes: body.attributes,
    };
    Ok(Data(state.conversations.update_contact(&actor, &id, update).await?))
}

async fn history(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ContactId>,
) -> ApiResult<List<ConversationView>> {
    let conversations = state.conversations.contact_conversations(&actor, &id).await?;
    let items = conversations.into_iter().map(ConversationView::from).collect();
    Ok(List(sb_domain::Page { items, next: None }))
}
