//! The one error type of the HTTP API: `{"error": {"code", "message", "field"}}`.
//!
//! `code` is stable and machine-readable, `message` is for people, `field` is the JSON path of
//! the offending input (or null). Internal failures are logged with their cause and answered with
//! a generic 500 that reveals nothing.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sb_domain::ValidationError;
use sb_engine::EngineError;
use sb_engine::{Constraint, StoreError};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    pub field: Option<String>,
    /// Seconds, for 429 and 503 answers.
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut err = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many attempts; try again in {retry_after_secs} s"),
        );
        err.retry_after = Some(retry_after_secs);
        err
    }

    /// Logs the cause and answers with a generic 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal server error")
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "store unavailable");
        let mut err = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service is temporarily unavailable; try again shortly",
        );
        err.retry_after = Some(1);
        err
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": { "code": self.code, "message": self.message, "field": self.field }
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: Cow::Borrowed(err.code),
            message: err.message,
            field: Some(err.field.into_owned()),
            retry_after: None,
        }
    }
}

/// What a violated uniqueness constraint means to an API client.
fn conflict(constraint: Constraint) -> ApiError {
    let (code, field, message) = match constraint {
        Constraint::UserEmail => ("email_taken", "email", "a user with this e-mail already exists"),
        Constraint::ApiKeyName => {
            ("name_taken", "name", "an API key with this name already exists")
        }
        Constraint::TeamName => ("name_taken", "name", "a team with this name already exists"),
        Constraint::TeamMember => ("duplicate_member", "member_ids", "a user is listed twice"),
        Constraint::ConnectionName => {
            ("name_taken", "name", "a connection with this name already exists")
        }
        Constraint::EndpointName => {
            ("name_taken", "name", "an endpoint with this name already exists")
        }
        Constraint::LabelName => ("name_taken", "name", "a label with this name already exists"),
        Constraint::CannedShortcut => {
            ("shortcut_taken", "shortcut", "a canned reply has this shortcut already")
        }
        Constraint::ChannelName => {
            ("name_taken", "name", "a channel with this name already exists")
        }
        // Two first conversations of one person (or one chat) at once: the engine finds the
        // other one.
        Constraint::ContactUser | Constraint::ContactBrowser | Constraint::ChannelThread => {
            return ApiError::internal("contact or thread key collision");
        }
        // 256 random bits colliding is not a client's doing.
        Constraint::ApiKeyHash => return ApiError::internal("API key hash collision"),
    };
    ApiError::new(StatusCode::CONFLICT, code, message).with_field(field)
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::new(StatusCode::NOT_FOUND, "not_found", "not found"),
            StoreError::Conflict(constraint) => conflict(constraint),
            StoreError::MissingReference => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_reference",
                "a referenced object does not exist",
            ),
            StoreError::Unavailable(cause) => Self::unavailable(cause),
            StoreError::Internal(cause) => Self::internal(cause),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> Self {
        match err {
            EngineError::Invalid(invalid) => invalid.into(),
            EngineError::Store(store) => store.into(),
            EngineError::Forbidden(message) => Self::forbidden("forbidden", message),
            EngineError::Refused { code, message } => Self::forbidden(code, message),
            EngineError::Unauthenticated(message) => Self::unauthenticated(message),
            EngineError::NotFound(what) => Self::not_found(what),
            EngineError::Conflict { code, message } => {
                Self::new(StatusCode::CONFLICT, code, message)
            }
            EngineError::Gone { code, message } => Self::new(StatusCode::GONE, code, message),
            EngineError::Busy { code: "rate_limited", retry_after, .. } => {
                Self::rate_limited(retry_after.as_secs().max(1))
            }
            EngineError::Busy { code, message, retry_after } => {
                let mut busy = Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message);
                busy.retry_after = Some(retry_after.as_secs().max(1));
                busy
            }
            EngineError::ConfirmationRequired(message) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "confirmation_required", message)
                    .with_field("confirm")
            }
            EngineError::FileRefused { too_large: true, message } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message).with_field("file")
            }
            EngineError::FileRefused { too_large: false, message } => {
                Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "type_not_allowed", message)
                    .with_field("file")
            }
            EngineError::Backend { code, message } => {
                Self::new(StatusCode::BAD_GATEWAY, code, message)
            }
            EngineError::Internal(cause) => Self::internal(cause),
        }
    }
}
