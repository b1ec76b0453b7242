//! The results of running test cases in the sandbox.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Message, TenantId, TestCaseId, TestRunId, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestRunState {
    Running,
    Passed,
    Failed,
}

impl TestRunState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Passed => "passed",
            Self::Failed => "failed",
        }
    }
}

impl std::str::FromStr for TestRunState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "running" => Ok(Self::Running),
            "passed" => Ok(Self::Passed),
            "failed" => Ok(Self::Failed),
            _ => Err(format!("unknown state {s:?}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestRun {
    pub id: TestRunId,
    pub tenant_id: TenantId,
    pub state: TestRunState,
    /// The suite run, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    /// Each case's result, in the order the cases were given; empty while running.
    pub cases: Vec<CaseResult>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseResult {
    pub case_id: TestCaseId,
    pub name: String,
    pub passed: bool,
    /// Each expectation that did not hold, and what was seen instead.
    pub failures: Vec<Failure>,
    /// The conversation as it went: the visitor's messages and every reply.
    pub transcript: Vec<Message>,
    /// What the engine did, step by step (as a conversation's trace).
    pub trace: Vec<Value>,
    /// Every endpoint call, with the values sent and the fake's status.
    pub calls: Vec<Value>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    /// The turn (from 0) after which it was checked; none for the case's own expectations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<usize>,
    pub expectation: Value,
    pub observed: String,
}
