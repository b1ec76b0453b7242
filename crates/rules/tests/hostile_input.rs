//! Rules arrive as JSON from tenants, with regexes and templates inside: whatever arrives is
//! refused or accepted with a reason, and evaluating an accepted rule never panics.

use std::collections::BTreeSet;

use proptest::prelude::*;
use sb_domain::template::{Template, Variables};
use sb_domain::{Rule, RuleDefinition, RuleId, TenantId, Timestamp};
use sb_rules::{MessageText, Situation, capture, fires, regex_for, validate_definition};
use serde_json::{Value, json};

/// Any JSON value, nested a few levels, with the words rules are made of mixed in so that
/// decoding gets past the first field often enough to reach the interesting paths.
fn json_value() -> impl Strategy<Value = Value> {
    let words = prop_oneof![
        Just("type"),
        Just("keywords"),
        Just("regex"),
        Just("any"),
        Just("intent"),
        Just("pattern"),
        Just("flags"),
        Just("i"),
        Just("trigger"),
        Just("actions"),
        Just("conditions"),
        Just("variable"),
        Just("op"),
        Just("eq"),
        Just("matches"),
        Just("value"),
        Just("REPLY_TEXT"),
        Just("SET_VARIABLE"),
        Just("CALL_API"),
        Just("text"),
        Just("name"),
        Just("from_regex"),
        Just("group"),
        Just("on_error"),
        Just("match"),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        "\\PC{0,30}".prop_map(Value::String),
        words.clone().prop_map(|w| Value::String(w.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((words.clone(), inner), 0..6).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn rule_of(definition: RuleDefinition) -> Rule {
    Rule {
        id: RuleId::new(),
        tenant_id: TenantId::new(),
        name: "fuzzed".into(),
        widget_id: None,
        priority: 0,
        enabled: true,
        definition,
        created_at: Timestamp::now(),
        updated_at: Timestamp::now(),
    }
}

fn situation_with<'a>(
    text: &'a str,
    prepared: &'a MessageText,
    variables: &'a Variables,
    empty: &'a BTreeSet<String>,
    intents: &'a BTreeSet<RuleId>,
) -> Situation<'a> {
    Situation {
        text,
        prepared,
        first_message: true,
        variables,
        changed: empty,
        intents,
        operator_online: false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn any_rule_json_is_decoded_or_refused_and_what_passes_evaluates(
        definition in json_value(),
        message in "\\PC{0,60}",
    ) {
        let Ok(definition) = serde_json::from_value::<RuleDefinition>(definition) else {
            return Ok(());
        };
        if validate_definition(&definition).is_err() {
            return Ok(());
        }
        let rule = rule_of(definition);
        let (empty, intents, variables) = (BTreeSet::new(), BTreeSet::new(), Variables::new());
        let prepared = MessageText::new(&message);
        let situation = situation_with(&message, &prepared, &variables, &empty, &intents);
        let _ = fires(&rule, &situation);
    }

    #[test]
    fn well_formed_rules_with_hostile_contents_evaluate_without_panicking(
        trigger in prop_oneof![
            prop::collection::vec("\\PC{0,12}", 0..4).prop_map(|any| json!({"type": "keywords", "any": any})),
            ("\\PC{0,30}", proptest::option::of("[a-z]{0,2}"))
                .prop_map(|(pattern, flags)| json!({"type": "regex", "pattern": pattern, "flags": flags})),
            Just(json!({"type": "any"})),
        ],
        variable in "[a-z._]{0,12}",
        op in prop_oneof![Just("set"), Just("unset"), Just("eq"), Just("ne"), Just("in"),
            Just("contains"), Just("matches"), Just("gt"), Just("lt")],
        value in json_value(),
        actual in json_value(),
        message in "\\PC{0,60}",
    ) {
        let definition = json!({
            "trigger": trigger,
            "conditions": [{"variable": variable, "op": op, "value": value}],
            "actions": [{"type": "REPLY_TEXT", "text": "hi"}],
        });
        let Ok(definition) = serde_json::from_value::<RuleDefinition>(definition) else {
            return Ok(());
        };
        if validate_definition(&definition).is_err() {
            return Ok(());
        }
        let rule = rule_of(definition);
        let variables = Variables::from([(variable.clone(), actual)]);
        let (empty, intents) = (BTreeSet::new(), BTreeSet::new());
        let prepared = MessageText::new(&message);
        let situation = situation_with(&message, &prepared, &variables, &empty, &intents);
        let _ = fires(&rule, &situation);
    }

    #[test]
    fn any_pattern_and_flags_compile_or_are_refused(
        pattern in "\\PC{0,40}",
        flags in proptest::option::of("[a-z]{0,3}"),
        text in "\\PC{0,60}",
    ) {
        if let Ok(regex) = regex_for(&pattern, flags.as_deref()) {
            let _ = regex.is_match(&text);
        }
        let from = sb_domain::FromRegex { pattern, group: None, flags };
        let _ = capture(&from, &text);
    }

    #[test]
    fn keywords_match_whatever_the_text(text in "\\PC{0,80}", keyword in "\\PC{0,12}") {
        let prepared = MessageText::new(&text);
        let found = prepared.has_keyword(&keyword);
        // A keyword found is in the text, ignoring case.
        if found {
            prop_assert!(text.to_lowercase().contains(&keyword.trim().to_lowercase()));
        }
    }

    #[test]
    fn templates_parse_or_are_refused_and_render_with_any_values(
        text in "[a-z{}. ]{0,40}",
        values in prop::collection::btree_map("[a-z.]{1,8}", json_value(), 0..4),
    ) {
        if let Ok(template) = Template::parse("text", &text) {
            let (rendered, _) = template.render_text(&values);
            if !text.contains(['{', '}']) {
                prop_assert_eq!(rendered, text);
            }
        }
    }
}
