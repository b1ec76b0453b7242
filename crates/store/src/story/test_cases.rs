use sb_domain::test_case::{TestTurn, TestVisitor};
use sb_domain::{TenantId, TestCase, TestCaseDefinition, TestCaseId, WidgetId};

use super::{assert_not_found, now};
use crate::Store;

fn case(tenant: &TenantId, name: &str, suite: Option<&str>) -> TestCase {
    TestCase {
        id: TestCaseId::new(),
        tenant_id: tenant.clone(),
        name: name.into(),
        definition: TestCaseDefinition {
            suite: suite.map(str::to_owned),
            widget_id: WidgetId::new(),
            visitor: TestVisitor { language: Some("de".into()), ..TestVisitor::default() },
            turns: vec![TestTurn { text: "Wo ist 4521?".into(), expect: Vec::new() }],
            fakes: Vec::new(),
            expect: Vec::new(),
            simulate: None,
        },
        created_at: now(),
        updated_at: now(),
    }
}

pub(super) async fn test_cases(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let orders = case(tenant, "Orders", Some("smoke"));
    let hello = case(tenant, "Hello", None);
    store.create_test_case(&orders).await.unwrap();
    store.create_test_case(&hello).await.unwrap();
    assert_eq!(store.get_test_case(tenant, &orders.id).await.unwrap(), orders);
    assert_not_found(store.get_test_case(other, &orders.id).await);
    // In id order: two ids made in the same millisecond may come either way round.
    let by_id = |mut cases: Vec<TestCase>| {
        cases.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        cases
    };
    let all = store.list_test_cases(tenant, None).await.unwrap();
    assert_eq!(all, by_id(vec![orders.clone(), hello.clone()]));
    assert_eq!(
        store.list_test_cases(tenant, Some("smoke")).await.unwrap(),
        std::slice::from_ref(&orders)
    );
    assert_eq!(store.list_test_cases(other, None).await.unwrap(), []);

    let mut moved = hello.clone();
    moved.definition.suite = Some("smoke".into());
    moved.name = "Hello again".into();
    store.update_test_case(&moved).await.unwrap();
    assert_eq!(
        store.list_test_cases(tenant, Some("smoke")).await.unwrap(),
        by_id(vec![orders.clone(), moved])
    );
    let mut stolen = orders.clone();
    stolen.tenant_id = other.clone();
    assert_not_found(store.update_test_case(&stolen).await);
    assert_not_found(store.delete_test_case(other, &orders.id).await);
    store.delete_test_case(tenant, &orders.id).await.unwrap();
    assert_not_found(store.get_test_case(tenant, &orders.id).await);
    store.delete_test_case(tenant, &hello.id).await.unwrap();
}

pub(super) async fn test_runs(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    use sb_domain::TestRunId;
    use sb_domain::test_run::{CaseResult, TestRun, TestRunState};
    let mut run = TestRun {
        id: TestRunId::new(),
        tenant_id: tenant.clone(),
        state: TestRunState::Running,
        suite: Some("smoke".into()),
        cases: Vec::new(),
        created_at: now(),
        finished_at: None,
    };
    store.save_test_run(&run).await.unwrap();
    assert_eq!(store.get_test_run(tenant, &run.id).await.unwrap(), run);
    assert_not_found(store.get_test_run(other, &run.id).await);
    run.state = TestRunState::Failed;
    run.finished_at = Some(now());
    run.cases.push(CaseResult {
        case_id: TestCaseId::new(),
        name: "Orders".into(),
        passed: false,
        failures: Vec::new(),
        transcript: Vec::new(),
        trace: vec![serde_json::json!({"kind": "reply"})],
        calls: Vec::new(),
        duration_ms: 12,
        since_last_pass: None,
    });
    store.save_test_run(&run).await.unwrap();
    assert_eq!(store.get_test_run(tenant, &run.id).await.unwrap(), run);
    // Another tenant cannot overwrite it by reusing its id.
    let mut stolen = run.clone();
    stolen.tenant_id = other.clone();
    stolen.state = TestRunState::Passed;
    store.save_test_run(&stolen).await.unwrap();
    assert_eq!(store.get_test_run(tenant, &run.id).await.unwrap().state, TestRunState::Failed);
    assert_not_found(store.get_test_run(other, &run.id).await);

    // Finished runs, newest first; running ones are not among them.
    let running = TestRun {
        id: TestRunId::new(),
        state: TestRunState::Running,
        cases: Vec::new(),
        ..run.clone()
    };
    store.save_test_run(&running).await.unwrap();
    let newer = TestRun { id: TestRunId::new(), state: TestRunState::Passed, ..run.clone() };
    store.save_test_run(&newer).await.unwrap();
    // Newest first, by id (two made in the same millisecond may come either way round).
    let recent: Vec<String> = store
        .recent_test_runs(tenant, 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    let mut newest_first = vec![newer.id.to_string(), run.id.to_string()];
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(recent, newest_first);
    assert_eq!(store.recent_test_runs(tenant, 1).await.unwrap().len(), 1);
    assert_eq!(store.recent_test_runs(other, 10).await.unwrap(), []);
}
