//! `/tenant` (the account's own settings) and `PATCH /me` (the caller's availability).

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use sb_domain::{Role, Tenant, TenantName, ValidationError, validate_time_zone};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Data};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tenant", get(show).patch(update))
        .route("/me/availability", axum::routing::put(availability))
        .route("/me/language", axum::routing::put(language))
}

async fn show(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Data<Tenant>> {
    Ok(Data(state.store.get_tenant(&actor.tenant_id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AvailabilityBody {
    available: bool,
}

/// Operators say whether they take conversations now (routing picks only available people).
async fn availability(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<AvailabilityBody>,
) -> ApiResult<Data<Value>> {
    let user = actor.user_id.ok_or_else(|| {
        ValidationError::new(
            "available",
            "no_user",
            "an API key without a user has no availability",
        )
    })?;
    state.store.set_available(&actor.tenant_id, &user, body.available).await?;
    Ok(Data(json!({ "user_id": user, "available": body.available })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageBody {
    language: String,
}

/// The language an operator reads and writes; with translation on, visitors' messages are
/// translated into it.
async fn language(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<LanguageBody>,
) -> ApiResult<Data<Value>> {
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
    Ok(Data(json!({ "user_id": user, "language": language })))
}
