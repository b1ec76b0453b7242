//! `/test-cases`: the account's test suites — scripted conversations with fakes for their
//! endpoints and expectations on what the assistant says and does (docs/test-suites.md).

use axum::extract::{Query, State};
use sb_domain::test_case::{Expectation, Fake, Simulate, TestTurn, TestVisitor};
use sb_domain::test_run::TestRun;
use sb_domain::{TestCase, TestCaseDefinition, TestCaseId, TestRunId, WidgetId};
use sb_engine::suites::{RunRequest, TestCaseUpdate};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::json::{Accepted, ApiJson, Created, Data, Deleted, List, OptionalJson, present};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Test suites")
        .get("/test-cases", "List the test cases, of one suite when given (admins)", list)
        .post("/test-cases", "Create a test case (admins)", create)
        .get("/test-cases/{id}", "Show a test case (admins)", show)
        .patch("/test-cases/{id}", "Change a test case (admins)", update)
        .delete("/test-cases/{id}", "Delete a test case (admins)", remove)
        .post("/test-runs", "Run test cases in the sandbox (admins); the results follow", run)
        .post(
            "/conversations/{id}/save-as-test",
            "Make a test case of a conversation: its turns, answers as fakes, replies as expectations (admins)",
            save_as_test,
        )
        .get("/test-runs/{id}", "Show a test run and its results (admins)", show_run)
}

/// Which cases to run: these, a suite's, or (neither given) all of the account's.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TestRunInput")]
struct RunBody {
    case_ids: Option<Vec<TestCaseId>>,
    suite: Option<String>,
}

async fn run(
    State(state): State<AppState>,
    Auth(actor): Auth,
    OptionalJson(body): OptionalJson<RunBody>,
) -> ApiResult<Accepted<TestRun>> {
    let request = RunRequest { case_ids: body.case_ids, suite: body.suite };
    Ok(Accepted(state.suites.start_run(&actor, request).await?))
}

async fn save_as_test(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<sb_domain::ConversationId>,
) -> ApiResult<Created<TestCase>> {
    Ok(Created(state.suites.save_as_test(&actor, &id).await?))
}

async fn show_run(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<TestRunId>,
) -> ApiResult<Data<TestRun>> {
    Ok(Data(state.suites.get_run(&actor, &id).await?))
}

/// A test case to create.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TestCaseInput")]
struct CreateBody {
    name: String,
    /// Cases of one suite run together.
    suite: Option<String>,
    widget_id: WidgetId,
    #[serde(default)]
    visitor: TestVisitor,
    /// What the visitor writes, in order (1–50), each with what must hold after the reply.
    turns: Vec<TestTurn>,
    /// How endpoints answer in the sandbox (at most 100); an endpoint without one fails the case.
    #[serde(default)]
    fakes: Vec<Fake>,
    /// What must hold once every turn is done.
    #[serde(default)]
    expect: Vec<Expectation>,
    /// A visitor the AI plays after the turns (needs an AI provider).
    simulate: Option<Simulate>,
}

/// The fields of a test case to change; absent ones keep their value.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TestCaseUpdate")]
struct UpdateBody {
    name: Option<String>,
    /// `null` takes the case out of its suite.
    #[serde(default, deserialize_with = "present")]
    suite: Option<Option<String>>,
    widget_id: Option<WidgetId>,
    visitor: Option<TestVisitor>,
    turns: Option<Vec<TestTurn>>,
    fakes: Option<Vec<Fake>>,
    expect: Option<Vec<Expectation>>,
    /// `null` turns the simulated visitor off.
    #[serde(default, deserialize_with = "present")]
    simulate: Option<Option<Simulate>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only the cases of this suite.
    suite: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Created<TestCase>> {
    let definition = TestCaseDefinition {
        suite: body.suite,
        widget_id: body.widget_id,
        visitor: body.visitor,
        turns: body.turns,
        fakes: body.fakes,
        expect: body.expect,
        simulate: body.simulate,
    };
    Ok(Created(state.suites.create_test_case(&actor, &body.name, definition).await?))
}

/// Every case (of the suite), oldest first, on one page.
async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<List<TestCase>> {
    let Query(query) = query.map_err(|r| {
        ApiError::new(axum::http::StatusCode::BAD_REQUEST, "invalid_query", r.body_text())
    })?;
    let items = state.suites.list_test_cases(&actor, query.suite.as_deref()).await?;
    Ok(List(sb_domain::Page { items, next: None }))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<TestCaseId>,
) -> ApiResult<Data<TestCase>> {
    Ok(Data(state.suites.get_test_case(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<TestCaseId>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Data<TestCase>> {
    let update = TestCaseUpdate {
        name: body.name,
        suite: body.suite,
        widget_id: body.widget_id,
        visitor: body.visitor,
        turns: body.turns,
        fakes: body.fakes,
        expect: body.expect,
        simulate: body.simulate,
    };
    Ok(Data(state.suites.update_test_case(&actor, &id, update).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<TestCaseId>,
) -> ApiResult<Data<Deleted>> {
    state.suites.delete_test_case(&actor, &id).await?;
    Ok(Deleted::id(id))
}
