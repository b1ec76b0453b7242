//! `/rules`: what the bot does with visitors' messages, and the dry run.

use axum::extract::State;
use sb_domain::template::Variables;
use sb_domain::{Action, Condition, MatchMode, Rule, RuleId, Trigger, WidgetId};
use sb_engine::conversations::dry_run::DryRun;
use sb_engine::conversations::rules::RuleDraft;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, Deleted, List, present};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Rules")
        .get("/rules", "List every rule, in the order they are evaluated", list)
        .post("/rules", "Create a rule", create)
        .post("/rules/dry-run", "Show what the rules would do with a message (admins)", dry_run)
        .get("/rules/{id}", "Show a rule", show)
        .patch("/rules/{id}", "Change a rule", update)
        .delete("/rules/{id}", "Delete a rule", remove)
}

fn conditions<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Condition>>, D::Error> {
    sb_domain::deserialize_conditions(d).map(Some)
}

/// A rule to create, or the fields to change (see docs/rules.md).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RuleInput")]
struct RuleBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    widget_id: Option<Option<WidgetId>>,
    priority: Option<i32>,
    enabled: Option<bool>,
    trigger: Option<Trigger>,
    #[serde(default, deserialize_with = "conditions")]
    #[schemars(schema_with = "sb_domain::conditions_schema")]
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

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DryRunInput")]
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
    Ok(Created(state.conversations.create_rule(&actor, body.into()).await?))
}

/// Every rule, in the order they are evaluated, on one page.
async fn list(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<List<Rule>> {
    let items = state.conversations.list_rules(&actor).await?;
    Ok(List(sb_domain::Page { items, next: None }))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<RuleId>,
) -> ApiResult<Data<Rule>> {
    Ok(Data(state.conversations.get_rule(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<RuleId>,
    ApiJson(body): ApiJson<RuleBody>,
) -> ApiResult<Data<Rule>> {
    Ok(Data(state.conversations.update_rule(&actor, &id, body.into()).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<RuleId>,
) -> ApiResult<Data<Deleted>> {
    state.conversations.delete_rule(&actor, &id).await?;
    Ok(Deleted::id(id))
}

async fn dry_run(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<DryRunBody>,
) -> ApiResult<Data<DryRun>> {
    Ok(Data(
        state.conversations.dry_run(&actor, &body.widget_id, &body.message, body.variables).await?,
    ))
}
