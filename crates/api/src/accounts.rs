//! `/auth/*` and `/me`: signing up, logging in and out, and who am I.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use sb_domain::{Role, Tenant, User};
use sb_engine::Credential;
use sb_engine::accounts::SignUp;
use sb_secrets::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::{Auth, check_same_origin};
use crate::client_ip::ClientIp;
use crate::cookies::{SESSION_COOKIE, WithCookies, clearing_cookies, read_cookie, session_cookies};
use crate::error::{ApiError, ApiResult};
use crate::json::{ApiJson, Created, Data};
use crate::openapi::ApiRouter;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Accounts")
        .post("/auth/signup", "Create an account and its owner, and log in", signup)
        .post("/auth/login", "Log in: sets the session and CSRF cookies", login)
        .post("/auth/logout", "Log out: ends the session", logout)
        .get("/me", "Who is calling: the person, the account and the role", me)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Signup")]
struct SignupBody {
    tenant_name: String,
    email: String,
    password: Secret<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Login")]
struct LoginBody {
    email: String,
    password: Secret<String>,
}

/// A new dashboard session.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Session {
    user: User,
    tenant: Tenant,
    /// Send it in `X-CSRF-Token` with every request other than GET (it is also in the `sb_csrf`
    /// cookie).
    csrf_token: String,
}

/// Creates a session for `user`: its cookies, and the person and tenant.
pub(crate) async fn start_session(
    state: &AppState,
    user: User,
) -> ApiResult<([HeaderValue; 2], Session)> {
    let started = state.accounts.start_session(user, state.config.session_ttl).await?;
    let cookies = session_cookies(&state.config, &started.token, &started.csrf);
    let session = Session { user: started.user, tenant: started.tenant, csrf_token: started.csrf };
    Ok((cookies, session))
}

async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignupBody>,
) -> ApiResult<WithCookies<Created<Session>>> {
    check_same_origin(&headers, &state)?;
    state.login_limits.check(ip, None)?;
    let input =
        SignUp { tenant_name: body.tenant_name, email: body.email, password: body.password };
    let (tenant, user) = state.accounts.sign_up(input).await?;
    tracing::info!(tenant_id = %tenant.id, user_id = %user.id, "tenant signed up");
    let (cookies, session) = start_session(&state, user).await?;
    Ok(WithCookies(cookies, Created(session)))
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<WithCookies<Data<Session>>> {
    // Login CSRF: a foreign page must not log the browser into the attacker's account.
    check_same_origin(&headers, &state)?;
    state.login_limits.check(ip, Some(&body.email))?;
    let user = state.accounts.verify_login(&body.email, body.password).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "the e-mail or password is wrong",
        )
    })?;
    let (cookies, session) = start_session(&state, user).await?;
    Ok(WithCookies(cookies, Data(session)))
}

async fn logout(
    State(state): State<AppState>,
    Auth(_): Auth,
    headers: HeaderMap,
) -> ApiResult<WithCookies<Data<LoggedOut>>> {
    if let Some(token) = read_cookie(&headers, SESSION_COOKIE) {
        state.accounts.end_session(token).await?;
    }
    Ok(WithCookies(clearing_cookies(&state.config), Data(LoggedOut { logged_out: true })))
}

#[derive(Serialize, JsonSchema)]
struct LoggedOut {
    logged_out: bool,
}

/// The caller.
#[derive(Serialize, JsonSchema)]
struct Me {
    /// Null for an API key not tied to a person.
    user: Option<User>,
    tenant: Tenant,
    role: Role,
    /// How the caller authenticated: `session`, `api_key` or `command_line`.
    auth: &'static str,
}

async fn me(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Data<Me>> {
    let tenant = state.accounts.tenant(&actor).await?;
    let user = match &actor.user_id {
        Some(id) => Some(state.accounts.get_user(&actor, id).await?),
        None => None,
    };
    let via = match actor.credential {
        Credential::Session(_) => "session",
        Credential::ApiKey(_) => "api_key",
        Credential::CommandLine => "command_line",
    };
    Ok(Data(Me { user, tenant, role: actor.role, auth: via }))
}
