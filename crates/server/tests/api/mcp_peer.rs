//! An MCP server of the tests' own, written with the official Python SDK
//! (`crates/server/tests/mcp/shop_server.py`), run as a child process on loopback. The Python
//! with the SDK comes from `SWITCHBOARD_MCP_PYTHON` (`scripts/test` makes one); without it the
//! MCP tests are skipped, unless `SWITCHBOARD_REQUIRE_MCP=1` (CI) makes that a failure.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

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
        let required = std::env::var("SWITCHBOARD_REQUIRE_MCP").is_ok_and(|v| v == "1");
        let Some(python) = std::env::var("SWITCHBOARD_MCP_PYTHON").ok().filter(|p| !p.is_empty())
        else {
            assert!(!required, "SWITCHBOARD_REQUIRE_MCP=1 but SWITCHBOARD_MCP_PYTHON is not set");
            eprintln!("note: SWITCHBOARD_MCP_PYTHON not set; the MCP server tests are skipped");
            return None;
        };
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/shop_server.py");
        let dir = tempfile::tempdir().unwrap();
        let calls = dir.path().join("calls.jsonl");
        // A port that was free a moment ago; the server binds it itself.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(python)
            .args([script, &port.to_string(), calls.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the MCP test server starts");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let server = Self { addr, child, calls, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(Instant::now() < deadline, "the MCP test server did not start listening");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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

impl Drop for PythonMcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
