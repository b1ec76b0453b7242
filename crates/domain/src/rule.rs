//! Rules: when a visitor's message matches a trigger and the conditions hold, run actions.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use std::collections::BTreeMap;

use crate::{EndpointId, RuleId, TeamId, TenantId, Timestamp, UserId, WidgetId};

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Rule {
    pub id: RuleId,
    pub tenant_id: TenantId,
    pub name: String,
    /// Only for this widget; `None`: every widget of the tenant.
    pub widget_id: Option<WidgetId>,
    /// Lower runs first.
    pub priority: i32,
    pub enabled: bool,
    #[serde(flatten)]
    pub definition: RuleDefinition,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The behaviour of a rule, stored as one JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleDefinition {
    pub trigger: Trigger,
    #[serde(default, deserialize_with = "deserialize_conditions")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    #[serde(default, rename = "match")]
    pub match_mode: MatchMode,
    pub actions: Vec<Action>,
    #[serde(default)]
    pub stop: bool,
    #[serde(default)]
    pub suppress_ai_reply: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    Any,
    FirstMessage,
    Keywords {
        any: Vec<String>,
    },
    Regex {
        pattern: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flags: Option<String>,
    },
    /// Matched by the AI from a plain-words description.
    Intent {
        description: String,
    },
    /// Fires when the variable is set or changed during the evaluation.
    Variable {
        name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    #[default]
    All,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Set,
    Unset,
    Eq,
    Ne,
    In,
    Contains,
    Matches,
    Gt,
    Lt,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Condition {
    Variable {
        variable: String,
        op: Op,
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<Value>,
    },
    OperatorOnline {
        operator_online: bool,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariableCondition {
    variable: String,
    op: Op,
    #[serde(default)]
    value: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OnlineCondition {
    operator_online: bool,
}

impl<'de> Deserialize<'de> for Condition {
    /// Tells the two shapes apart by their keys, so errors name the real problem.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(d)?;
        if value.get("operator_online").is_some() {
            let c: OnlineCondition = serde_json::from_value(value).map_err(D::Error::custom)?;
            return Ok(Condition::OperatorOnline { operator_online: c.operator_online });
        }
        let c: VariableCondition = serde_json::from_value(value).map_err(D::Error::custom)?;
        Ok(Condition::Variable { variable: c.variable, op: c.op, value: c.value })
    }
}

/// The schema of `conditions`: a list, or one condition.
pub fn conditions_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let one = generator.subschema_for::<Condition>();
    schemars::json_schema!({
        "description": "A list of conditions; a single condition object stands for a list of one.",
        "anyOf": [{"type": "array", "items": one}, one]
    })
}

/// `conditions` is a list, or a single condition object. Read element by element, so an error
/// names the failing position (`conditions[2]`).
pub fn deserialize_conditions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Condition>, D::Error> {
    struct Conditions;

    impl<'de> serde::de::Visitor<'de> for Conditions {
        type Value = Vec<Condition>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of conditions or one condition object")
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut list = Vec::new();
            while let Some(condition) = seq.next_element()? {
                list.push(condition);
            }
            Ok(list)
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Condition::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                .map(|c| vec![c])
        }
    }

    d.deserialize_any(Conditions)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FromRegex {
    pub pattern: String,
    /// Capture group number or name; default 1 (or the whole match if there is no group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Action {
    #[serde(rename = "SET_VARIABLE")]
    SetVariable {
        name: String,
        /// A template (string) or a literal JSON value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_regex: Option<FromRegex>,
        /// What to extract from the message, in plain words (needs AI).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_ai: Option<String>,
    },
    #[serde(rename = "CALL_API")]
    CallApi {
        endpoint_id: EndpointId,
        /// The endpoint's inputs, by variable name: how each is filled before the call. Each
        /// value found is kept as a session variable of that name.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        arguments: BTreeMap<String, Argument>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        on_error: Vec<Action>,
    },
    /// Calls a tool of an MCP connection, as `CALL_API` calls an endpoint (the tool's endpoint:
    /// its approval, budget, trace and statistics), then maps its result.
    #[serde(rename = "CALL_TOOL")]
    CallTool {
        connection_id: crate::ConnectionId,
        /// The tool's name on the server.
        tool: String,
        /// The tool's arguments, by name: how each is filled before the call (as `CALL_API`'s).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        arguments: BTreeMap<String, Argument>,
        /// Variable name → dot path into the tool's structured result, besides the tool's own
        /// mapping.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        response_mapping: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        on_error: Vec<Action>,
    },
    #[serde(rename = "REPLY_AI")]
    ReplyAi {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instructions: Option<String>,
        /// Sent (as a template) when AI is off or fails.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fallback: Option<String>,
    },
    #[serde(rename = "REPLY_TEXT")]
    ReplyText { text: String },
    /// Answers with the knowledge-base passage that best matches the message.
    #[serde(rename = "REPLY_KB")]
    ReplyKb {
        /// Sent (as a template) when no passage answers the message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fallback: Option<String>,
    },
    #[serde(rename = "ASSIGN_TO_OPERATOR")]
    AssignToOperator {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team_id: Option<TeamId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Puts one of the account's labels on the conversation.
    #[serde(rename = "ADD_LABEL")]
    AddLabel { label: String },
}

impl Action {
    pub fn type_name(&self) -> &'static str {
        match self {
            Action::SetVariable { .. } => "SET_VARIABLE",
            Action::CallApi { .. } => "CALL_API",
            Action::CallTool { .. } => "CALL_TOOL",
            Action::ReplyAi { .. } => "REPLY_AI",
            Action::ReplyText { .. } => "REPLY_TEXT",
            Action::ReplyKb { .. } => "REPLY_KB",
            Action::AssignToOperator { .. } => "ASSIGN_TO_OPERATOR",
            Action::AddLabel { .. } => "ADD_LABEL",
        }
    }
}

/// How a `CALL_API` fills one of the endpoint's inputs: a template (`"{order_id}"`,
/// `"ORD-{number}"`), or an object that may capture the value from the visitor's message and
/// say what happens when the message holds none.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Argument {
    Template(String),
    Input(ArgumentInput),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgumentInput {
    /// A template filled from the session's variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// What this pattern captures in the message being answered: a regular expression whose
    /// first group is taken (`"#?(\\d{4})"`), or `{pattern, group, flags}`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "pattern_or_capture",
        serialize_with = "pattern_as_given"
    )]
    #[schemars(schema_with = "pattern_or_capture_schema")]
    pub from_message: Option<FromRegex>,
    /// Asked when the message holds no value (`Which order number?`); the rule goes on with
    /// the visitor's answer. Needs `from_message`: the answer is read with the same pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask: Option<String>,
    /// When the message holds no value, the conversation's earlier value of this input may be
    /// used. Off by default: a lookup never answers about a value the visitor did not just give.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reuse: bool,
}

/// `from_message` as given: a plain pattern, or the object.
fn pattern_or_capture<'de, D: Deserializer<'de>>(d: D) -> Result<Option<FromRegex>, D::Error> {
    use serde::de::Error;
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(pattern) => Ok(Some(FromRegex { pattern, group: None, flags: None })),
        object @ Value::Object(_) => {
            serde_json::from_value(object).map(Some).map_err(D::Error::custom)
        }
        _ => Err(D::Error::custom("from_message is a pattern, or {pattern, group, flags}")),
    }
}

/// A plain pattern is written back as one; one with a group or flags as the object.
fn pattern_as_given<S: serde::Serializer>(
    from: &Option<FromRegex>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match from {
        Some(FromRegex { pattern, group: None, flags: None }) => s.serialize_str(pattern),
        other => other.serialize(s),
    }
}

fn pattern_or_capture_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let object = generator.subschema_for::<FromRegex>();
    schemars::json_schema!({
        "description": "A regular expression whose first group is taken, or {pattern, group, flags}.",
        "anyOf": [{"type": "string"}, object]
    })
}

impl Argument {
    /// Both shapes as one: a template is an input with only a `value`.
    pub fn input(&self) -> std::borrow::Cow<'_, ArgumentInput> {
        match self {
            Argument::Template(text) => std::borrow::Cow::Owned(ArgumentInput {
                value: Some(text.clone()),
                ..ArgumentInput::default()
            }),
            Argument::Input(input) => std::borrow::Cow::Borrowed(input),
        }
    }
}

impl<'de> Deserialize<'de> for Argument {
    /// A string is a template; an object an input, read strictly so errors name its field.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(d)? {
            Value::String(text) => Ok(Argument::Template(text)),
            object @ Value::Object(_) => {
                serde_json::from_value(object).map(Argument::Input).map_err(D::Error::custom)
            }
            _ => Err(D::Error::custom(
                "an argument is a template string or an object with value or from_message",
            )),
        }
    }
}

/// Names the engine provides; rules may read them but not set them.
pub const BUILT_IN_PREFIXES: [&str; 5] =
    ["visitor.", "conversation.", "message.", "now.", "widget."];

pub fn is_built_in(name: &str) -> bool {
    BUILT_IN_PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn arguments_read_and_write_both_shapes_of_a_pattern() {
        let given = json!({
            "plain": {"from_message": "#?(\\d{4})", "ask": "Which order number?"},
            "full": {"from_message": {"pattern": "(?P<id>\\d+)", "group": "id", "flags": "i"}, "reuse": true},
            "template": "ORD-{number}",
        });
        let read: BTreeMap<String, Argument> = serde_json::from_value(given.clone()).unwrap();
        assert_eq!(read["plain"].input().from_message.as_ref().unwrap().pattern, "#?(\\d{4})");
        assert!(read["full"].input().reuse);
        assert_eq!(read["template"].input().value.as_deref(), Some("ORD-{number}"));
        assert_eq!(serde_json::to_value(&read).unwrap(), given);
        let wrong: Result<Argument, _> = serde_json::from_value(json!({"from_message": 7}));
        assert!(wrong.unwrap_err().to_string().contains("from_message is a pattern"));
        let unknown: Result<Argument, _> = serde_json::from_value(json!({"may_reuse": true}));
        assert!(unknown.unwrap_err().to_string().contains("unknown field"));
    }
}
