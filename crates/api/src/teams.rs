//! `/teams`: groups of operators that conversations can be routed to.

use axum::extract::State;
use sb_domain::{Role, Team, TeamId, UserId};
use sb_engine::accounts;
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
    let team =
        accounts::create_team(state.store.as_ref(), &actor, &body.name, body.member_ids).await?;
    Ok(Created(team))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Paging(page): Paging,
) -> ApiResult<List<Team>> {
    Ok(List(state.store.list_teams(&actor.tenant_id, &page).await?))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<TeamId>,
) -> ApiResult<Data<Team>> {
    Ok(Data(state.store.get_team(&actor.tenant_id, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<TeamId>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Data<Team>> {
    let store = state.store.as_ref();
    let team =
        accounts::update_team(store, &actor, &id, body.name.as_deref(), body.member_ids).await?;
    Ok(Data(team))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<TeamId>,
) -> ApiResult<Data<Deleted>> {
    actor.require(Role::Admin)?;
    state.store.delete_team(&actor.tenant_id, &id).await?;
    Ok(Deleted::id(id))
}
