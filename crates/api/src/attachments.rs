//! Files in conversations: `POST …/attachments` (multipart: one or more `file` parts and an
//! optional `text` caption) by the visitor (visitor token) or the account's people, and the
//! download of each file by the same two. A file is served as what its content is, never
//! guessed: pictures inline, anything else as a download, none of it run by a browser.

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sb_domain::attachment::{AttachmentRef, CEILING_BYTES, MAX_FILES, is_inline_image};
use sb_domain::{AttachmentId, ConversationId, Message, TenantId, VisitorMessage};
use sb_engine::conversations::Upload;

use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::json::Created;
use crate::openapi::ApiRouter;
use crate::path::{AttachmentPathId, PathId};
use crate::state::AppState;
use crate::visitor::VisitorConversation;

/// Under the visitor API's CORS and origin rules.
pub(crate) const VISITOR_PATHS: [&str; 2] = [
    "/widget/conversations/{id}/attachments",
    "/widget/conversations/{id}/attachments/{attachment_id}",
];

/// A caption's size in bytes, at most, while reading it.
const MAX_CAPTION_BYTES: usize = 64 * 1024;

pub(crate) fn visitor_routes(routes: ApiRouter) -> ApiRouter {
    let uploads = ApiRouter::new("Visitors")
        .post(
            VISITOR_PATHS[0],
            "Send files (multipart: `file` parts, optional `text`)",
            visitor_upload,
        )
        .map_router(upload_limit);
    routes.merge(uploads).get(
        VISITOR_PATHS[1],
        "Download a file of the conversation",
        visitor_download,
    )
}

pub fn router() -> ApiRouter {
    let uploads = ApiRouter::new("Conversations")
        .post(
            "/conversations/{id}/attachments",
            "Send files to the visitor (multipart: `file` parts, optional `text`)",
            staff_upload,
        )
        .map_router(upload_limit);
    ApiRouter::new("Conversations")
        .get(
            "/conversations/{id}/attachments/{attachment_id}",
            "Download a file of the conversation",
            staff_download,
        )
        .merge(uploads)
}

/// Uploads may be larger than other requests: the most any account allows, and room for the
/// form around it. The account's own limit is checked while reading.
fn upload_limit(router: axum::Router<AppState>) -> axum::Router<AppState> {
    router.layer(DefaultBodyLimit::max(CEILING_BYTES as usize + 64 * 1024))
}

/// The multipart form of an upload, read once the caller, the conversation and so the
/// account's limits are known: a body that is no form is refused only then, so a stranger
/// learns nothing of a conversation from the way a bad upload fails.
pub(crate) struct FileForm(Result<Multipart, ApiError>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for FileForm {
    type Rejection = std::convert::Infallible;

    async fn from_request(
        req: axum::extract::Request,
        state: &S,
    ) -> Result<Self, std::convert::Infallible> {
        Ok(FileForm(Multipart::from_request(req, state).await.map_err(|_| {
            let message = "send the files as multipart/form-data: `file` parts, optional `text`";
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
        })))
    }
}

fn too_large(message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message).with_field("file")
}

fn unreadable(err: MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(format!("send at most {CEILING_BYTES} bytes in one message"));
    }
    ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", err.body_text())
}

/// Reads a field's bytes, refusing more than `limit` (without reading on).
async fn read_capped(field: &mut Field<'_>, limit: u64, what: &str) -> ApiResult<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(too_large(format!("{what} is larger than the {limit} bytes allowed")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The caption and the files of a form, each file no larger than `max_bytes`.
async fn read_form(form: FileForm, max_bytes: u64) -> ApiResult<(String, Vec<Upload>)> {
    let mut form = form.0?;
    let mut text = String::new();
    let mut files = Vec::new();
    let mut total = 0u64;
    while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("file") => {
                if files.len() == MAX_FILES {
                    let message = format!("send at most {MAX_FILES} files in one message");
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "too_many",
                        message,
                    )
                    .with_field("file"));
                }
                let name = field.file_name().unwrap_or("file").to_owned();
                let limit = max_bytes.min(CEILING_BYTES - total);
                let bytes = read_capped(&mut field, limit, &name).await?;
                total += bytes.len() as u64;
                files.push(Upload { name, bytes });
            }
            Some("text") => {
                let bytes = read_capped(&mut field, MAX_CAPTION_BYTES as u64, "text").await?;
                text = String::from_utf8(bytes).map_err(|_| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_field",
                        "text must be UTF-8",
                    )
                    .with_field("text")
                })?;
            }
            other => {
                let message = format!(
                    "unknown form field {:?}: send `file` parts and an optional `text`",
                    other.unwrap_or("")
                );
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_field",
                    message,
                )
                .with_field(other.unwrap_or("").to_owned()));
            }
        }
    }
    Ok((text, files))
}

async fn max_bytes(state: &AppState, tenant: &TenantId) -> ApiResult<u64> {
    Ok(state.conversations.attachment_policy(tenant).await?.max_bytes)
}

async fn visitor_upload(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    VisitorConversation(conversation): VisitorConversation,
    form: FileForm,
) -> ApiResult<Created<VisitorMessage>> {
    // Files count against the visitor's messages.
    state.visitor_limits.check_message(ip, &conversation)?;
    let (text, files) = read_form(form, max_bytes(&state, &conversation.tenant_id).await?).await?;
    let message = state.conversations.post_visitor_files(&conversation, &text, files).await?;
    Ok(Created(message.into()))
}

async fn staff_upload(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    form: FileForm,
) -> ApiResult<Created<Message>> {
    // Another account's conversation is not found before anything is read.
    state.conversations.get_conversation(&actor, &id).await?;
    let (text, files) = read_form(form, max_bytes(&state, &actor.tenant_id).await?).await?;
    Ok(Created(state.conversations.operator_files(&actor, &id, &text, files).await?))
}

async fn visitor_download(
    State(state): State<AppState>,
    VisitorConversation(conversation): VisitorConversation,
    AttachmentPathId(id): AttachmentPathId<AttachmentId>,
) -> ApiResult<FileDownload> {
    let (listed, bytes) = state.conversations.visitor_attachment(&conversation, &id).await?;
    Ok(FileDownload { listed, bytes })
}

async fn staff_download(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(conversation): PathId<ConversationId>,
    AttachmentPathId(id): AttachmentPathId<AttachmentId>,
) -> ApiResult<FileDownload> {
    let (listed, bytes) = state.conversations.staff_attachment(&actor, &conversation, &id).await?;
    Ok(FileDownload { listed, bytes })
}

/// A file as its content is: pictures inline; anything else (PDF, text, SVG, HTML…) only as a
/// download. `nosniff` (set on every answer) keeps browsers from guessing another type, and the
/// sandbox policy keeps anything opened anyway from running or reaching anything.
pub(crate) struct FileDownload {
    pub(crate) listed: AttachmentRef,
    pub(crate) bytes: Vec<u8>,
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII fallback, and the
/// name itself percent-encoded.
pub(crate) fn disposition(kind: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

impl IntoResponse for FileDownload {
    fn into_response(self) -> Response {
        let inline = is_inline_image(&self.listed.content_type);
        let content_type = match self.listed.content_type.as_str() {
            "text/plain" => "text/plain; charset=utf-8".to_owned(),
            other => other.to_owned(),
        };
        let kind = if inline { "inline" } else { "attachment" };
        let headers = [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition(kind, &self.listed.name)),
            (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".to_owned()),
        ];
        let mut response = (headers, self.bytes).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        response
    }
}
