//! `/users`: the people of a tenant.

use axum::extract::State;
use sb_domain::{Role, User};
use sb_engine::accounts::CreateUser;
use sb_secrets::Secret;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, List, Paging};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Users")
        .get("/users", "List the account's people", list)
        .post("/users", "Add a person (admins)", create)
        .get("/users/{id}", "Show a person", show)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "UserCreate")]
struct CreateBody {
    email: String,
    password: Secret<String>,
    role: Role,
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Created<User>> {
    let input = CreateUser { email: body.email, password: body.password, role: body.role };
    Ok(Created(state.accounts.create_user(&actor, input).await?))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Paging(page): Paging,
) -> ApiResult<List<User>> {
    Ok(List(state.accounts.list_users(&actor, &page).await?))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<sb_domain::UserId>,
) -> ApiResult<Data<User>> {
    Ok(Data(state.accounts.get_user(&actor, &id).await?))
}
