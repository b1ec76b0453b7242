//! Authentication of tenant users: API keys (`X-Api-Key` or `Authorization: Bearer sbk_…`) and
//! dashboard sessions (cookie, with CSRF and origin checks on unsafe methods). Handlers take an
//! [`Auth`] argument and so cannot run without a tenant.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use sb_engine::Actor;

use crate::cookies::{SESSION_COOKIE, read_cookie};
use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
pub struct Auth(pub Actor);

pub(crate) fn api_key_from(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    if let Some(value) = headers.get("x-api-key") {
        return value.to_str().map(Some).map_err(|_| invalid_api_key());
    }
    let Some(authorization) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = authorization.to_str().map_err(|_| invalid_api_key())?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(token.trim())),
        _ => Err(ApiError::unauthenticated("use Authorization: Bearer <API key>")),
    }
}

pub(crate) fn invalid_api_key() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "invalid_api_key",
        "the API key is not valid or was revoked",
    )
}

/// The actor an API key acts as on the HTTP API: only a key with the `api` scope reaches it.
async fn authenticate_api_key(state: &AppState, key: &str) -> Result<Actor, ApiError> {
    state.accounts.api_key_actor(key).await?.ok_or_else(invalid_api_key)
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Browsers send `Origin` on cross-site and unsafe requests; when present it must be ours.
pub(crate) fn check_same_origin(headers: &HeaderMap, state: &AppState) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("null");
    let same = match &state.config.public_origin {
        Some(ours) => origin.eq_ignore_ascii_case(ours.trim_end_matches('/')),
        None => {
            let authority = origin.split_once("://").map(|(_, rest)| rest);
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            authority.is_some() && authority == host
        }
    };
    if same {
        Ok(())
    } else {
        Err(ApiError::forbidden("origin_mismatch", "the request comes from another site"))
    }
}

async fn authenticate_session(
    state: &AppState,
    parts: &Parts,
    token: &str,
) -> Result<Actor, ApiError> {
    let session = state
        .accounts
        .find_session(token)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("the session has expired; log in again"))?;
    if is_unsafe(&parts.method) {
        check_same_origin(&parts.headers, state)?;
        let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
        if !sent.is_some_and(|csrf| session.csrf_matches(csrf)) {
            return Err(ApiError::forbidden(
                "csrf_failed",
                "send the sb_csrf cookie's value in the X-CSRF-Token header",
            ));
        }
    }
    Ok(session.actor)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let actor = if let Some(key) = api_key_from(&parts.headers)? {
            authenticate_api_key(state, key).await?
        } else if let Some(token) = read_cookie(&parts.headers, SESSION_COOKIE) {
            authenticate_session(state, parts, token).await?
        } else {
            return Err(ApiError::unauthenticated(
                "log in, or send an API key in X-Api-Key or Authorization: Bearer",
            ));
        };
        tracing::Span::current().record("tenant_id", tracing::field::display(&actor.tenant_id));
        Ok(Auth(actor))
    }
}
