//! A suite as a file: JSON or YAML kept beside a customer's own code, imported (and run) by their
//! CI, exported from the dashboard. Account-specific ids stay out of it where they can: the
//! widget is named, endpoints are named in fakes and expectations.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::test_case::{Expectation, Fake, Simulate, TestTurn, TestVisitor};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    /// The suite of every case in the file; cases are matched by name within it. Without one,
    /// the cases belong to no suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    /// The widget of each case that names none: a widget's name or id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget: Option<String>,
    pub cases: Vec<SuiteFileCase>,
}

/// One case of a suite file: a test case without its ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteFileCase {
    /// Unique within the file: importing again updates the case of this name.
    pub name: String,
    /// A widget's name or id, when not the file's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget: Option<String>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub visitor: TestVisitor,
    #[serde(default)]
    pub turns: Vec<TestTurn>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fakes: Vec<Fake>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Expectation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulate: Option<Simulate>,
}

fn is_default(visitor: &TestVisitor) -> bool {
    *visitor == TestVisitor::default()
}
