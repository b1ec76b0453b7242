use async_trait::async_trait;
use sb_domain::test_run::TestRun;
use sb_domain::{TenantId, TestCase, TestCaseId, TestRunId};

use crate::StoreResult;

/// Test cases (test suites): each tenant's own scripted conversations.
#[async_trait]
pub trait TestCaseStore: Send + Sync {
    async fn create_test_case(&self, case: &TestCase) -> StoreResult<()>;
    async fn get_test_case(&self, tenant: &TenantId, id: &TestCaseId) -> StoreResult<TestCase>;
    /// The tenant's cases (of one suite, when given), oldest first.
    async fn list_test_cases(
        &self,
        tenant: &TenantId,
        suite: Option<&str>,
    ) -> StoreResult<Vec<TestCase>>;
    async fn update_test_case(&self, case: &TestCase) -> StoreResult<()>;
    async fn delete_test_case(&self, tenant: &TenantId, id: &TestCaseId) -> StoreResult<()>;

    /// Stores a run as it starts, or as it ends (its state, results and end replace the
    /// start's).
    async fn save_test_run(&self, run: &TestRun) -> StoreResult<()>;
    async fn get_test_run(&self, tenant: &TenantId, id: &TestRunId) -> StoreResult<TestRun>;
    /// The tenant's finished runs, newest first, at most `limit`.
    async fn recent_test_runs(&self, tenant: &TenantId, limit: u32) -> StoreResult<Vec<TestRun>>;
}
