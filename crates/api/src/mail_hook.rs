//! `POST /hooks/email/{id}`: where a mail provider posts a message it received for an e-mail
//! channel (for channels without an IMAP mailbox, or alongside one). Authenticated by the
//! channel's webhook secret, as a bearer token or as the password of basic authentication —
//! what providers that take only a URL can send (`https://any:secret@…`). The message is the
//! body itself (`message/rfc822`), or the multipart field `email` (SendGrid's raw mode) or
//! `body-mime` (Mailgun).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, header};
use sb_domain::{ChannelId, ValidationError};

use crate::channels::Received;
use crate::error::{ApiError, ApiResult};
use crate::json::Data;
use crate::path::PathId;
use crate::state::AppState;

/// The largest message a provider may post: a little more than a mailbox message is taken at.
const MAX_MAIL_BYTES: usize = 26 * 1024 * 1024;

pub(crate) fn body_limit(router: axum::Router<AppState>) -> axum::Router<AppState> {
    router.layer(DefaultBodyLimit::max(MAX_MAIL_BYTES))
}

pub(crate) async fn email(
    State(state): State<AppState>,
    PathId(id): PathId<ChannelId>,
    post: MailPost,
) -> ApiResult<Data<Received>> {
    state.channels.email_posted(&id, post.secret.as_deref(), &post.raw).await?;
    Ok(Data(Received { ok: true }))
}

/// A posted message and the secret it came with.
pub(crate) struct MailPost {
    secret: Option<String>,
    raw: Bytes,
}

impl FromRequest<AppState> for MailPost {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let secret = webhook_secret(request.headers());
        let multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/form-data"));
        let raw = if multipart {
            let form = Multipart::from_request(request, state).await.map_err(unreadable)?;
            raw_from_form(form).await?
        } else {
            Bytes::from_request(request, state).await.map_err(unreadable)?
        };
        Ok(Self { secret, raw })
    }
}

fn webhook_secret(headers: &HeaderMap) -> Option<String> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    pair.split_once(':').map(|(_, password)| password.to_owned())
}

fn unreadable(err: impl std::fmt::Display) -> ApiError {
    let message = format!("the message could not be read: {err}");
    ApiError::from(ValidationError::new("body", "invalid_message", message))
}

/// The raw message of a provider's form: its `email` or `body-mime` field.
async fn raw_from_form(mut form: Multipart) -> ApiResult<Bytes> {
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        if matches!(field.name(), Some("email" | "body-mime")) {
            return field.bytes().await.map_err(unreadable);
        }
    }
    let message = "the form has no `email` or `body-mime` field with the message";
    Err(ApiError::from(ValidationError::new("email", "missing_field", message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_comes_as_a_bearer_token_or_a_basic_password() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            webhook_secret(&headers)
        };
        assert_eq!(with("Bearer s3cret").as_deref(), Some("s3cret"));
        // "api:s3cret"
        assert_eq!(with("Basic YXBpOnMzY3JldA==").as_deref(), Some("s3cret"));
        assert_eq!(with("Basic !!").as_deref(), None);
        assert_eq!(with("Digest x").as_deref(), None);
        assert_eq!(webhook_secret(&HeaderMap::new()), None);
    }
}
