//! `/auth/*` and `/me`: signing up, logging in and out, and who am I.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, debug_handler};
use jiff::Timestamp;
use sb_domain::{SessionId, User, random_token};
use sb_engine::Credential;
use sb_engine::accounts::{self, SignUp};
use sb_secrets::{Secret, sha256_hex};
use sb_store::NewSession;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Auth, check_origin};
use crate::client_ip::ClientIp;
use crate::cookies::{SESSION_COOKIE, clearing_cookies, read_cookie, session_cookies};
use crate::error::{ApiError, ApiResult};
use crate::json::{ApiJson, Data};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/signup", post(signup))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignupBody {
    tenant_name: String,
    email: String,
    password: Secret<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: Secret<String>,
}

/// Creates a session for `user` and answers with its cookies and the tenant.
async fn start_session(state: &AppState, user: User, status: StatusCode) -> ApiResult<Response> {
    let token = random_token(32);
    let csrf = random_token(32);
    let now = Timestamp::now();
    let ttl =
        jiff::SignedDuration::try_from(state.config.session_ttl).map_err(ApiError::internal)?;
    state
        .store
        .create_session(&NewSession {
            id: SessionId::new(),
            tenant_id: user.tenant_id.clone(),
            user_id: user.id.clone(),
            token_hash: sha256_hex(&token),
            csrf_hash: sha256_hex(&csrf),
            created_at: now,
            expires_at: now + ttl,
        })
        .await?;
    let tenant = state.store.get_tenant(&user.tenant_id).await?;
    let [session_cookie, csrf_cookie] = session_cookies(&state.config, &token, &csrf);
    let body = Data(json!({ "user": user, "tenant": tenant, "csrf_token": csrf }));
    let mut response = (status, body).into_response();
    response.headers_mut().append(header::SET_COOKIE, session_cookie);
    response.headers_mut().append(header::SET_COOKIE, csrf_cookie);
    Ok(response)
}

#[debug_handler(state = AppState)]
async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignupBody>,
) -> ApiResult<Response> {
    check_origin(&headers, &state)?;
    state.login_limits.check(ip, None)?;
    let input =
        SignUp { tenant_name: body.tenant_name, email: body.email, password: body.password };
    let (tenant, user) = accounts::sign_up(state.store.as_ref(), input).await?;
    tracing::info!(tenant_id = %tenant.id, user_id = %user.id, "tenant signed up");
    start_session(&state, user, StatusCode::CREATED).await
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Response> {
    // Login CSRF: a foreign page must not log the browser into the attacker's account.
    check_origin(&headers, &state)?;
    state.login_limits.check(ip, Some(&body.email))?;
    let user = accounts::verify_login(state.store.as_ref(), &body.email, body.password)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "the e-mail or password is wrong",
            )
        })?;
    start_session(&state, user, StatusCode::OK).await
}

async fn logout(
    State(state): State<AppState>,
    Auth(_): Auth,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(token) = read_cookie(&headers, SESSION_COOKIE) {
        state.store.delete_session(&sha256_hex(token)).await?;
    }
    let mut response = Data(json!({ "logged_out": true })).into_response();
    for cookie in clearing_cookies(&state.config) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn me(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Data<serde_json::Value>> {
    let tenant = state.store.get_tenant(&actor.tenant_id).await?;
    let user = match &actor.user_id {
        Some(id) => Some(state.store.get_user(&actor.tenant_id, id).await?),
        None => None,
    };
    let via = match actor.credential {
        Credential::Session(_) => "session",
        Credential::ApiKey(_) => "api_key",
        Credential::CommandLine => "command_line",
    };
    Ok(Data(json!({ "user": user, "tenant": tenant, "role": actor.role, "auth": via })))
}
