//! Test suites: scripted conversations that check what the assistant says and does, run in a
//! sandbox where every endpoint call is answered by a fake (see the engine's `testing` module).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::{TeamId, TenantId, TestCaseId, Timestamp, WidgetId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestCase {
    pub id: TestCaseId,
    pub tenant_id: TenantId,
    pub name: String,
    #[serde(flatten)]
    pub definition: TestCaseDefinition,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a case does and checks, stored as one JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCaseDefinition {
    /// Cases of one suite run together (`POST /test-runs {"suite"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    pub widget_id: WidgetId,
    #[serde(default)]
    pub visitor: TestVisitor,
    /// What the visitor writes, in order, each with what must hold after the assistant's turn.
    pub turns: Vec<TestTurn>,
    /// How the endpoints answer in the sandbox; an endpoint without a fake fails the case.
    #[serde(default)]
    pub fakes: Vec<Fake>,
    /// What must hold once every turn is done.
    #[serde(default)]
    pub expect: Vec<Expectation>,
    /// A visitor the AI plays after the scripted turns (if any): it writes until its goal is
    /// met or `max_turns` pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulate: Option<Simulate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Simulate {
    /// Who the visitor is: "an impatient customer who writes in German".
    pub persona: String,
    /// What they want: "find out when order 4521 arrives".
    pub goal: String,
    /// At most this many messages (1–20, default 6).
    #[serde(default = "six")]
    pub max_turns: u32,
}

fn six() -> u32 {
    6
}

/// Who the simulated visitor is. `verified` stands for a signature the site made.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestVisitor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default)]
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Session variables the conversation starts with.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestTurn {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Expectation>,
}

/// How an endpoint answers in the sandbox, when the call's rendered variables match `when` and
/// the case's state matches `when_state`. The first fake that matches answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fake {
    /// The endpoint's name.
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<String, Value>,
    #[serde(default = "ok_status")]
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Answered after this long (a delay past the endpoint's timeout is a timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail: Option<FakeFailure>,
    /// Changes the case's state once this fake answers: a write that a later read sees.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set_state: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub when_state: BTreeMap<String, Value>,
}

fn ok_status() -> u16 {
    200
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FakeFailure {
    Timeout,
    Connect,
    InvalidJson,
}

/// One check on what the assistant said or did.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Expectation {
    ReplyContains {
        reply_contains: String,
    },
    ReplyMatches {
        reply_matches: String,
    },
    ReplyNotContains {
        reply_not_contains: String,
    },
    Called {
        called: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        with: BTreeMap<String, Value>,
    },
    NotCalled {
        not_called: String,
    },
    HandedOver {
        handed_over: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team_id: Option<TeamId>,
    },
    Variable {
        variable: String,
        equals: Value,
    },
    ReplyLanguage {
        reply_language: String,
    },
    ActionProposed {
        action_proposed: String,
    },
    /// No reply names a number, code or amount that no call returned and the visitor did not
    /// write.
    NoInventedValues {
        no_invented_values: bool,
    },
    /// A free-text criterion an AI judge checks (needs an AI provider).
    Judge {
        judge: String,
    },
}

/// The key that names each kind of expectation, for reading them and for errors.
const EXPECTATION_KEYS: [&str; 11] = [
    "reply_contains",
    "reply_matches",
    "reply_not_contains",
    "called",
    "not_called",
    "handed_over",
    "variable",
    "reply_language",
    "action_proposed",
    "no_invented_values",
    "judge",
];

impl<'de> Deserialize<'de> for Expectation {
    /// Tells the kinds apart by their key, so an error names the real problem.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct CalledShape {
            called: String,
            #[serde(default)]
            with: BTreeMap<String, Value>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct HandedShape {
            handed_over: bool,
            #[serde(default)]
            team_id: Option<TeamId>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct VariableShape {
            variable: String,
            equals: Value,
        }
        let value = Value::deserialize(d)?;
        let Some(object) = value.as_object() else {
            return Err(D::Error::custom(
                "an expectation is an object such as {\"reply_contains\": \"…\"}",
            ));
        };
        let Some(key) = EXPECTATION_KEYS.iter().find(|k| object.contains_key(**k)) else {
            return Err(D::Error::custom(format!(
                "unknown expectation: use one of {}",
                EXPECTATION_KEYS.join(", ")
            )));
        };
        let invalid = |e: serde_json::Error| D::Error::custom(e);
        let single = |expected: &str| -> Result<Value, D::Error> {
            if object.len() != 1 {
                return Err(D::Error::custom(format!("{key} takes no other fields")));
            }
            let found = object[*key].clone();
            let fits = match expected {
                "string" => found.is_string(),
                _ => found.is_boolean(),
            };
            if fits {
                Ok(found)
            } else {
                Err(D::Error::custom(format!("{key} must be a {expected}")))
            }
        };
        let text = |v: Value| v.as_str().unwrap_or_default().to_owned();
        Ok(match *key {
            "reply_contains" => {
                Expectation::ReplyContains { reply_contains: text(single("string")?) }
            }
            "reply_matches" => Expectation::ReplyMatches { reply_matches: text(single("string")?) },
            "reply_not_contains" => {
                Expectation::ReplyNotContains { reply_not_contains: text(single("string")?) }
            }
            "called" => {
                let c: CalledShape = serde_json::from_value(value).map_err(invalid)?;
                Expectation::Called { called: c.called, with: c.with }
            }
            "not_called" => Expectation::NotCalled { not_called: text(single("string")?) },
            "handed_over" => {
                let h: HandedShape = serde_json::from_value(value).map_err(invalid)?;
                Expectation::HandedOver { handed_over: h.handed_over, team_id: h.team_id }
            }
            "variable" => {
                let v: VariableShape = serde_json::from_value(value).map_err(invalid)?;
                Expectation::Variable { variable: v.variable, equals: v.equals }
            }
            "reply_language" => {
                Expectation::ReplyLanguage { reply_language: text(single("string")?) }
            }
            "action_proposed" => {
                Expectation::ActionProposed { action_proposed: text(single("string")?) }
            }
            "no_invented_values" => Expectation::NoInventedValues {
                no_invented_values: single("boolean")?.as_bool().unwrap_or(true),
            },
            _ => Expectation::Judge { judge: text(single("string")?) },
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn expectations_read_by_their_key_and_say_what_is_wrong() {
        let read = |v: Value| serde_json::from_value::<Expectation>(v);
        assert_eq!(
            read(json!({"called": "get_order", "with": {"order_id": "4521"}})).unwrap(),
            Expectation::Called {
                called: "get_order".into(),
                with: BTreeMap::from([("order_id".into(), json!("4521"))])
            }
        );
        assert_eq!(
            read(json!({"handed_over": false})).unwrap(),
            Expectation::HandedOver { handed_over: false, team_id: None }
        );
        let wrong = |v: Value| read(v).unwrap_err().to_string();
        assert!(wrong(json!({"reply_has": "x"})).contains("unknown expectation"));
        assert!(wrong(json!({"reply_contains": 7})).contains("must be a string"));
        assert!(wrong(json!({"reply_contains": "a", "with": {}})).contains("no other fields"));
        assert!(wrong(json!({"variable": "x"})).contains("equals"));
        for e in [json!({"no_invented_values": true}), json!({"judge": "apologises"})] {
            assert_eq!(serde_json::to_value(read(e.clone()).unwrap()).unwrap(), e);
        }
    }
}
