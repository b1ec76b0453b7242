//! Suites as files: a YAML or JSON file creates and updates its cases by name (all checked
//! before any is written), a suite exports as a file that imports back unchanged, and the
//! command line runs a file's cases for a customer's CI.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_error};
use crate::test_runs::{run, shop, watched_backend};

/// A suite file of two cases for the shop, the first expecting `first_expects`.
fn suite_yaml(first_expects: &str) -> String {
    format!(
        r#"# The order lookups, kept beside the shop's code.
suite: orders
widget: Shop
cases:
  - name: Order status
    fakes:
      - endpoint: get_order
        when: {{order_id: "4521"}}
        body: {{data: {{status: shipped}}}}
    turns:
      - text: Where is order 4521?
        expect:
          - reply_contains: "{first_expects}"
          - called: get_order
            with: {{order_id: "4521"}}
  - name: Unknown order
    fakes:
      - {{endpoint: get_order, status: 404}}
    turns:
      - text: order 9999
        expect: [{{reply_contains: "couldn't find order 9999"}}]
    expect:
      - handed_over: false
"#
    )
}

async fn case_count(owner: &crate::support::Client) -> usize {
    let (_, cases) = owner.get("/api/v1/test-cases").await;
    cases["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_suite_file_creates_updates_and_exports_its_cases_by_name() {
    let (backend, seen) = watched_backend().await;
    for app in TestApp::every_backend_allowing(&[backend]).await {
        let (owner, _, _) = shop(&app, backend).await;
        let import = |file: Value, dry_run: bool| {
            let owner = owner.clone();
            async move {
                owner
                    .post("/api/v1/test-cases/import", json!({"file": file, "dry_run": dry_run}))
                    .await
            }
        };

        let (status, dry) = import(json!(suite_yaml("shipped")), true).await;
        assert_eq!(status, StatusCode::OK, "{dry}");
        assert_eq!(
            dry["data"],
            json!({"suite": "orders", "created": 2, "updated": 0, "unchanged": 0, "case_ids": [], "dry_run": true})
        );
        assert_eq!(case_count(&owner).await, 0, "a dry run creates nothing");

        let (_, created) = import(json!(suite_yaml("shipped")), false).await;
        assert_eq!(
            (created["data"]["created"].as_u64(), created["data"]["unchanged"].as_u64()),
            (Some(2), Some(0))
        );
        let ids = created["data"]["case_ids"].clone();
        let result = run(&owner, json!({"case_ids": ids})).await;
        assert_eq!(result["state"], "passed", "{result}");
        assert!(seen.lock().unwrap().is_empty(), "the fakes answered, not the backend");

        // Importing again matches by name: one changed case is updated, the other left alone.
        let (_, again) = import(json!(suite_yaml("delivered")), false).await;
        assert_eq!(
            (&again["data"]["updated"], &again["data"]["unchanged"], &again["data"]["case_ids"]),
            (&json!(1), &json!(1), &ids)
        );
        let result = run(&owner, json!({"suite": "orders"})).await;
        assert_eq!(result["state"], "failed", "{result}");

        // Exported as YAML, the suite imports back unchanged; as JSON it is the same file.
        let response = owner
            .request(Method::GET, "/api/v1/test-cases/export?suite=orders&format=yaml")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/yaml");
        assert_eq!(
            response.headers()["content-disposition"],
            "attachment; filename=\"orders.suite.yaml\""
        );
        let yaml = response.text().await.unwrap();
        assert!(yaml.contains("widget: Shop") && !yaml.contains("wgt_"), "{yaml}");
        let (_, back) = import(json!(yaml), false).await;
        assert_eq!((&back["data"]["unchanged"], &back["data"]["created"]), (&json!(2), &json!(0)));
        let (status, file) = owner.get("/api/v1/test-cases/export?suite=orders").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(file["widget"], "Shop");
        assert_eq!(file["cases"][1]["fakes"], json!([{"endpoint": "get_order", "status": 404}]));
        let (_, back) = import(file, false).await;
        assert_eq!(back["data"]["unchanged"], 2, "{back}");

        // A stranger's account has no widget called Shop, and no cases to export.
        let stranger = app.signup("Beta", "bob@beta.test").await;
        let answer = stranger
            .post("/api/v1/test-cases/import", json!({"file": suite_yaml("shipped")}))
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_widget",
            Some("file.widget"),
        );
        let (_, theirs) = stranger.get("/api/v1/test-cases/export?suite=orders").await;
        assert_eq!(theirs["cases"], json!([]));
    }
}

#[tokio::test]
async fn a_bad_suite_file_says_where_and_changes_nothing() {
    let (backend, _) = watched_backend().await;
    let allow = vec![backend.to_string()];
    let app = TestApp::sqlite_with(|config| config.security.ssrf_allow = allow).await;
    let (owner, _, _) = shop(&app, backend).await;
    owner.post("/api/v1/test-cases/import", json!({"file": suite_yaml("shipped")})).await;
    let before = owner.get("/api/v1/test-cases").await;

    let cases = |second: Value| {
        json!({"suite": "orders", "widget": "Shop", "cases": [
            {"name": "Order status", "turns": [{"text": "changed, but the file is refused"}]},
            second]})
    };
    let refusals = [
        (
            cases(
                json!({"name": "b", "turns": [{"text": "x"}], "fakes": [{"endpoint": "get_ordr"}]}),
            ),
            "unknown_endpoint",
            "file.cases[1].fakes[0].endpoint",
        ),
        (
            cases(json!({"name": "Order status", "turns": [{"text": "x"}]})),
            "duplicate_name",
            "file.cases[1].name",
        ),
        (
            cases(json!({"name": "b", "widget": "Kiosk", "turns": [{"text": "x"}]})),
            "unknown_widget",
            "file.cases[1].widget",
        ),
        (
            cases(
                json!({"name": "b", "turns": [{"text": "x", "expect": [{"reply_matches": "("}]}]}),
            ),
            "invalid_pattern",
            "file.cases[1].turns[0].expect[0].reply_matches",
        ),
        (cases(json!({"name": "b", "turnz": []})), "unknown_field", "file.cases[1].turnz"),
        (json!({"suite": "orders", "widget": "Shop", "cases": []}), "invalid_field", "file.cases"),
        (json!("suite: [unclosed"), "unparsable_file", "file"),
    ];
    for (file, code, field) in refusals {
        let answer = owner.post("/api/v1/test-cases/import", json!({"file": file})).await;
        assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, code, Some(field));
        assert_eq!(owner.get("/api/v1/test-cases").await, before, "{code} changed nothing");
    }
}

#[tokio::test]
async fn the_command_line_imports_and_runs_a_suite_file_and_exports_one() {
    let (backend, _) = watched_backend().await;
    let allow = vec![backend.to_string()];
    let app = TestApp::sqlite_with(|config| config.security.ssrf_allow = allow).await;
    let (owner, _, _) = shop(&app, backend).await;
    let key = owner.create_api_key("ci").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orders.yaml");
    let switchboard = |args: Vec<String>| {
        let (base, key) = (app.base.clone(), key.clone());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
                .args(["test"])
                .args(&args[..1])
                .args(["--url", &base])
                .args(&args[1..])
                .env("SWITCHBOARD_API_KEY", key)
                .output()
                .unwrap()
        })
    };
    let path = file.to_str().unwrap().to_owned();

    std::fs::write(&file, suite_yaml("shipped")).unwrap();
    let green = switchboard(vec!["run".into(), "--file".into(), path.clone()]).await.unwrap();
    assert_eq!(green.status.code(), Some(0), "{green:?}");
    let printed = String::from_utf8(green.stdout).unwrap();
    assert!(printed.contains("2 created, 0 updated, 0 unchanged"), "{printed}");
    assert!(printed.contains("2 of 2 test cases passed"), "{printed}");

    std::fs::write(&file, suite_yaml("delivered")).unwrap();
    let junit = dir.path().join("results.xml");
    let red = switchboard(vec![
        "run".into(),
        "--file".into(),
        path.clone(),
        "--junit".into(),
        junit.to_str().unwrap().into(),
    ])
    .await
    .unwrap();
    assert_eq!(red.status.code(), Some(1), "{red:?}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite name=\"orders\" tests=\"2\" failures=\"1\""), "{xml}");

    let exported = dir.path().join("exported.yml");
    let export = switchboard(vec![
        "export".into(),
        "--suite".into(),
        "orders".into(),
        "--out".into(),
        exported.to_str().unwrap().into(),
    ])
    .await
    .unwrap();
    assert_eq!(export.status.code(), Some(0), "{export:?}");
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.starts_with("suite: orders\nwidget: Shop\n"), "{text}");
    assert!(text.contains("reply_contains: delivered"), "{text}");

    let broken = switchboard(vec!["run".into(), "--file".into(), "/nonexistent/suite.yaml".into()])
        .await
        .unwrap();
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("reading /nonexistent/suite.yaml"));
}
