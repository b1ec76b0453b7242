//! `/teams`: groups of operators that conversations can be routed to.

use axum::extract::State;
use sb_domain::{Team, TeamId, UserId};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, Deleted, List, Paging};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Teams")
        .get("/teams", "List the teams", list)
        .post("/teams", "Create a team", create)
        .get("/teams/{id}", "Show a team", show)
        .patch("/teams/{id}", "Rename a team or replace its members", update)
        .delete("/teams/{id}", "Delete a team (admins)", remove)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TeamCreate")]
struct CreateBody {
    name: String,
    #[serde(default)]
    member_ids: Vec<UserId>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TeamUpdate")]
struct UpdateBody {
    name: Option<String>,
    member_ids: Option<Vec<UserId>>,
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Created<Team>> {
    let team = state.accounts.create_team(&actor, &body.name, body.member_ids).await?;
    Ok(Created(team))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Paging(page): Paging,
) -> ApiResult<List<Team>> {
    Ok(List(state.accounts.list_teams(&actor, &page).await?))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<TeamId>,
) -> ApiResult<Data<Team>> {
    Ok(Data(state.accounts.get_team(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<TeamId>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Data<Team>> {
    let name = body.name.as_deref();
    let team = state.accounts.update_team(&actor, &id, name, body.member_ids).await?;
    Ok(Data(team))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<TeamId>,
) -> ApiResult<Data<Deleted>> {
    state.accounts.delete_team(&actor, &id).await?;
    Ok(Deleted::id(id))
}
