use std::collections::HashMap;
use std::str::FromStr;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::error::ApiError;

/// A typed id from the URL path, the `{id}` segment. An id that does not even parse cannot
/// exist: 404, like any other unknown id, so the answer never hints at what ids look like for
/// other resources.
pub struct PathId<T>(pub T);

impl<S: Send + Sync, T: FromStr + Send> FromRequestParts<S> for PathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        segment(parts, state, "id").await.map(PathId)
    }
}

/// A second typed id from the URL path, the `{action_id}` segment (see [`PathId`]).
pub struct ActionPathId<T>(pub T);

impl<S: Send + Sync, T: FromStr + Send> FromRequestParts<S> for ActionPathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        segment(parts, state, "action_id").await.map(ActionPathId)
    }
}

/// A second typed id from the URL path, the `{message_id}` segment (see [`PathId`]).
pub struct MessagePathId<T>(pub T);

impl<S: Send + Sync, T: FromStr + Send> FromRequestParts<S> for MessagePathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        segment(parts, state, "message_id").await.map(MessagePathId)
    }
}

/// A second typed id from the URL path, the `{attachment_id}` segment (see [`PathId`]).
pub struct AttachmentPathId<T>(pub T);

impl<S: Send + Sync, T: FromStr + Send> FromRequestParts<S> for AttachmentPathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        segment(parts, state, "attachment_id").await.map(AttachmentPathId)
    }
}

async fn segment<S: Send + Sync, T: FromStr>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Result<T, ApiError> {
    let Path(segments) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::not_found("resource"))?;
    let raw = segments.get(name).ok_or_else(|| ApiError::not_found("resource"))?;
    raw.parse().map_err(|_| ApiError::not_found("resource"))
}

/// A name from the URL path, the `{name}` segment (an MCP tool's name).
pub struct NamePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for NamePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        segment(parts, state, "name").await.map(NamePath)
    }
}
