//! `/rules`: what the bot does with visitors' messages, and the dry run.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use sb_domain::template::Variables;
use sb_domain::{Action, Condition, MatchMode, Rule, RuleId, Trigger, WidgetId};
use sb_engine::rules::{DryRun, RuleDraft};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data};
use crate::path::PathId;
use crate::state::AppState;
use crate::widgets::present;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rules", get(list).post(create))
        .route("/rules/dry-run", post(dry_run))
        .route("/rules/{id}", get(show).patch(update).delete(remove))
}

fn conditions<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Condition>>, D::Error> {
    sb_domain::deserialize_conditions(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    widget_id: Option<Option<WidgetId>>,
    priority: Option<i32>,
    enabled: Option<bool>,
    trigger: Option<Trigger>,
    #[serde(default, deserialize_with = "conditions")]
    conditions: Option<Vec<Condition>>,
    #[serde(rename = "match")]
    match_mode: Option<MatchMode>,
    actions: Option<Vec<Action>>,
    stop: Option<bool>,
    suppress_ai_reply: Option<bool>,
}

impl From<RuleBody> for RuleDraft {
    fn from(b: RuleBody) -> Self {
        Self {
            name: b.name,
            widget_id: b.widget_id,
            priority: b.priority,
            enabled: b.enabled,
            trigger: b.trigger,
            conditions: b.conditions,
            match_mode: b.match_mode,
            actions: b.actions,
            stop: b.stop,
            suppress_ai_reply: b.suppress_ai_reply,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DryRunBody {
    widget_id: WidgetId,
    message: String,
    #[serde(default)]
    variables: Variables,
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<RuleBody>,
) -> ApiResult<Created<Rule>> {
    Ok(Created(state.engine.create_rule(&actor, body.into()).await?))
}

/// Every rule, in the order they are evaluated.
async fn list(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<axum::Json<Value>> {
    let rules = state.engine.list_rules(&actor).await?;
    Ok(axum::Json(json!({ "data": rules, "next": null })))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<RuleId>,
) -> ApiResult<Data<Rule>> {
    Ok(Data(state.engine.get_rule(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<RuleId>,
    ApiJson(body): ApiJson<RuleBody>,
) -> ApiResult<Data<Rule>> {
    Ok(Data(state.engine.update_rule(&actor, &id, body.into()).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<RuleId>,
) -> ApiResult<Data<Value>> {
    state.engine.delete_rule(&actor, &id).await?;
    Ok(Data(json!({ "id": id, "deleted": true })))
}

async fn dry_run(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<DryRunBody>,
) -> ApiResult<Data<DryRun>> {
    Ok(Data(state.engine.dry_run(&actor, &body.widget_id, &body.message, body.variables).await?))
}
