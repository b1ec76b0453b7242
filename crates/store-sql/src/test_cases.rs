use async_trait::async_trait;
use sb_domain::test_run::TestRun;
use sb_domain::{TenantId, TestCase, TestCaseId, TestRunId};
use sb_store::{StoreResult, TestCaseStore};

use crate::json::to_json;
use crate::{Db, Row, SqlStore, expect_found, q};

/// A test case's columns, for [`case_from_row`]. The suite is a column of its own so a run of
/// one suite finds its cases without reading every definition.
macro_rules! columns {
    () => {
        "id, tenant_id, name, suite, definition_json, created_at, updated_at"
    };
}

fn case_from_row(row: &Row) -> StoreResult<TestCase> {
    Ok(TestCase {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        name: row.text("name")?,
        definition: row.json("definition_json")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

#[async_trait]
impl<D: Db> TestCaseStore for SqlStore<D> {
    async fn create_test_case(&self, c: &TestCase) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO test_cases (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
        );
        let query = q(sql)
            .text(c.id.as_str())
            .text(c.tenant_id.as_str())
            .text(&c.name)
            .opt_text(c.definition.suite.as_deref())
            .json(to_json(&c.definition))
            .ts(c.created_at)
            .ts(c.updated_at);
        self.db.execute(query).await.map(drop)
    }

    async fn get_test_case(&self, tenant: &TenantId, id: &TestCaseId) -> StoreResult<TestCase> {
        let sql =
            concat!("SELECT ", columns!(), " FROM test_cases WHERE tenant_id = $1 AND id = $2");
        case_from_row(&self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }

    async fn list_test_cases(
        &self,
        tenant: &TenantId,
        suite: Option<&str>,
    ) -> StoreResult<Vec<TestCase>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM test_cases WHERE tenant_id = $1 AND ($2 = '' OR suite = $2) ORDER BY id"
        );
        let query = q(sql).text(tenant.as_str()).text(suite.unwrap_or_default());
        self.db.fetch_all(query).await?.iter().map(case_from_row).collect()
    }

    async fn update_test_case(&self, c: &TestCase) -> StoreResult<()> {
        let sql = "UPDATE test_cases SET name = $1, suite = $2, definition_json = $3, \
                   updated_at = $4 WHERE tenant_id = $5 AND id = $6";
        let query = q(sql)
            .text(&c.name)
            .opt_text(c.definition.suite.as_deref())
            .json(to_json(&c.definition))
            .ts(c.updated_at)
            .text(c.tenant_id.as_str())
            .text(c.id.as_str());
        expect_found(self.db.execute(query).await?)
    }

    async fn delete_test_case(&self, tenant: &TenantId, id: &TestCaseId) -> StoreResult<()> {
        let sql = "DELETE FROM test_cases WHERE tenant_id = $1 AND id = $2";
        expect_found(self.db.execute(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }

    async fn save_test_run(&self, run: &TestRun) -> StoreResult<()> {
        let sql = "INSERT INTO test_runs (id, tenant_id, state, run_json, created_at) \
                   VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (id) DO UPDATE SET state = excluded.state, run_json = excluded.run_json \
                   WHERE test_runs.tenant_id = excluded.tenant_id";
        let query = q(sql)
            .text(run.id.as_str())
            .text(run.tenant_id.as_str())
            .text(run.state.as_str())
            .json(to_json(run))
            .ts(run.created_at);
        self.db.execute(query).await.map(drop)
    }

    async fn recent_test_runs(&self, tenant: &TenantId, limit: u32) -> StoreResult<Vec<TestRun>> {
        let sql = "SELECT run_json FROM test_runs WHERE tenant_id = $1 AND state <> $2 \
                   ORDER BY id DESC LIMIT $3";
        let query = q(sql).text(tenant.as_str()).text("running").int(i64::from(limit));
        self.db.fetch_all(query).await?.iter().map(|row| row.json("run_json")).collect()
    }

    async fn get_test_run(&self, tenant: &TenantId, id: &TestRunId) -> StoreResult<TestRun> {
        let sql = "SELECT run_json FROM test_runs WHERE tenant_id = $1 AND id = $2";
        let row = self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?;
        row.json("run_json")
    }
}
