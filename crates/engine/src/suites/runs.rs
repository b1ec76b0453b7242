//! Starting runs of test cases and reading their results. A run goes on in the background: its
//! answer says `running`, and `GET /test-runs/{id}` has the results once it is done.

use std::sync::Arc;

use sb_domain::test_run::{SinceLastPass, TestRun, TestRunState};
use sb_domain::{Role, TestCase, TestCaseId, TestRunId, Timestamp, ValidationError};
use tokio::task::JoinSet;

use super::SuitesService;
use super::fakes::Fakes;
use super::run::Sandbox;
use crate::{Actor, EngineError};

/// Cases run side by side in one run.
const PARALLEL_CASES: usize = 8;

/// How many earlier runs are searched for a case's last pass.
const RUNS_LOOKED_BACK: u32 = 50;

/// A fresh, empty database for one run's conversations, gone when the returned guard drops.
#[async_trait::async_trait]
pub trait ScratchStores: Send + Sync {
    async fn open(
        &self,
    ) -> Result<(Arc<dyn sb_store::Store>, Box<dyn std::any::Any + Send>), sb_store::StoreError>;
}

/// Which cases to run: these, a suite's, or (neither given) all of the account's.
#[derive(Debug, Default)]
pub struct RunRequest {
    pub case_ids: Option<Vec<TestCaseId>>,
    pub suite: Option<String>,
}

impl SuitesService {
    async fn cases_for(
        &self,
        actor: &Actor,
        request: &RunRequest,
    ) -> Result<Vec<TestCase>, EngineError> {
        let tenant = &actor.tenant_id;
        let cases = match &request.case_ids {
            Some(ids) => {
                let mut cases = Vec::new();
                for (i, id) in ids.iter().enumerate() {
                    let case =
                        self.store.test_cases.get_test_case(tenant, id).await.map_err(|_| {
                            ValidationError::new(
                                format!("case_ids[{i}]"),
                                "unknown_case",
                                "no such test case in this account",
                            )
                        })?;
                    cases.push(case);
                }
                cases
            }
            None => self.store.test_cases.list_test_cases(tenant, request.suite.as_deref()).await?,
        };
        if cases.is_empty() {
            let field = if request.suite.is_some() { "suite" } else { "case_ids" };
            return Err(
                ValidationError::new(field, "no_cases", "there are no test cases to run").into()
            );
        }
        Ok(cases)
    }

    /// Starts running the cases asked for; answers at once with the run (`running`).
    pub async fn start_run(
        self: &Arc<Self>,
        actor: &Actor,
        request: RunRequest,
    ) -> Result<TestRun, EngineError> {
        actor.require(Role::Admin)?;
        let cases = self.cases_for(actor, &request).await?;
        let run = TestRun {
            id: TestRunId::new(),
            tenant_id: actor.tenant_id.clone(),
            state: TestRunState::Running,
            suite: request.suite,
            cases: Vec::new(),
            created_at: Timestamp::now(),
            finished_at: None,
        };
        self.store.test_cases.save_test_run(&run).await?;
        let (service, started) = (self.clone(), run.clone());
        tokio::spawn(async move {
            let id = started.id.clone();
            if let Err(err) = service.finish_run(started, cases).await {
                tracing::error!(run = %id, error = %err, "a test run could not finish");
            }
        });
        Ok(run)
    }

    async fn finish_run(&self, mut run: TestRun, cases: Vec<TestCase>) -> Result<(), EngineError> {
        let (scratch, guard) = self.scratch.open().await?;
        let fakes = Arc::new(Fakes::default());
        let rules = self.store.rules.list_rules(&run.tenant_id).await?;
        let sandbox = Arc::new(Sandbox {
            conversations: self.conversations.sandboxed(&scratch, fakes.clone()),
            fakes,
            scratch,
            tenant_text: serde_json::to_string(&rules).unwrap_or_default(),
        });
        let mut running = JoinSet::new();
        let mut results = vec![None; cases.len()];
        for (i, case) in cases.into_iter().enumerate() {
            if running.len() >= PARALLEL_CASES
                && let Some(Ok((j, result))) = running.join_next().await
            {
                results[j] = Some(result);
            }
            let sandbox = sandbox.clone();
            running.spawn(async move { (i, sandbox.run(&case).await) });
        }
        while let Some(done) = running.join_next().await {
            if let Ok((j, result)) = done {
                results[j] = Some(result);
            }
        }
        drop(sandbox);
        drop(guard);
        run.cases = results.into_iter().flatten().collect();
        self.compare_with_last_pass(&mut run).await?;
        run.state = if run.cases.iter().all(|c| c.passed) {
            TestRunState::Passed
        } else {
            TestRunState::Failed
        };
        run.finished_at = Some(Timestamp::now());
        self.store.test_cases.save_test_run(&run).await?;
        Ok(())
    }

    /// For each failed case, how its replies differ from the last recent run it passed in.
    async fn compare_with_last_pass(&self, run: &mut TestRun) -> Result<(), EngineError> {
        if run.cases.iter().all(|c| c.passed) {
            return Ok(());
        }
        let earlier =
            self.store.test_cases.recent_test_runs(&run.tenant_id, RUNS_LOOKED_BACK).await?;
        for case in run.cases.iter_mut().filter(|c| !c.passed) {
            let passed = earlier.iter().find_map(|r| {
                r.cases
                    .iter()
                    .find(|c| c.case_id == case.case_id && c.passed)
                    .map(|c| (r.id.clone(), c))
            });
            if let Some((run_id, passed)) = passed {
                let changes = case.changes_from(passed);
                case.since_last_pass = Some(SinceLastPass { run_id, changes });
            }
        }
        Ok(())
    }

    pub async fn get_run(&self, actor: &Actor, id: &TestRunId) -> Result<TestRun, EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.test_cases.get_test_run(&actor.tenant_id, id).await?)
    }
}
