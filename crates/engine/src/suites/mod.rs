//! Test suites: the tenant's test cases (scripted conversations with fakes for their
//! endpoints and expectations on what the assistant says and does).

mod ask;
mod expect;
mod fakes;
mod file;
mod judge;
mod run;
mod runs;
mod save;
mod simulate;
mod validate;

use std::collections::BTreeSet;
use std::sync::Arc;

use sb_domain::test_case::{Expectation, Fake, TestTurn, TestVisitor};
use sb_domain::{
    Role, TestCase, TestCaseDefinition, TestCaseId, Timestamp, ValidationError, WidgetId,
    display_name,
};

pub use ask::SandboxAnswer;
pub use file::{ImportOutcome, MAX_FILE_CASES};
pub use runs::{RunRequest, ScratchStores};
pub use validate::{MAX_CASE_BYTES, MAX_FAKES, MAX_TURNS};

use crate::{Actor, EngineError};

stores!(SuiteStores {
    test_cases: TestCaseStore,
    widgets: WidgetStore,
    connections: ConnectionStore,
    teams: TeamStore,
    rules: RuleStore,
    conversations: ConversationStore
});

/// The fields of a case to change; absent ones keep their value.
#[derive(Debug, Default)]
pub struct TestCaseUpdate {
    pub name: Option<String>,
    /// `Some(None)` takes the case out of its suite.
    pub suite: Option<Option<String>>,
    pub widget_id: Option<WidgetId>,
    pub visitor: Option<TestVisitor>,
    pub turns: Option<Vec<TestTurn>>,
    pub fakes: Option<Vec<Fake>>,
    pub expect: Option<Vec<Expectation>>,
    /// `Some(None)` turns the simulated visitor off.
    pub simulate: Option<Option<sb_domain::test_case::Simulate>>,
}

pub struct SuitesService {
    store: SuiteStores,
    /// Runs happen in a sandbox made from this service (see `run`).
    conversations: Arc<crate::ConversationsService>,
    scratch: Arc<dyn ScratchStores>,
}

impl SuitesService {
    pub(crate) fn new(
        store: &Arc<dyn sb_store::Store>,
        conversations: Arc<crate::ConversationsService>,
        scratch: Arc<dyn ScratchStores>,
    ) -> Arc<Self> {
        Arc::new(Self { store: SuiteStores::of(store), conversations, scratch })
    }

    /// Every name the case uses must be one of the account's own.
    async fn check(
        &self,
        actor: &Actor,
        definition: &TestCaseDefinition,
    ) -> Result<(), EngineError> {
        let tenant = &actor.tenant_id;
        let endpoints: BTreeSet<String> =
            self.store.connections.endpoint_names(tenant).await?.into_iter().collect();
        validate::definition(definition, &endpoints)?;
        if self.store.widgets.get_widget(tenant, &definition.widget_id).await.is_err() {
            return Err(unknown("widget_id".into(), "unknown_widget", "no such widget").into());
        }
        let mut teams = Vec::new();
        let turns = definition.turns.iter().enumerate();
        for (at, list) in turns
            .map(|(i, t)| (format!("turns[{i}].expect"), &t.expect))
            .chain([("expect".to_owned(), &definition.expect)])
        {
            for (j, expectation) in list.iter().enumerate() {
                if let Expectation::HandedOver { team_id: Some(team), .. } = expectation {
                    teams.push((format!("{at}[{j}].team_id"), team.clone()));
                }
            }
        }
        for (field, team) in teams {
            if self.store.teams.get_team(tenant, &team).await.is_err() {
                return Err(unknown(field, "unknown_team", "no such team in this account").into());
            }
        }
        Ok(())
    }

    pub async fn create_test_case(
        &self,
        actor: &Actor,
        name: &str,
        definition: TestCaseDefinition,
    ) -> Result<TestCase, EngineError> {
        actor.require(Role::Admin)?;
        let name = display_name(name, "name", 200)?;
        self.check(actor, &definition).await?;
        let now = Timestamp::now();
        let case = TestCase {
            id: TestCaseId::new(),
            tenant_id: actor.tenant_id.clone(),
            name,
            definition,
            created_at: now,
            updated_at: now,
        };
        self.store.test_cases.create_test_case(&case).await?;
        Ok(case)
    }

    pub async fn update_test_case(
        &self,
        actor: &Actor,
        id: &TestCaseId,
        update: TestCaseUpdate,
    ) -> Result<TestCase, EngineError> {
        actor.require(Role::Admin)?;
        let mut case = self.store.test_cases.get_test_case(&actor.tenant_id, id).await?;
        if let Some(name) = &update.name {
            case.name = display_name(name, "name", 200)?;
        }
        let d = &mut case.definition;
        if let Some(suite) = update.suite {
            d.suite = suite;
        }
        d.widget_id = update.widget_id.unwrap_or(d.widget_id.clone());
        d.visitor = update.visitor.unwrap_or(std::mem::take(&mut d.visitor));
        d.turns = update.turns.unwrap_or(std::mem::take(&mut d.turns));
        d.fakes = update.fakes.unwrap_or(std::mem::take(&mut d.fakes));
        d.expect = update.expect.unwrap_or(std::mem::take(&mut d.expect));
        if let Some(simulate) = update.simulate {
            d.simulate = simulate;
        }
        self.check(actor, &case.definition).await?;
        case.updated_at = Timestamp::now();
        self.store.test_cases.update_test_case(&case).await?;
        Ok(case)
    }

    pub async fn get_test_case(
        &self,
        actor: &Actor,
        id: &TestCaseId,
    ) -> Result<TestCase, EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.test_cases.get_test_case(&actor.tenant_id, id).await?)
    }

    /// The account's cases, of one suite when given, oldest first.
    pub async fn list_test_cases(
        &self,
        actor: &Actor,
        suite: Option<&str>,
    ) -> Result<Vec<TestCase>, EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.test_cases.list_test_cases(&actor.tenant_id, suite).await?)
    }

    pub async fn delete_test_case(
        &self,
        actor: &Actor,
        id: &TestCaseId,
    ) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.test_cases.delete_test_case(&actor.tenant_id, id).await?)
    }
}

fn unknown(field: String, code: &'static str, message: &str) -> ValidationError {
    ValidationError::new(field, code, message.to_owned())
}
