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
    /// For a failed case: how its replies differ from the last run in which it passed (each
    /// turn whose replies changed); null when it never passed, or passed now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_last_pass: Option<SinceLastPass>,
}

/// What changed since a case last passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SinceLastPass {
    pub run_id: TestRunId,
    pub changes: Vec<ReplyChange>,
}

/// The replies to one turn, then and now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReplyChange {
    /// From 0.
    pub turn: usize,
    pub was: Vec<String>,
    pub now: Vec<String>,
}

impl CaseResult {
    /// The replies to each turn, in order: what the assistant (and Switchboard) said after each
    /// visitor message.
    pub fn replies_by_turn(&self) -> Vec<Vec<String>> {
        crate::exchanges(&self.transcript)
            .into_iter()
            .map(|e| e.replies.iter().map(|m| m.text.clone()).collect())
            .collect()
    }

    /// How this result's replies differ from `passed`'s, turn by turn.
    pub fn changes_from(&self, passed: &CaseResult) -> Vec<ReplyChange> {
        let (now, was) = (self.replies_by_turn(), passed.replies_by_turn());
        (0..now.len().max(was.len()))
            .filter_map(|turn| {
                let (n, w) = (
                    now.get(turn).cloned().unwrap_or_default(),
                    was.get(turn).cloned().unwrap_or_default(),
                );
                (n != w).then_some(ReplyChange { turn, was: w, now: n })
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    /// The turn (from 0) after which it was checked; none for the case's own expectations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<usize>,
    pub expectation: Value,
    pub observed: String,
}
