//! Response mappings are written by tenants and applied to whatever a backend answers: any
//! path is parsed or refused, any answer is mapped without panicking, and a path made of an
//! answer's own keys finds exactly the value under them.

use std::collections::BTreeMap;

use proptest::prelude::*;
use sb_connectors::mapping::{JsonPath, apply};
use serde_json::{Value, json};

fn answer() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "\\PC{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z0-9.*\\[\\]\"']{0,6}", inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn any_path_is_parsed_or_refused_and_any_answer_is_mapped(
        paths in prop::collection::btree_map("[a-z]{1,6}", "[a-z0-9.*\\[\\]\"' ]{0,16}", 0..4),
        response in answer(),
    ) {
        for path in paths.values() {
            if let Ok(parsed) = JsonPath::parse(path) {
                let _ = parsed.extract(&response);
            }
        }
        let mapped = apply(&paths, &response);
        prop_assert!(mapped.values.keys().all(|name| paths.contains_key(name)));
    }

    #[test]
    fn a_path_of_the_answers_own_keys_finds_the_value_under_them(
        keys in prop::collection::vec("[a-z_]{1,6}", 1..5),
        leaf in "\\PC{0,20}",
        dotted_last in any::<bool>(),
    ) {
        let mut keys = keys;
        if dotted_last {
            // A key with a dot in it is reached in brackets and quotes.
            let last = keys.len() - 1;
            keys[last] = format!("{}.v2", keys[last]);
        }
        let response = keys.iter().rev().fold(json!(leaf), |inner, key| json!({ key: inner }));
        let mut path = keys[..keys.len() - 1].join(".");
        let last = &keys[keys.len() - 1];
        if dotted_last {
            path.push_str(&format!("[\"{last}\"]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(last);
        }
        let parsed = JsonPath::parse(&path).map_err(TestCaseError::fail)?;
        prop_assert_eq!(parsed.extract(&response), Some(json!(leaf)));
        let mapping = BTreeMap::from([("found".to_owned(), path)]);
        let mapped = apply(&mapping, &response);
        prop_assert_eq!(mapped.values.get("found"), Some(&json!(leaf)));
    }
}
