//! `/channels`: the account's channels besides the widget (docs/channels.md), with `secrets`
//! write-only; and `/hooks/…/{id}`, where Telegram, WhatsApp and mail providers deliver what
//! customers send.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use sb_domain::{ChannelId, WidgetId};
use sb_engine::channels::{ChannelDraft, ChannelTest, ChannelView};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, Deleted, List, OptionalJson};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Channels")
        .get("/channels", "List the channels", list)
        .post("/channels", "Create a channel (e-mail, Telegram or WhatsApp)", create)
        .get("/channels/{id}", "Show a channel (never its secrets)", show)
        .patch("/channels/{id}", "Change a channel; given secrets replace the kept ones", update)
        .delete("/channels/{id}", "Delete a channel (its conversations stay)", remove)
        .post("/channels/{id}/test", "Check the channel with its provider and connect it", test)
        .post("/hooks/telegram/{id}", "Telegram delivers a bot's updates here", telegram)
        .get("/hooks/whatsapp/{id}", "Meta checks a WhatsApp channel's webhook", whatsapp_check)
        .post("/hooks/whatsapp/{id}", "Meta delivers a WhatsApp number's messages here", whatsapp)
        .merge(
            ApiRouter::new("Channels")
                .post(
                    "/hooks/email/{id}",
                    "A mail provider posts a received message here (raw, or multipart `email`/`body-mime`)",
                    crate::mail_hook::email,
                )
                .map_router(crate::mail_hook::body_limit),
        )
}

/// A channel to create, or the fields to change.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ChannelInput")]
struct ChannelBody {
    /// `email`, `telegram` or `whatsapp`; set when the channel is made.
    kind: Option<String>,
    name: Option<String>,
    /// The widget whose rules, connections, AI and people answer the channel.
    widget_id: Option<WidgetId>,
    /// By kind: e-mail `{address, from_name?, smtp: {host, port?, tls?, username?}, imap?:
    /// {…}, trusted_authserv_id?}`; Telegram `{api_base_url?}`; WhatsApp `{phone_number_id,
    /// api_base_url?, template?: {name, language}}`.
    settings: Option<serde_json::Value>,
    /// Write-only, by kind: e-mail `{smtp_password?, imap_password (with imap),
    /// webhook_secret?}`; Telegram `{bot_token}`; WhatsApp `{access_token, app_secret,
    /// verify_token}`.
    secrets: Option<serde_json::Value>,
    active: Option<bool>,
}

impl From<ChannelBody> for ChannelDraft {
    fn from(b: ChannelBody) -> Self {
        Self {
            kind: b.kind,
            name: b.name,
            widget_id: b.widget_id,
            settings: b.settings,
            secrets: b.secrets,
            active: b.active,
        }
    }
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<ChannelBody>,
) -> ApiResult<Created<ChannelView>> {
    Ok(Created(state.channels.create_channel(&actor, body.into()).await?))
}

async fn list(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<List<ChannelView>> {
    let items = state.channels.list_channels(&actor).await?;
    Ok(List(sb_domain::Page { items, next: None }))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ChannelId>,
) -> ApiResult<Data<ChannelView>> {
    Ok(Data(state.channels.get_channel(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ChannelId>,
    ApiJson(body): ApiJson<ChannelBody>,
) -> ApiResult<Data<ChannelView>> {
    Ok(Data(state.channels.update_channel(&actor, &id, body.into()).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ChannelId>,
) -> ApiResult<Data<Deleted>> {
    state.channels.delete_channel(&actor, &id).await?;
    Ok(Deleted::id(id))
}

/// What a channel test is given: optionally, where to send a test message.
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ChannelTestInput")]
struct TestBody {
    /// A Telegram chat id, a WhatsApp number (digits with country code) or an e-mail address
    /// to send a short test message to, after the checks.
    to: Option<String>,
}

async fn test(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<ChannelId>,
    OptionalJson(body): OptionalJson<TestBody>,
) -> ApiResult<Data<ChannelTest>> {
    let public_url = state.config.public_origin.as_deref();
    let to = body.to.as_deref().map(str::trim).filter(|t| !t.is_empty());
    Ok(Data(state.channels.test_channel(&actor, &id, public_url, to).await?))
}

/// What a provider's webhook is told: it was taken (and need not be sent again).
#[derive(Serialize, JsonSchema)]
pub(crate) struct Received {
    pub ok: bool,
}

/// Authenticated by the secret token Switchboard gave Telegram (`setWebhook`), not by a user.
async fn telegram(
    State(state): State<AppState>,
    PathId(id): PathId<ChannelId>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Data<Received>> {
    let secret =
        headers.get(sb_engine::channels::TELEGRAM_SECRET_HEADER).and_then(|v| v.to_str().ok());
    state.channels.telegram_update(&id, secret, &body).await?;
    Ok(Data(Received { ok: true }))
}

/// Meta's webhook check: `hub.mode=subscribe`, the channel's verify token, a challenge to echo.
#[derive(Deserialize, JsonSchema)]
struct Verification {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Answered with the challenge as plain text, as Meta expects; 403 for any other token.
async fn whatsapp_check(
    State(state): State<AppState>,
    PathId(id): PathId<ChannelId>,
    Query(check): Query<Verification>,
) -> ApiResult<PlainText> {
    let (mode, token) = (check.mode.as_deref(), check.verify_token.as_deref());
    let challenge =
        state.channels.whatsapp_verification(&id, mode, token, check.challenge.as_deref()).await?;
    Ok(PlainText(challenge))
}

/// Authenticated by the app secret's signature of the body (`X-Hub-Signature-256`).
async fn whatsapp(
    State(state): State<AppState>,
    PathId(id): PathId<ChannelId>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Data<Received>> {
    let signature =
        headers.get(sb_engine::channels::WHATSAPP_SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    state.channels.whatsapp_notification(&id, signature, &body).await?;
    Ok(Data(Received { ok: true }))
}

/// A plain-text answer.
pub(crate) struct PlainText(pub String);

impl axum::response::IntoResponse for PlainText {
    fn into_response(self) -> axum::response::Response {
        ([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], self.0).into_response()
    }
}
