//! Rule evaluation without side effects: does a trigger fire, do the conditions hold, what does a
//! regex capture. The engine walks the rules in priority order and runs the actions; this crate
//! only answers questions, so the same answers serve real messages and dry runs alike.

mod conditions;
mod triggers;
mod validate;

use std::collections::BTreeSet;

use sb_domain::template::Variables;
use sb_domain::{Rule, RuleId};

pub use conditions::conditions_hold;
pub use triggers::{MessageText, capture, keyword_matches, regex_for, trigger_fires};
pub use validate::validate_definition;

/// What a rule is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    /// The visitor's message.
    pub text: &'a str,
    /// The message prepared once for all the rules' keywords.
    pub prepared: &'a MessageText,
    /// Whether it is the visitor's first message in the conversation.
    pub first_message: bool,
    /// Session variables, built-ins included, as they stand when the rule is reached.
    pub variables: &'a Variables,
    /// Variables set or changed while this message is being handled.
    pub changed: &'a BTreeSet<String>,
    /// Rules whose intent the AI recognised in this message.
    pub intents: &'a BTreeSet<RuleId>,
    pub operator_online: bool,
}

/// Whether `rule` fires: its trigger matches and its conditions hold.
pub fn fires(rule: &Rule, situation: &Situation<'_>) -> bool {
    rule.enabled
        && trigger_fires(&rule.definition.trigger, &rule.id, situation)
        && conditions_hold(&rule.definition.conditions, rule.definition.match_mode, situation)
}
