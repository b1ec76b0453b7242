//! `/ai-settings` (the tenant's own model provider; the key is write-only) and `/ai-usage`.

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use jiff::{SignedDuration, Timestamp};
use sb_engine::ai::AiSettingsDraft;
use sb_secrets::Secret;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Data};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ai-settings", get(show).put(update).delete(remove))
        .route("/ai-usage", get(usage))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    provider: String,
    base_url: Option<String>,
    model: String,
    api_key: Option<Secret<String>>,
    instructions: Option<String>,
}

async fn show(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Data<Value>> {
    Ok(Data(state.engine.ai_settings(&actor).await?.to_json()))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<SettingsBody>,
) -> ApiResult<Data<Value>> {
    let draft = AiSettingsDraft {
        provider: body.provider,
        base_url: body.base_url,
        model: body.model,
        api_key: body.api_key,
        instructions: body.instructions,
    };
    Ok(Data(state.engine.put_ai_settings(&actor, draft).await?.to_json()))
}

async fn remove(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Data<Value>> {
    state.engine.delete_ai_settings(&actor).await?;
    Ok(Data(state.engine.ai_settings(&actor).await?.to_json()))
}

#[derive(Deserialize)]
struct Window {
    days: Option<u32>,
}

/// Token usage of the tenant over the last `days` (default 30).
async fn usage(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(window): Query<Window>,
) -> ApiResult<Data<Value>> {
    let days = window.days.unwrap_or(30).clamp(1, 366);
    let since = Timestamp::now() - SignedDuration::from_hours(24 * i64::from(days));
    let totals = state.store.ai_usage_totals(&actor.tenant_id, None, since).await?;
    Ok(Data(json!({
        "days": days,
        "calls": totals.calls,
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
    })))
}
