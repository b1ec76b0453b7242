//! What a test case must be before it is stored: every name it uses is one of the account's
//! (widget, endpoints, teams), every pattern compiles, and it stays within its size limits.

use std::collections::BTreeSet;

use sb_domain::test_case::{Expectation, Fake, TestCaseDefinition};
use sb_domain::{ValidationError, is_built_in, pattern, validate_variable_name};

/// Limits of one case: a conversation of at most 50 turns, 100 fakes, 256 KiB in all.
pub const MAX_TURNS: usize = 50;
pub const MAX_FAKES: usize = 100;
pub const MAX_CASE_BYTES: usize = 256 * 1024;
const MAX_TEXT_CHARS: usize = 4000;
const MAX_DELAY_MS: u32 = 30_000;
/// The most messages a simulated visitor writes.
pub const MAX_SIMULATED_TURNS: u32 = 20;

fn invalid(field: String, code: &'static str, message: impl Into<String>) -> ValidationError {
    ValidationError::new(field, code, message.into())
}

/// Checks `definition` against the account's endpoint names; references to the widget and to
/// teams are checked by the caller, which can read them.
pub(crate) fn definition(
    definition: &TestCaseDefinition,
    endpoints: &BTreeSet<String>,
) -> Result<(), ValidationError> {
    let size = serde_json::to_vec(definition).map_or(usize::MAX, |b| b.len());
    if size > MAX_CASE_BYTES {
        let message = format!("a test case may hold at most {} KiB", MAX_CASE_BYTES / 1024);
        return Err(invalid("turns".into(), "too_large", message));
    }
    if let Some(suite) = &definition.suite
        && (suite.trim().is_empty() || suite.chars().count() > 100)
    {
        return Err(invalid("suite".into(), "invalid_field", "a suite name has 1–100 characters"));
    }
    for name in definition.visitor.variables.keys() {
        let field = format!("visitor.variables.{name}");
        validate_variable_name(field.clone(), name)?;
        if is_built_in(name) {
            let message = format!("{name} is set by Switchboard");
            return Err(invalid(field, "read_only_variable", message));
        }
    }
    let least = usize::from(definition.simulate.is_none());
    if definition.turns.len() < least || definition.turns.len() > MAX_TURNS {
        let message = format!("a test case has 1–{MAX_TURNS} turns (or a simulated visitor)");
        return Err(invalid("turns".into(), "invalid_field", message));
    }
    if let Some(simulate) = &definition.simulate {
        for (key, text) in [("persona", &simulate.persona), ("goal", &simulate.goal)] {
            let chars = text.trim().chars().count();
            if chars == 0 || chars > 1000 {
                let message = format!("the simulated visitor's {key} has 1–1000 characters");
                return Err(invalid(format!("simulate.{key}"), "invalid_field", message));
            }
        }
        if !(1..=MAX_SIMULATED_TURNS).contains(&simulate.max_turns) {
            let message = format!("a simulated visitor writes 1–{MAX_SIMULATED_TURNS} messages");
            return Err(invalid("simulate.max_turns".into(), "out_of_range", message));
        }
    }
    for (i, turn) in definition.turns.iter().enumerate() {
        let chars = turn.text.trim().chars().count();
        if chars == 0 || chars > MAX_TEXT_CHARS {
            let message = format!("what the visitor writes has 1–{MAX_TEXT_CHARS} characters");
            return Err(invalid(format!("turns[{i}].text"), "invalid_field", message));
        }
        expectations(&format!("turns[{i}].expect"), &turn.expect, endpoints)?;
    }
    expectations("expect", &definition.expect, endpoints)?;
    if definition.fakes.len() > MAX_FAKES {
        let message = format!("at most {MAX_FAKES} fakes");
        return Err(invalid("fakes".into(), "too_many", message));
    }
    for (i, fake) in definition.fakes.iter().enumerate() {
        self::fake(&format!("fakes[{i}]"), fake, endpoints)?;
    }
    Ok(())
}

fn known_endpoint(
    field: String,
    name: &str,
    endpoints: &BTreeSet<String>,
) -> Result<(), ValidationError> {
    if endpoints.contains(name) {
        return Ok(());
    }
    Err(invalid(field, "unknown_endpoint", format!("no endpoint called {name} in this account")))
}

fn fake(at: &str, fake: &Fake, endpoints: &BTreeSet<String>) -> Result<(), ValidationError> {
    known_endpoint(format!("{at}.endpoint"), &fake.endpoint, endpoints)?;
    if !(100..=599).contains(&fake.status) {
        let message = "a status is a number from 100 to 599";
        return Err(invalid(format!("{at}.status"), "invalid_status", message));
    }
    if fake.delay_ms.is_some_and(|ms| ms > MAX_DELAY_MS) {
        let message = format!("a fake waits at most {MAX_DELAY_MS} ms");
        return Err(invalid(format!("{at}.delay_ms"), "out_of_range", message));
    }
    Ok(())
}

fn expectations(
    at: &str,
    list: &[Expectation],
    endpoints: &BTreeSet<String>,
) -> Result<(), ValidationError> {
    for (i, expectation) in list.iter().enumerate() {
        let field = |key: &str| format!("{at}[{i}].{key}");
        match expectation {
            Expectation::ReplyMatches { reply_matches } => {
                pattern::compile_search(reply_matches, false)
                    .map_err(|why| invalid(field("reply_matches"), "invalid_pattern", why))?;
            }
            Expectation::Called { called: name, .. }
            | Expectation::NotCalled { not_called: name }
            | Expectation::ActionProposed { action_proposed: name } => {
                let key = match expectation {
                    Expectation::Called { .. } => "called",
                    Expectation::NotCalled { .. } => "not_called",
                    _ => "action_proposed",
                };
                known_endpoint(field(key), name, endpoints)?;
            }
            Expectation::Variable { variable, .. } => {
                validate_variable_name(field("variable"), variable)?;
            }
            Expectation::ReplyContains { reply_contains: text }
            | Expectation::ReplyNotContains { reply_not_contains: text }
            | Expectation::Judge { judge: text }
                if text.trim().is_empty() =>
            {
                let key = match expectation {
                    Expectation::ReplyContains { .. } => "reply_contains",
                    Expectation::ReplyNotContains { .. } => "reply_not_contains",
                    _ => "judge",
                };
                return Err(invalid(field(key), "required", "say what to look for"));
            }
            _ => {}
        }
    }
    Ok(())
}
