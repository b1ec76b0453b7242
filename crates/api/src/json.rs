//! JSON in and out. Requests are parsed with the failing field's path reported; responses are
//! wrapped as `{"data": …}` (lists add `"next"`, the cursor of the following page).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sb_domain::{Page, PageRequest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// A JSON request body whose errors say which field was wrong.
pub struct ApiJson<T>(pub T);

fn is_json(content_type: Option<&str>) -> bool {
    let Some(mime) = content_type.and_then(|ct| ct.split(';').next()) else {
        return false;
    };
    let mime = mime.trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// serde reports a missing field at its parent; point at the field itself.
fn missing_field_path(path: &str, message: &str) -> Option<String> {
    let name = message.strip_prefix("missing field `")?.split('`').next()?;
    Some(if path.is_empty() || path == "." { name.to_owned() } else { format!("{path}.{name}") })
}

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|err| path_error(err, ""))
}

/// Reads `value` as a `T`; errors name the field below `prefix` (`file.cases[0].name`).
pub(crate) fn from_value<T: DeserializeOwned>(value: Value, prefix: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|err| path_error(err, prefix))
}

fn path_error(err: serde_path_to_error::Error<serde_json::Error>, prefix: &str) -> ApiError {
    let path = err.path().to_string();
    let path = match (prefix, path.as_str()) {
        ("", _) => path,
        (_, "" | ".") => prefix.to_owned(),
        _ => format!("{prefix}.{path}"),
    };
    let inner = err.into_inner();
    let message = inner.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let (code, field) = if let Some(field) = missing_field_path(&path, &message) {
                ("missing_field", field)
            } else if message.starts_with("unknown field") {
                ("unknown_field", path)
            } else {
                ("invalid_field", path)
            };
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
        }
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("request body is not valid JSON: {message}"),
        ),
    }
}

/// The body of a request, refused unless it is declared as JSON (or `blank_ok` and blank).
async fn json_body<S: Send + Sync>(
    req: Request,
    state: &S,
    blank_ok: bool,
) -> Result<Option<Bytes>, ApiError> {
    let declared_json =
        is_json(req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()));
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than the server accepts",
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", rejection.body_text())
        }
    })?;
    if blank_ok && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if !declared_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the request body as JSON with Content-Type: application/json",
        ));
    }
    Ok(Some(bytes))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_body(req, state, false).await?.unwrap_or_default();
        parse_json(&bytes).map(ApiJson)
    }
}

/// Tells "absent" (keep) from `null` (clear) in a PATCH.
pub(crate) fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A JSON request body that may also be left out: a blank body reads as `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match json_body(req, state, true).await? {
            Some(bytes) => parse_json(&bytes).map(OptionalJson),
            None => Ok(OptionalJson(T::default())),
        }
    }
}

/// `{"data": …}` with 200.
pub struct Data<T>(pub T);

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        axum::Json(serde_json::json!({ "data": self.0 })).into_response()
    }
}

/// `{"data": …}` with 201 Created.
pub struct Created<T>(pub T);

/// 202 with `{"data": …}`: accepted, and going on in the background.
pub struct Accepted<T>(pub T);

impl<T: Serialize> IntoResponse for Accepted<T> {
    fn into_response(self) -> Response {
        (StatusCode::ACCEPTED, Data(self.0)).into_response()
    }
}

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Data(self.0)).into_response()
    }
}

/// 204 No Content: done, nothing to show.
pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// The answer to a DELETE.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Deleted {
    pub id: String,
    /// Always true.
    pub deleted: bool,
}

impl Deleted {
    pub fn id(id: impl std::fmt::Display) -> Data<Deleted> {
        Data(Deleted { id: id.to_string(), deleted: true })
    }
}

/// `{"data": [...], "next": cursor|null}`.
pub struct List<T>(pub Page<T>);

impl<T: Serialize> IntoResponse for List<T> {
    fn into_response(self) -> Response {
        axum::Json(serde_json::json!({ "data": self.0.items, "next": self.0.next })).into_response()
    }
}

/// `?limit=&cursor=` on list endpoints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    limit: Option<String>,
    cursor: Option<String>,
}

pub struct Paging(pub PageRequest);

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(params) =
            axum::extract::Query::<ListParams>::from_request_parts(parts, state).await.map_err(
                |rejection| {
                    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", rejection.body_text())
                },
            )?;
        page_request(params.limit, params.cursor).map(Paging)
    }
}

/// A page request from `limit` and `cursor` query values, for lists with more parameters.
pub(crate) fn page_request(
    limit: Option<String>,
    cursor: Option<String>,
) -> Result<PageRequest, ApiError> {
    let limit = match limit {
        None => PageRequest::DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=PageRequest::MAX_LIMIT).contains(n))
            .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!("limit must be a whole number from 1 to {}", PageRequest::MAX_LIMIT),
            )
            .with_field("limit")
        })?,
    };
    Ok(PageRequest { after: cursor.filter(|c| !c.is_empty()), limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        ids: Vec<u32>,
    }

    fn error_of(body: &str) -> (StatusCode, String, Option<String>) {
        let err = parse_json::<Outer>(body.as_bytes()).unwrap_err();
        (err.status, err.code.into_owned(), err.field)
    }

    #[test]
    fn errors_point_at_the_failing_field() {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        assert_eq!(
            error_of(r#"{"name": "a", "inner": {"ids": [1, "x"]}}"#),
            (unprocessable, "invalid_field".into(), Some("inner.ids[1]".into()))
        );
        assert_eq!(
            error_of(r#"{"name": "a", "inner": {}}"#),
            (unprocessable, "missing_field".into(), Some("inner.ids".into()))
        );
        assert_eq!(
            error_of(r#"{"inner": {"ids": []}}"#),
            (unprocessable, "missing_field".into(), Some("name".into()))
        );
        assert_eq!(
            error_of(r#"{"name": "a", "inner": {"ids": []}, "extra": 1}"#),
            (unprocessable, "unknown_field".into(), Some("extra".into()))
        );
        assert_eq!(error_of(r#"{"name": "#).0, StatusCode::BAD_REQUEST);
        assert_eq!(error_of(r#"{"name": "a",, }"#).1, "malformed_json");
    }

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(is_json(Some("application/merge-patch+json")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }
}
