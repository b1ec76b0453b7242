//! An MCP server of the tests' own, written with the official Python SDK
//! (`crates/server/tests/mcp/shop_server.py`), run as a child process on loopback. The Python
//! with the SDK comes from `SWITCHBOARD_TEST_PYTHON` (`scripts/test` makes one); without it the
//! MCP tests are skipped, unless `SWITCHBOARD_REQUIRE_MCP=1` (CI) makes that a failure.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The Python with the SDK; `None` (with a note) when there is none and none is required.
pub fn sdk_python() -> Option<String> {
    let required = std::env::var("SWITCHBOARD_REQUIRE_MCP").is_ok_and(|v| v == "1");
    let Some(python) = std::env::var("SWITCHBOARD_TEST_PYTHON").ok().filter(|p| !p.is_empty())
    else {
        assert!(!required, "SWITCHBOARD_REQUIRE_MCP=1 but SWITCHBOARD_TEST_PYTHON is not set");
        eprintln!("note: SWITCHBOARD_TEST_PYTHON not set; the MCP tests are skipped");
        return None;
    };
    Some(python)
}

/// Runs `crates/server/tests/mcp/agent_client.py` (the SDK's client) against `url` with `key`:
/// what it wrote for the session's start and for each step, one value each.
pub async fn agent(python: &str, url: &str, key: Option<&str>, steps: Value) -> Vec<Value> {
    use tokio::io::AsyncWriteExt;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/agent_client.py");
    let mut child = tokio::process::Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the MCP agent starts");
    let plan = serde_json::json!({"url": url, "key": key, "steps": steps});
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(plan.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let finished = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output());
    let output = finished.await.expect("the MCP agent finishes").unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        !lines.is_empty(),
        "the MCP agent wrote nothing: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    lines
}

pub struct PythonMcp {
    pub addr: SocketAddr,
    child: Child,
    calls: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl PythonMcp {
    /// The shop server, started and answering; `None` (with a note) when there is no Python
    /// with the SDK and none is required.
    pub async fn start() -> Option<Self> {
        let python = sdk_python()?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/shop_server.py");
        let dir = tempfile::tempdir().unwrap();
        let calls = dir.path().join("calls.jsonl");
        // Port 0: the server takes a free port itself and says which (no other process can take
        // it between a test choosing it and the server binding it).
        let mut child = Command::new(python)
            .args([script, "0", calls.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the MCP test server starts");
        let Some(port) = reported_port(child.stderr.take().unwrap()).await else {
            let _ = child.kill();
            panic!("the MCP test server did not say where it listens (is the SDK installed?)");
        };
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let server = Self { addr, child, calls, _dir: dir };
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// The tool calls the server received, in order.
    pub fn calls(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.calls).unwrap_or_default();
        text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    }
}

/// The port the server says it listens on (uvicorn: "Uvicorn running on http://127.0.0.1:PORT");
/// the rest of what it writes is read and dropped, so its log never fills the pipe.
async fn reported_port(stderr: std::process::ChildStderr) -> Option<u16> {
    let (found, port) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let listening = line.split("http://127.0.0.1:").nth(1);
            let digits = listening.map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next());
            if let Some(port) = digits.flatten().and_then(|p| p.parse::<u16>().ok())
                && let Some(found) = found.take()
            {
                let _ = found.send(port);
            }
        }
    });
    let waited = tokio::task::spawn_blocking(move || port.recv_timeout(Duration::from_secs(60)));
    waited.await.unwrap().ok()
}

impl Drop for PythonMcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
