//! The `switchboard` binary as an operator runs it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn switchboard(dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("SWITCHBOARD_DATABASE", format!("sqlite://{}/data/sb.db", dir.display()));
    command
}

#[test]
fn default_config_prints_the_documented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let output = switchboard(dir.path()).arg("default-config").output().unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(printed, switchboard::config::DEFAULT_CONFIG);
    let docs = include_str!("../../../../docs/configuration.md");
    assert!(
        docs.contains(printed.trim()),
        "docs/configuration.md must quote the defaults verbatim"
    );
}

#[test]
fn openapi_prints_the_committed_description() {
    let dir = tempfile::tempdir().unwrap();
    let output = switchboard(dir.path()).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let committed = include_str!("../../../../docs/openapi.json");
    assert_eq!(String::from_utf8(output.stdout).unwrap(), committed);
}

#[test]
fn bad_configuration_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = switchboard(dir.path())
        .args(["serve", "--database", "mysql://localhost/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("database.url") && stderr.contains("mysql"), "{stderr}");

    let output = switchboard(dir.path())
        .args(["serve"])
        .env("SWITCHBOARD_SECURITY__SESSION_TTL_HOURS", "soon")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("security.session_ttl_hours"), "{stderr}");

    let output = switchboard(dir.path())
        .args(["serve", "--ssrf-allow", "127.0.0.1:9000", "--ssrf-allow", "bad host"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("security.ssrf_allow[1]"), "{stderr}");

    let file = dir.path().join("switchboard.toml");
    std::fs::write(&file, "[server]\nlisten = \"nowhere\"\n").unwrap();
    let output = switchboard(dir.path()).arg("serve").arg("--config").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("server.listen"), "{stderr}");
}

#[tokio::test]
async fn tenant_create_then_serve_then_stop_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = switchboard(dir.path()).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let rebuild = switchboard(dir.path()).args(["search", "rebuild"]).output().unwrap();
    assert!(rebuild.status.success(), "{}", String::from_utf8_lossy(&rebuild.stderr));
    let said = String::from_utf8_lossy(&rebuild.stdout);
    assert!(said.starts_with("queued 0 conversations"), "{said}");

    let mut create = switchboard(dir.path())
        .args([
            "tenant",
            "create",
            "--name",
            "Acme",
            "--email",
            "owner@acme.test",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    create.stdin.take().unwrap().write_all(b"correct horse battery\n").unwrap();
    let output = create.wait_with_output().unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    let value = |name: &str| {
        printed
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} in {printed}"))
            .to_owned()
    };
    let (tenant_id, api_key) = (value("tenant_id"), value("api_key"));
    assert!(tenant_id.starts_with("ten_") && api_key.starts_with("sbk_"));

    let mut server = switchboard(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(server.stdout.take().unwrap());
    let mut address = None;
    let mut log = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            address = Some(rest.split_whitespace().next().unwrap().to_owned());
            break;
        }
        log.push(line);
    }
    let address = address.unwrap_or_else(|| panic!("no address logged: {log:?}"));
    assert!(
        log.iter().any(|l| l.contains("generated a new master key")),
        "the first start generates and announces the key: {log:?}"
    );
    let key_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("data/master.key")).unwrap().permissions(),
    );
    assert_eq!(key_mode & 0o777, 0o600);

    let me: serde_json::Value = crate::support::http()
        .get(format!("http://{address}/api/v1/me"))
        .header("x-api-key", &api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["tenant"]["id"], tenant_id.as_str());
    assert_eq!(me["data"]["user"]["email"], "owner@acme.test");

    let pid = server.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(status.success(), "SIGTERM ends the server cleanly: {status}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}
