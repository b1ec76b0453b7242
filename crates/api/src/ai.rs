//! `/ai-settings` (the tenant's own model provider; the key is write-only) and `/ai-usage`.

use axum::extract::{Query, State};
use jiff::{SignedDuration, Timestamp};
use sb_engine::ai::{AiSettingsDraft, AiSettingsShown};
use sb_secrets::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Data};
use crate::openapi::ApiRouter;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("AI")
        .get("/ai-settings", "Which AI answers for the account", show)
        .put("/ai-settings", "Use the account's own AI provider (admins)", update)
        .delete("/ai-settings", "Go back to the server's AI provider, if any (admins)", remove)
        .get("/ai-usage", "Tokens used over the last days", usage)
}

/// The account's own provider. The key is write-only; left out, the stored key is kept.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "AiSettingsInput")]
struct SettingsBody {
    /// `openai` (any OpenAI-compatible API) or `anthropic`.
    provider: String,
    base_url: Option<String>,
    model: String,
    api_key: Option<Secret<String>>,
    instructions: Option<String>,
    /// Embeds knowledge-base passages for vector search (OpenAI-compatible providers only);
    /// empty or absent: full-text search only.
    embedding_model: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Data<AiSettingsShown>> {
    Ok(Data(state.ai.ai_settings(&actor).await?.shown()))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<SettingsBody>,
) -> ApiResult<Data<AiSettingsShown>> {
    let draft = AiSettingsDraft {
        provider: body.provider,
        base_url: body.base_url,
        model: body.model,
        api_key: body.api_key,
        instructions: body.instructions,
        embedding_model: body.embedding_model,
    };
    Ok(Data(state.ai.put_ai_settings(&actor, draft).await?.shown()))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Data<AiSettingsShown>> {
    state.ai.delete_ai_settings(&actor).await?;
    Ok(Data(state.ai.ai_settings(&actor).await?.shown()))
}

#[derive(Deserialize, JsonSchema)]
struct Window {
    /// How many days back, 1 to 366 (default 30).
    days: Option<u32>,
}

#[derive(Serialize, JsonSchema)]
struct Usage {
    days: u32,
    /// Model calls.
    calls: i64,
    input_tokens: i64,
    output_tokens: i64,
}

/// Token usage of the tenant over the last `days` (default 30).
async fn usage(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(window): Query<Window>,
) -> ApiResult<Data<Usage>> {
    let days = window.days.unwrap_or(30).clamp(1, 366);
    let since = Timestamp::now() - SignedDuration::from_hours(24 * i64::from(days));
    let totals = state.ai.usage(&actor, None, since).await?;
    Ok(Data(Usage {
        days,
        calls: totals.calls,
        input_tokens: totals.input_tokens,
        output_tokens: totals.output_tokens,
    }))
}
