//! Every shell command in the documentation is exercised. The guides written as a session
//! (getting started, operations) are run as they stand, block after block in one shell: a
//! `cargo` on the PATH that runs this build's `switchboard`, `serve` commands started in the
//! background until the next one (or a `# with Switchboard stopped:` line), and port 8080
//! swapped for a free one. Commands elsewhere must name the test that covers them.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The guides run as they stand.
const SESSIONS: [&str; 2] = ["docs/getting-started.md", "docs/operations.md"];

/// Commands of the other pages, by the start of their text, and the test that does the same.
const COVERED: &[(&str, &str, &str)] = &[
    (
        "docs/test-suites.md",
        "SWITCHBOARD_API_KEY=sbk_… switchboard test run --url https://support.example.com --file",
        "the_command_line_imports_and_runs_a_suite_file_and_exports_one",
    ),
    (
        "docs/test-suites.md",
        "SWITCHBOARD_API_KEY=sbk_… switchboard test run --url https://support.example.com --suite",
        "the_command_line_runs_a_suite_for_ci_and_writes_junit",
    ),
    (
        "docs/test-suites.md",
        "SWITCHBOARD_API_KEY=sbk_… switchboard test export ",
        "the_command_line_imports_and_runs_a_suite_file_and_exports_one",
    ),
    ("README.md", "cargo run --release -- serve ", "tenant_create_then_serve_then_stop_gracefully"),
    (
        "README.md",
        "cargo run --release -- default-config",
        "default_config_prints_the_documented_defaults",
    ),
    (
        "README.md",
        "echo 'a long password' | cargo run --release -- tenant create",
        "tenant_create_then_serve_then_stop_gracefully",
    ),
    ("README.md", "curl -H \"X-Api-Key: sbk_…\"", "tenant_create_then_serve_then_stop_gracefully"),
    (
        "docs/ai.md",
        "SWITCHBOARD_AI_PROVIDER=openai SWITCHBOARD_AI_MODEL=",
        "restarting_the_demo_reuses_it_and_a_configured_ai_answers_the_rest",
    ),
    (
        "docs/ai.md",
        "SWITCHBOARD_AI_PROVIDER=openai SWITCHBOARD_AI_BASE_URL=",
        "restarting_the_demo_reuses_it_and_a_configured_ai_answers_the_rest",
    ),
    (
        "docs/ai.md",
        "curl -X PUT …/api/v1/ai-settings",
        "tenants_bring_their_own_provider_with_a_write_only_key",
    ),
    (
        "docs/api-connections.md",
        "curl -X POST http://127.0.0.1:8080/api/v1/connections",
        "every_auth_method_saves_without_echoing_secrets_and_passes_its_test",
    ),
    (
        "docs/api-connections.md",
        "curl -X PATCH …/connections/con_… -d '{\"auth\": {\"type\": \"bearer\"}}'",
        "a_patch_without_secrets_keeps_them_and_a_new_method_needs_its_own",
    ),
    (
        "docs/api-connections.md",
        "curl -X PATCH …/connections/con_… -d '{\"auth\": {\"type\": \"api_key\"}}'",
        "a_patch_without_secrets_keeps_them_and_a_new_method_needs_its_own",
    ),
    (
        "docs/api-connections.md",
        "curl -X POST …/connections/con_…/endpoints",
        "lookup_and_reply_answers_with_the_live_order_status",
    ),
    (
        "docs/api.md",
        "cargo run -- openapi > docs/openapi.json",
        "openapi_prints_the_committed_description",
    ),
    ("docs/configuration.md", "switchboard serve --ssrf-allow", "bad_configuration_names_the_key"),
    (
        "docs/knowledge-base.md",
        "curl -X POST …/api/v1/kb/documents",
        "documents_are_processed_searched_changed_and_deleted",
    ),
    (
        "docs/knowledge-base.md",
        "curl '…/api/v1/kb/search?",
        "documents_are_processed_searched_changed_and_deleted",
    ),
];

/// The `sh` code blocks of a Markdown page: (line of the opening fence, text).
fn sh_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut current {
            None if trimmed == "```sh" => current = Some((i + 1, String::new())),
            Some(_) if trimmed == "```" => blocks.extend(current.take()),
            Some((_, text)) => {
                text.push_str(trimmed);
                text.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// The commands of a block: continued lines and multi-line quoted strings joined, comments and
/// blank lines left out.
fn commands(block: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in block.lines() {
        if let Some(start) = line.strip_suffix('\\') {
            pending.push_str(start);
            continue;
        }
        pending.push_str(line);
        if pending.matches('\'').count() % 2 == 1 {
            pending.push('\n');
            continue;
        }
        let command = std::mem::take(&mut pending);
        let command = command.trim();
        if !command.is_empty() && !command.starts_with('#') {
            commands.push(command.to_owned());
        }
    }
    commands
}

fn read(page: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(page)).unwrap()
}

fn pages() -> Vec<String> {
    let mut pages = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(Path::new(ROOT).join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") {
            pages.push(format!("docs/{name}"));
        }
    }
    pages.sort();
    pages
}

/// The text of every file under `dir`.
fn sources(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            text.push_str(&sources(&path));
        } else {
            text.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    text
}

#[test]
fn every_command_in_the_docs_is_run_or_covered_by_a_named_test() {
    let tests = sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api"));
    let mut used = vec![false; COVERED.len()];
    for page in pages().iter().filter(|page| !SESSIONS.contains(&page.as_str())) {
        for (line, block) in sh_blocks(&read(page)) {
            for command in commands(&block) {
                let matches: Vec<usize> = (0..COVERED.len())
                    .filter(|&i| COVERED[i].0 == page && command.starts_with(COVERED[i].1))
                    .collect();
                assert_eq!(matches.len(), 1, "{page}:{line}: `{command}` needs one covering test");
                used[matches[0]] = true;
            }
        }
    }
    for ((page, command, test), used) in COVERED.iter().zip(used) {
        assert!(used, "{page} no longer has `{command}`: drop it from COVERED");
        assert!(tests.contains(&format!("fn {test}(")), "no test named {test}");
    }
}

/// The shell session of a guide, with servers in the background.
fn session_script(page: &str, port: u16, postgres: bool) -> String {
    let mut script = String::from(
        "set -euo pipefail\n\
         server=\n\
         stop_server() { if [ -n \"$server\" ]; then kill \"$server\"; wait \"$server\" || true; server=; fi; }\n\
         wait_ready() {\n\
           for _ in $(seq 1 600); do\n\
             curl -sf -o /dev/null http://127.0.0.1:8080/healthz && return 0\n\
             kill -0 \"$server\" 2>/dev/null || { cat server.log; return 1; }\n\
             sleep 0.1\n\
           done\n\
           return 1\n\
         }\n\
         trap stop_server EXIT\n",
    );
    for (_, block) in sh_blocks(&read(page)) {
        if !postgres && (block.contains("DATABASE_URL") || block.contains("pg_")) {
            continue;
        }
        if block.starts_with("# with Switchboard stopped:") {
            script.push_str("stop_server\n");
        }
        for command in commands(&block) {
            if command.contains("-- serve") || command.starts_with("switchboard serve") {
                script.push_str(&format!(
                    "stop_server\n{command} > server.log 2>&1 &\nserver=$!\nwait_ready\n"
                ));
            } else {
                script.push_str(&command);
                script.push('\n');
            }
        }
    }
    script.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
}

/// A directory for the PATH with `switchboard` and a `cargo` that runs it (`cargo run … -- ARGS`).
fn tools() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(BIN, dir.path().join("switchboard")).unwrap();
    let cargo = dir.path().join("cargo");
    let shim = "#!/usr/bin/env bash\n\
                while [ \"$#\" -gt 0 ] && [ \"$1\" != \"--\" ]; do shift; done\n\
                shift\n\
                exec switchboard \"$@\"\n";
    std::fs::write(&cargo, shim).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&cargo, mode).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs a guide; returns what it printed and the directory it ran in.
fn run_session(page: &str, postgres: Option<&str>) -> (String, tempfile::TempDir) {
    let tools = tools();
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let path = format!("{}:{}", tools.path().display(), std::env::var("PATH").unwrap());
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(session_script(page, port, postgres.is_some()))
        .current_dir(work.path())
        .env("PATH", path)
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("RUST_LOG");
    if let Some(url) = postgres {
        command.env("DATABASE_URL", url);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let log = std::fs::read_to_string(work.path().join("server.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "{page} failed:\n{stdout}\n{}\nlast server log:\n{log}",
        String::from_utf8_lossy(&output.stderr)
    );
    (stdout, work)
}

#[test]
fn the_getting_started_guide_works_as_written() {
    let (printed, _) = run_session("docs/getting-started.md", None);
    for answer in [
        "Order 4521 is shipped. It should arrive on 2026-12-01 with DHL.",
        "You're signed in as ann@example.com: you're on the basic plan (customer since 2024-03-01). In this demo, vip@example.com is premium.",
    ] {
        assert!(read("docs/getting-started.md").contains(&format!("> {answer}")));
        assert!(printed.contains(answer), "the terminal chat got: {printed}");
    }
}

/// A database of its own for the PostgreSQL part of the operations guide, which restores
/// into it (`SWITCHBOARD_DOCS_POSTGRES_URL`, created by CI).
fn docs_postgres() -> Option<String> {
    let url = std::env::var("SWITCHBOARD_DOCS_POSTGRES_URL").ok().filter(|u| !u.is_empty());
    if url.is_none() && std::env::var_os("SWITCHBOARD_REQUIRE_POSTGRES").is_some() {
        panic!("SWITCHBOARD_DOCS_POSTGRES_URL is required for the operations guide");
    }
    url
}

#[test]
fn the_operations_guide_works_as_written() {
    let postgres = docs_postgres();
    let (printed, work) = run_session("docs/operations.md", postgres.as_deref());
    assert!(printed.contains("\"status\":\"ok\""), "the restored server is healthy: {printed}");
    let dir: PathBuf = work.path().into();
    for file in ["backups/switchboard.db", "backups/master.key", "data/master-2.key"] {
        assert!(dir.join(file).is_file(), "{file} was written");
    }
    if postgres.is_some() {
        assert!(dir.join("switchboard.dump").is_file());
    }
}

/// The guides run `cargo run -- …` through a stand-in for cargo, so check separately that the real
/// one picks the `switchboard` binary: a workspace with a second binary makes a bare `cargo run`
/// fail unless its default members hold exactly one.
#[test]
fn a_bare_cargo_run_runs_switchboard() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let defaults = metadata["workspace_default_members"].as_array().unwrap();
    let binaries: Vec<&str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|package| defaults.contains(&package["id"]))
        .flat_map(|package| package["targets"].as_array().unwrap())
        .filter(|target| target["kind"].as_array().unwrap().contains(&"bin".into()))
        .map(|target| target["name"].as_str().unwrap())
        .collect();
    assert_eq!(binaries, ["switchboard"]);
}
