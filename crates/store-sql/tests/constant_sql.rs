//! SQL text is made only from constants. The store's statements are `&'static str` (see
//! `Query::sql`), so what is left that could run SQL built at run time is sqlx's
//! `AssertSqlSafe`, and a run-time string leaked to make it `'static`. This test keeps both out
//! of the crates' sources, but for one audited function in the PostgreSQL test support, which
//! names a generated schema and the test schema's tables.

use std::fs;
use std::path::{Path, PathBuf};

/// The one function allowed to use `AssertSqlSafe`: its file (below `crates/`) and its start.
const AUDITED_FILE: &str = "store-postgres/src/testing.rs";
const AUDITED_FN: &str = "async fn run_generated(";

/// The crates whose sources must not leak strings into `'static` SQL.
const STORE_CRATES: [&str; 3] = ["store-sql", "store-sqlite", "store-postgres"];

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("crates/").to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `.rs` file in `crates/*/src`, as (path below `crates/`, text).
fn sources() -> Vec<(String, String)> {
    let crates = crates_dir();
    let mut files = Vec::new();
    for entry in fs::read_dir(&crates).expect("read crates/") {
        let src = entry.expect("a crate").path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("read a source file");
            let relative = path.strip_prefix(&crates).expect("below crates/");
            (relative.to_string_lossy().replace('\\', "/"), text)
        })
        .collect()
}

/// The 1-based lines of `text` that contain `needle`.
fn lines_with(text: &str, needle: &str) -> Vec<usize> {
    text.lines().enumerate().filter(|(_, line)| line.contains(needle)).map(|(i, _)| i + 1).collect()
}

#[test]
fn only_the_audited_function_hands_sqlx_a_run_time_string() {
    let sources = sources();
    assert!(
        sources.iter().any(|(path, _)| path == "store-sql/src/db.rs"),
        "the scan did not find the store's sources"
    );
    let mut stray = Vec::new();
    let mut audited = Vec::new();
    for (path, text) in &sources {
        let hits = lines_with(text, "AssertSqlSafe");
        if path == AUDITED_FILE {
            audited = hits;
        } else {
            stray.extend(hits.into_iter().map(|line| format!("{path}:{line}")));
        }
    }
    assert!(stray.is_empty(), "AssertSqlSafe outside {AUDITED_FILE}'s audited function: {stray:?}");

    // In the audited file: exactly once, inside the audited function (which ends at the first
    // line after its start that closes a top-level item).
    let (_, text) = sources.iter().find(|(path, _)| path == AUDITED_FILE).expect("audited file");
    let start = lines_with(text, AUDITED_FN);
    assert_eq!(start.len(), 1, "{AUDITED_FILE} should define `{AUDITED_FN}` once");
    let start = start[0];
    let end = text
        .lines()
        .enumerate()
        .skip(start)
        .find(|(_, line)| *line == "}")
        .map(|(i, _)| i + 1)
        .expect("the audited function ends");
    assert_eq!(audited.len(), 1, "{AUDITED_FILE} should use AssertSqlSafe once: {audited:?}");
    assert!(
        (start..=end).contains(&audited[0]),
        "{AUDITED_FILE}:{} uses AssertSqlSafe outside `{AUDITED_FN}` (lines {start}-{end})",
        audited[0]
    );
}

#[test]
fn the_store_crates_leak_no_strings() {
    let leaks: Vec<String> = sources()
        .iter()
        .filter(|(path, _)| STORE_CRATES.iter().any(|c| path.starts_with(&format!("{c}/"))))
        .flat_map(|(path, text)| {
            lines_with(text, "leak(").into_iter().map(move |line| format!("{path}:{line}"))
        })
        .collect();
    assert!(leaks.is_empty(), "a leaked string could pass for constant SQL: {leaks:?}");
}
