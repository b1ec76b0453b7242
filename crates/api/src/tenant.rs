//! `/tenant` (the account's own settings) and `PATCH /me` (the caller's availability).

use axum::extract::State;
use sb_domain::UserId;
use sb_domain::{Role, Tenant, TenantName, ValidationError, validate_time_zone};
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
        .patch("/tenant", "Change the account's name or time zone (admins)", update)
        .put("/me/availability", "Say whether you take conversations now", availability)
        .put("/me/language", "Set the language you read and write", language)
}

async fn show(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Data<Tenant>> {
    Ok(Data(state.store.get_tenant(&actor.tenant_id).await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TenantUpdate")]
struct TenantBody {
    name: Option<String>,
    time_zone: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<TenantBody>,
) -> ApiResult<Data<Tenant>> {
    actor.require(Role::Admin)?;
    let mut tenant = state.store.get_tenant(&actor.tenant_id).await?;
    if let Some(name) = body.name {
        tenant.name =
            TenantName::parse(&name).map_err(|e| ValidationError { field: "name".into(), ..e })?;
    }
    if let Some(zone) = body.time_zone {
        tenant.time_zone = validate_time_zone(&zone)?;
    }
    state.store.update_tenant(&tenant).await?;
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
    let user = actor.user_id.ok_or_else(|| {
        ValidationError::new(
            "available",
            "no_user",
            "an API key without a user has no availability",
        )
    })?;
    state.store.set_available(&actor.tenant_id, &user, body.available).await?;
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
    let user = actor.user_id.ok_or_else(|| {
        ValidationError::new("language", "no_user", "an API key without a user has no language")
    })?;
    let language = body.language.trim().to_ascii_lowercase();
    let valid = (2..=12).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(ValidationError::new(
            "language",
            "invalid_language",
            "use a language code such as de or pt-br",
        )
        .into());
    }
    state.store.set_language(&actor.tenant_id, &user, &language).await?;
    Ok(Data(Language { user_id: user, language }))
}
