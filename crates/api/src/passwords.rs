//! Passwords and invitations: `PUT /me/password`, `PUT /users/{id}/password`, reset links
//! (`/auth/password-reset`), and `/invitations` with `/auth/accept-invitation`.

use axum::extract::State;
use axum::http::HeaderMap;
use sb_domain::{InvitationId, Role, Timestamp, UserId};
use sb_engine::Credential;
use sb_engine::accounts::Invitation;
use sb_engine::accounts::Links;
use sb_secrets::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::accounts::{Session, start_session};
use crate::auth::{Auth, check_same_origin};
use crate::client_ip::ClientIp;
use crate::cookies::WithCookies;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, Deleted};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Accounts")
        .put("/me/password", "Change your password (other sessions end)", change)
        .put("/users/{id}/password", "Set a team member's password (their sessions end)", set)
        .post(
            "/auth/password-reset",
            "E-mail a password-reset link (same answer for any address)",
            request_reset,
        )
        .post(
            "/auth/password-reset/confirm",
            "Choose a new password through a reset link",
            confirm_reset,
        )
        .get("/invitations", "Invitations not yet accepted", list_invitations)
        .post(
            "/invitations",
            "Invite a team member: a link where they choose their password",
            invite,
        )
        .delete("/invitations/{id}", "Withdraw an invitation", revoke)
        .post("/auth/accept-invitation", "Join through an invitation link, and log in", accept)
}

fn links(state: &AppState) -> Links<'_> {
    Links {
        mailer: state.config.mailer.as_deref(),
        public_url: state.config.public_origin.as_deref(),
    }
}

#[derive(Serialize, JsonSchema)]
struct Done {
    ok: bool,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PasswordChange")]
struct ChangeBody {
    current_password: Secret<String>,
    new_password: Secret<String>,
}

async fn change(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<ChangeBody>,
) -> ApiResult<Data<Done>> {
    let session = match &actor.credential {
        Credential::Session(id) => Some(id.clone()),
        _ => None,
    };
    state
        .accounts
        .change_password(&actor, session.as_ref(), body.current_password, body.new_password)
        .await?;
    Ok(Data(Done { ok: true }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PasswordSet")]
struct SetBody {
    password: Secret<String>,
}

async fn set(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<UserId>,
    ApiJson(body): ApiJson<SetBody>,
) -> ApiResult<Data<Done>> {
    state.accounts.set_member_password(&actor, &id, body.password).await?;
    Ok(Data(Done { ok: true }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PasswordResetRequest")]
struct ResetRequestBody {
    email: String,
}

/// The same answer whether or not the address has an account, and whether or not e-mail is set
/// up (`email_configured` is a property of the server, not of the address).
#[derive(Serialize, JsonSchema)]
struct ResetRequested {
    /// A link is sent if the address has an account.
    requested: bool,
    /// Whether this server sends e-mail at all; without it, ask an owner to set your password.
    email_configured: bool,
}

async fn request_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ResetRequestBody>,
) -> ApiResult<Data<ResetRequested>> {
    check_same_origin(&headers, &state)?;
    state.login_limits.check(ip, Some(&body.email))?;
    let email_configured = links(&state).mail().is_some();
    // Looked up and sent after answering: how long the answer takes must not tell whether the
    // address has an account (sending mail takes a while, doing nothing does not).
    let background = state.clone();
    tokio::spawn(async move {
        if let Err(err) =
            background.accounts.request_password_reset(links(&background), &body.email).await
        {
            tracing::warn!(error = %err, "could not prepare a password-reset link");
        }
    });
    Ok(Data(ResetRequested { requested: true, email_configured }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PasswordResetConfirm")]
struct TokenPassword {
    token: String,
    password: Secret<String>,
}

async fn confirm_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TokenPassword>,
) -> ApiResult<Data<Done>> {
    check_same_origin(&headers, &state)?;
    state.login_limits.check(ip, None)?;
    state.accounts.confirm_password_reset(&body.token, body.password).await?;
    Ok(Data(Done { ok: true }))
}

/// An invitation as shown.
#[derive(Serialize, JsonSchema)]
struct InvitationView {
    id: InvitationId,
    email: String,
    role: Role,
    invited_by: Option<UserId>,
    created_at: Timestamp,
    expires_at: Timestamp,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email.to_string(),
            role: i.role,
            invited_by: i.invited_by,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

/// A new invitation, with its secret token: shown once, like an API key.
#[derive(Serialize, JsonSchema)]
struct Invited {
    #[serde(flatten)]
    invitation: InvitationView,
    /// Put it in `#invite/<token>` on the dashboard (the link below, when the server knows its
    /// public URL); it is not shown again.
    token: String,
    link: Option<String>,
    /// Whether the link was also e-mailed.
    emailed: bool,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "InvitationCreate")]
struct InviteBody {
    email: String,
    role: Role,
}

async fn invite(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<InviteBody>,
) -> ApiResult<Created<Invited>> {
    let links = links(&state);
    let (invitation, token) = state.accounts.invite(&actor, links, &body.email, body.role).await?;
    let link = links.public_url.map(|base| format!("{base}/#invite/{token}"));
    let emailed = links.mail().is_some();
    Ok(Created(Invited { invitation: invitation.into(), token, link, emailed }))
}

async fn list_invitations(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Data<Vec<InvitationView>>> {
    let invitations = state.accounts.list_invitations(&actor).await?;
    Ok(Data(invitations.into_iter().map(Into::into).collect()))
}

async fn revoke(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<InvitationId>,
) -> ApiResult<Data<Deleted>> {
    state.accounts.revoke_invitation(&actor, &id).await?;
    Ok(Deleted::id(id))
}

async fn accept(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TokenPassword>,
) -> ApiResult<WithCookies<Created<Session>>> {
    check_same_origin(&headers, &state)?;
    state.login_limits.check(ip, None)?;
    let user = state.accounts.accept_invitation(&body.token, body.password).await?;
    tracing::info!(tenant_id = %user.tenant_id, user_id = %user.id, "invitation accepted");
    let (cookies, session) = start_session(&state, user).await?;
    Ok(WithCookies(cookies, Created(session)))
}
