use std::cmp::Ordering;

use sb_domain::template::value_text;
use sb_domain::{Condition, MatchMode, Op};
use serde_json::Value;

use crate::Situation;
use crate::triggers::regex_for;

fn is_set(value: Option<&Value>) -> bool {
    value.is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
}

/// Equality as people mean it in rules: `"42"` equals `42`, `"true"` equals `true`.
fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // The common case, decided without rendering either side as text.
        (Value::String(a), Value::String(b)) => a == b,
        _ => a == b || value_text(a).is_some_and(|text| Some(text) == value_text(b)),
    }
}

/// Numbers compare as numbers (numeric strings too); other text compares as text, which orders
/// ISO dates correctly.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let number =
        |v: &Value| v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse::<f64>().ok()));
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => Some(x.cmp(y)),
            _ => None,
        },
    }
}

fn holds(condition: &Condition, situation: &Situation<'_>) -> bool {
    let (name, op, expected) = match condition {
        Condition::OperatorOnline { operator_online } => {
            return situation.operator_online == *operator_online;
        }
        Condition::Variable { variable, op, value } => (variable, *op, value.as_ref()),
    };
    let actual = situation.variables.get(name.as_str()).filter(|v| !v.is_null());
    let expected_or_null = expected.unwrap_or(&Value::Null);
    match op {
        Op::Set => is_set(actual),
        Op::Unset => !is_set(actual),
        Op::Eq => actual.is_some_and(|a| loosely_equal(a, expected_or_null)),
        Op::Ne => !actual.is_some_and(|a| loosely_equal(a, expected_or_null)),
        Op::In => match (actual, expected) {
            (Some(a), Some(Value::Array(options))) => options.iter().any(|o| loosely_equal(a, o)),
            _ => false,
        },
        Op::Contains => match actual {
            Some(Value::Array(items)) => {
                items.iter().any(|item| loosely_equal(item, expected_or_null))
            }
            Some(a) => match (value_text(a), expected.and_then(value_text)) {
                (Some(haystack), Some(needle)) => {
                    haystack.to_lowercase().contains(&needle.to_lowercase())
                }
                _ => false,
            },
            None => false,
        },
        Op::Matches => match (actual.and_then(value_text), expected.and_then(Value::as_str)) {
            (Some(text), Some(pattern)) => {
                regex_for(pattern, None).is_ok_and(|re| re.is_match(&text))
            }
            _ => false,
        },
        Op::Gt => actual.and_then(|a| compare(a, expected_or_null)) == Some(Ordering::Greater),
        Op::Lt => actual.and_then(|a| compare(a, expected_or_null)) == Some(Ordering::Less),
    }
}

/// Whether the conditions hold: all of them, or any of them. No conditions always hold.
pub fn conditions_hold(
    conditions: &[Condition],
    mode: MatchMode,
    situation: &Situation<'_>,
) -> bool {
    if conditions.is_empty() {
        return true;
    }
    match mode {
        MatchMode::All => conditions.iter().all(|c| holds(c, situation)),
        MatchMode::Any => conditions.iter().any(|c| holds(c, situation)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use sb_domain::template::Variables;
    use serde_json::json;

    use super::*;

    fn check(op: Op, variable: &str, expected: Option<Value>, vars: &Variables) -> bool {
        let (changed, intents) = (BTreeSet::new(), BTreeSet::new());
        let situation = Situation {
            text: "",
            prepared: &crate::MessageText::new(""),
            first_message: false,
            variables: vars,
            changed: &changed,
            intents: &intents,
            operator_online: true,
        };
        holds(&Condition::Variable { variable: variable.into(), op, value: expected }, &situation)
    }

    #[test]
    fn every_operator() {
        let vars = Variables::from([
            ("tier".to_owned(), json!("VIP")),
            ("total".to_owned(), json!(120.5)),
            ("count".to_owned(), json!("7")),
            ("tags".to_owned(), json!(["new", "eu"])),
            ("eta".to_owned(), json!("2026-12-01")),
            ("verified".to_owned(), json!(true)),
            ("empty".to_owned(), json!("")),
        ]);
        assert!(check(Op::Set, "tier", None, &vars));
        assert!(!check(Op::Set, "empty", None, &vars));
        assert!(check(Op::Unset, "missing", None, &vars));
        assert!(check(Op::Eq, "tier", Some(json!("VIP")), &vars));
        assert!(!check(Op::Eq, "tier", Some(json!("vip")), &vars), "equality is exact");
        assert!(check(Op::Eq, "count", Some(json!(7)), &vars), "\"7\" equals 7");
        assert!(check(Op::Eq, "verified", Some(json!("true")), &vars));
        assert!(check(Op::Ne, "tier", Some(json!("basic")), &vars));
        assert!(check(Op::Ne, "missing", Some(json!("x")), &vars));
        assert!(check(Op::In, "tier", Some(json!(["gold", "VIP"])), &vars));
        assert!(!check(Op::In, "tier", Some(json!("VIP")), &vars), "in needs a list");
        assert!(check(Op::Contains, "tags", Some(json!("eu")), &vars));
        assert!(check(Op::Contains, "tier", Some(json!("ip")), &vars));
        assert!(check(Op::Matches, "eta", Some(json!(r"^\d{4}-12-")), &vars));
        assert!(check(Op::Gt, "total", Some(json!(100)), &vars));
        assert!(
            check(Op::Lt, "count", Some(json!("10")), &vars),
            "numeric strings compare as numbers"
        );
        assert!(
            check(Op::Gt, "eta", Some(json!("2026-11-30")), &vars),
            "ISO dates compare as text"
        );
        assert!(!check(Op::Gt, "missing", Some(json!(1)), &vars));
    }
}
