//! The harness runs end to end: every scenario, in its quick form, through real child servers,
//! writes its results file and keeps the file's hand-written notes. Timing targets are not
//! asserted here (a debug build says nothing about speed); correctness targets are.

use std::process::Command;

#[test]
fn every_scenario_runs_and_writes_its_results() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("RESULTS.md");
    std::fs::write(&results, "# old numbers\n\n## Notes\n\nWhat holds it back.\n").unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard-bench"));
    command.args(["all", "--quick", "--write"]).arg(&results);
    // PostgreSQL is measured when the tests have one.
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) => command.env("SWITCHBOARD_BENCH_POSTGRES_URL", url),
        Err(_) => command.env_remove("SWITCHBOARD_BENCH_POSTGRES_URL"),
    };
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");

    let written = std::fs::read_to_string(&results).unwrap();
    for heading in [
        "# Benchmark results",
        "## 1. Lookup and reply vs the durable floor and a bare proxy",
        "## 2. OAuth 2.0 client credentials on a cold cache",
        "## 3. Rules per message vs number of rules",
        "## 4. Idle WebSocket connections",
        "## 5. Message persistence",
        "## 6. Knowledge-base search latency vs corpus size",
        "## 7. Test suites in the sandbox",
        "## 8. Conversation search vs a scan of every message",
        "## 9. Analytics reports vs counting every message",
        "## Targets",
    ] {
        assert!(written.contains(heading), "{heading} missing from:\n{written}");
    }
    assert!(!written.contains("old numbers"), "the numbers are replaced");
    assert!(written.ends_with("## Notes\n\nWhat holds it back.\n"), "notes are kept:\n{written}");
    for met in [
        "| 1. no errors on SQLite at 1 conversations | 0 | yes |",
        "| 1. no errors on SQLite at 4 conversations | 0 | yes |",
        "| 2. exactly one token request for 50 concurrent calls | 1 | yes |",
        "| 2. every burst message answered correctly | 0 | yes |",
    ] {
        assert!(written.contains(met), "{met} missing from:\n{written}");
    }
    assert!(
        written.contains("| Switchboard | 100 | 0 |"),
        "every WebSocket connection opened:\n{written}"
    );
    if std::env::var("TEST_POSTGRES_URL").is_ok() {
        assert!(written.contains("| PostgreSQL | 4 |"), "{written}");
        let postgres_lookup = "| 1. no errors on PostgreSQL at 4 conversations | 0 | yes |";
        assert!(written.contains(postgres_lookup), "{written}");
    }
}
