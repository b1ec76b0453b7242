//! `/tenant` (the account's own settings) and `PATCH /me` (the caller's availability).

use axum::extract::State;
use sb_domain::Tenant;
use sb_domain::UserId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Data};
use crate::openapi::ApiRouter;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Account")
        .get("/tenant", "Show the account's settings", show)
        .patch(
            "/tenant",
            "Change the account's name, time zone, files taken (admins) or retention (owners)",
            update,
        )
        .put("/me/availability", "Say whether you take conversations now", availability)
        .put("/me/language", "Set the language you read and write", language)
}

async fn show(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Data<Tenant>> {
    Ok(Data(state.accounts.tenant(&actor).await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TenantUpdate")]
struct TenantBody {
    name: Option<String>,
    time_zone: Option<String>,
    /// Days closed conversations are kept (1–36500), then deleted; `null` keeps them (owners).
    #[serde(default, deserialize_with = "crate::json::present")]
    retention_days: Option<Option<u32>>,
    /// Which files visitors and people may send: at most `max_bytes` each (up to 25 MiB), of
    /// the `types` listed, told by their content (admins).
    attachments: Option<sb_domain::attachment::AttachmentPolicy>,
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<TenantBody>,
) -> ApiResult<Data<Tenant>> {
    let update = sb_engine::accounts::TenantUpdate {
        name: body.name.as_deref(),
        time_zone: body.time_zone.as_deref(),
        retention_days: body.retention_days,
        attachments: body.attachments,
    };
    let tenant = state.accounts.update_tenant(&actor, update).await?;
    Ok(Data(tenant))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "AvailabilityUpdate")]
struct AvailabilityBody {
    available: bool,
}

#[derive(Serialize, JsonSchema)]
struct Availability {
    user_id: UserId,
    available: bool,
}

/// Operators say whether they take conversations now (routing picks only available people).
async fn availability(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<AvailabilityBody>,
) -> ApiResult<Data<Availability>> {
    let user = state.accounts.set_availability(&actor, body.available).await?;
    Ok(Data(Availability { user_id: user, available: body.available }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "LanguageUpdate")]
struct LanguageBody {
    /// A language code such as `de` or `pt-br`.
    language: String,
}

#[derive(Serialize, JsonSchema)]
struct Language {
    user_id: UserId,
    language: String,
}

/// The language an operator reads and writes; with translation on, visitors' messages are
/// translated into it.
async fn language(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<LanguageBody>,
) -> ApiResult<Data<Language>> {
    let (user, language) = state.accounts.set_language(&actor, &body.language).await?;
    Ok(Data(Language { user_id: user, language }))
}
