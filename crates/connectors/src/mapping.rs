//! Response mapping: dot paths into a JSON answer, copied into session variables.
//!
//! A path is a list of segments separated by dots: object keys (`data.shipping.eta`), array
//! indexes written either way (`items.0.name` or `items[0].name`), `[*]` for every element
//! (`items[*].name` yields an array), and `["key.with.dots"]` for keys that contain dots or
//! brackets. A numeric segment on an object is taken as a key.

use std::collections::BTreeMap;

use serde_json::Value;

/// Elements kept from a `[*]` list.
pub const MAX_LIST_ITEMS: usize = 50;
/// Largest mapped value, as JSON text.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    /// A bare number: an index into an array, or a key of an object.
    Number(usize, String),
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    segments: Vec<Segment>,
}

impl JsonPath {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut rest = raw.trim();
        if rest.is_empty() {
            return Err("the path is empty".into());
        }
        let mut expect_separator = false;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                // A quoted key may itself contain brackets and dots: find its closing quote first.
                let end = match after.chars().next() {
                    Some(quote @ ('"' | '\'')) => after[1..].find(quote).map(|q| q + 2),
                    _ => after.find(']'),
                }
                .filter(|&end| after[end..].starts_with(']'))
                .ok_or_else(|| format!("unclosed [ in {raw:?}"))?;
                let inside = &after[..end];
                segments.push(
                    bracket_segment(inside).ok_or_else(|| {
                        format!("[{inside}] in {raw:?}: use [0], [*] or [\"key\"]")
                    })?,
                );
                rest = &after[end + 1..];
                expect_separator = true;
                continue;
            }
            if expect_separator {
                rest =
                    rest.strip_prefix('.').ok_or_else(|| format!("expected . or [ in {raw:?}"))?;
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let name = &rest[..end];
            if name.is_empty() {
                return Err(format!("empty segment in {raw:?}"));
            }
            segments.push(match name.parse::<usize>() {
                Ok(n) => Segment::Number(n, name.to_owned()),
                Err(_) if name == "*" => Segment::All,
                Err(_) => Segment::Key(name.to_owned()),
            });
            rest = &rest[end..];
            expect_separator = true;
        }
        Ok(Self { segments })
    }

    /// The value at this path, or `None` when any step is absent.
    pub fn extract(&self, value: &Value) -> Option<Value> {
        extract(&self.segments, value)
    }

    /// Writes `value` at this path into `target`, making the objects and arrays on the way: the
    /// inverse of [`JsonPath::extract`] (an answer that maps back to values a conversation had,
    /// for a test case's fakes). A `[*]` step spreads a list over the elements.
    pub fn place(&self, target: &mut Value, value: Value) {
        place(&self.segments, target, value);
    }
}

fn slot_in<'a>(target: &'a mut Value, key: &str) -> &'a mut Value {
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let Value::Object(map) = target else { unreachable!("made an object above") };
    map.entry(key.to_owned()).or_insert(Value::Null)
}

fn element_of(target: &mut Value, index: usize) -> &mut Value {
    if !target.is_array() {
        *target = Value::Array(Vec::new());
    }
    let Value::Array(items) = target else { unreachable!("made an array above") };
    if items.len() <= index {
        items.resize(index + 1, Value::Null);
    }
    &mut items[index]
}

fn place(segments: &[Segment], target: &mut Value, value: Value) {
    let Some((first, rest)) = segments.split_first() else {
        *target = value;
        return;
    };
    match first {
        Segment::Key(key) => place(rest, slot_in(target, key), value),
        Segment::Number(_, key) if target.is_object() => place(rest, slot_in(target, key), value),
        Segment::Number(index, _) => place(rest, element_of(target, *index), value),
        Segment::All => {
            let Value::Array(values) = value else { return };
            for (i, item) in values.into_iter().enumerate() {
                place(rest, element_of(target, i), item);
            }
        }
    }
}

fn bracket_segment(inside: &str) -> Option<Segment> {
    let inside = inside.trim();
    if inside == "*" {
        return Some(Segment::All);
    }
    if let Ok(n) = inside.parse::<usize>() {
        return Some(Segment::Number(n, inside.to_owned()));
    }
    let quoted = inside
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| inside.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))?;
    Some(Segment::Key(quoted.to_owned()))
}

fn extract(segments: &[Segment], value: &Value) -> Option<Value> {
    let Some((first, rest)) = segments.split_first() else { return Some(value.clone()) };
    match (first, value) {
        (Segment::Key(key), Value::Object(map)) => extract(rest, map.get(key)?),
        (Segment::Number(_, key), Value::Object(map)) => extract(rest, map.get(key)?),
        (Segment::Number(index, _), Value::Array(items)) => extract(rest, items.get(*index)?),
        (Segment::All, Value::Array(items)) => {
            Some(Value::Array(items.iter().filter_map(|item| extract(rest, item)).collect()))
        }
        _ => None,
    }
}

/// What mapping a response produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapped {
    pub values: BTreeMap<String, Value>,
    /// Paths that were absent from the response (their variables were not set).
    pub missing: Vec<String>,
    /// Lists cut to their first elements and values too large to keep.
    pub notes: Vec<String>,
}

/// Applies `mapping` (variable → path) to a JSON response.
pub fn apply(mapping: &BTreeMap<String, String>, response: &Value) -> Mapped {
    let mut mapped = Mapped::default();
    for (variable, raw_path) in mapping {
        let Ok(path) = JsonPath::parse(raw_path) else {
            mapped.missing.push(raw_path.clone());
            continue;
        };
        let Some(mut value) = path.extract(response) else {
            mapped.missing.push(raw_path.clone());
            continue;
        };
        if let Value::Array(items) = &mut value
            && items.len() > MAX_LIST_ITEMS
        {
            mapped.notes.push(format!(
                "{variable}: kept the first {MAX_LIST_ITEMS} of {} items",
                items.len()
            ));
            items.truncate(MAX_LIST_ITEMS);
        }
        let size = value.to_string().len();
        if size > MAX_VALUE_BYTES {
            mapped.notes.push(format!(
                "{variable}: {size} bytes is over the {MAX_VALUE_BYTES}-byte limit; not set"
            ));
            continue;
        }
        mapped.values.insert(variable.clone(), value);
    }
    mapped
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(path: &str, value: &Value) -> Option<Value> {
        JsonPath::parse(path).unwrap().extract(value)
    }

    #[test]
    fn placing_values_makes_an_answer_that_maps_back_to_them() {
        let mapping = [
            ("data.status", json!("shipped")),
            ("data.shipping.eta", json!("2026-12-01")),
            ("data.items[*].name", json!(["Lamp", "Bulb"])),
            ("data.items[*].qty", json!([1, 2])),
            ("codes[1]", json!("B")),
            ("[\"a.b\"]", json!(true)),
        ];
        let mut answer = Value::Null;
        for (path, value) in &mapping {
            JsonPath::parse(path).unwrap().place(&mut answer, value.clone());
        }
        for (path, value) in &mapping {
            assert_eq!(at(path, &answer).as_ref(), Some(value), "{path} in {answer}");
        }
        assert_eq!(answer["data"]["items"][1], json!({"name": "Bulb", "qty": 2}));
    }

    #[test]
    fn paths_reach_keys_indexes_and_every_element() {
        let doc = json!({
            "data": {
                "shipping": {"eta": "2026-12-01", "cost": 4.5},
                "items": [{"name": "Lamp", "qty": 1}, {"name": "Bulb"}],
                "0": "key zero",
                "a.b": {"c[d]": true}
            }
        });
        assert_eq!(at("data.shipping.eta", &doc), Some(json!("2026-12-01")));
        assert_eq!(at("data.shipping.cost", &doc), Some(json!(4.5)), "numbers stay numbers");
        assert_eq!(at("data.items.0.name", &doc), Some(json!("Lamp")));
        assert_eq!(at("data.items[1].name", &doc), Some(json!("Bulb")));
        assert_eq!(at("data.items[*].name", &doc), Some(json!(["Lamp", "Bulb"])));
        assert_eq!(
            at("data.items[*].qty", &doc),
            Some(json!([1])),
            "elements without the key are skipped"
        );
        assert_eq!(at("data.0", &doc), Some(json!("key zero")));
        assert_eq!(at(r#"data["a.b"]['c[d]']"#, &doc), Some(json!(true)));
        assert_eq!(at("data.items", &doc).unwrap().as_array().unwrap().len(), 2);
        for absent in ["data.nope", "data.items.5.name", "data.shipping.eta.x", "data.items.name"] {
            assert_eq!(at(absent, &doc), None, "{absent}");
        }
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in ["", "a..b", ".a", "a.", "a[", "a[x]", "a[0]b"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mapping_reports_absent_paths_and_enforces_limits() {
        let items: Vec<Value> = (0..80).map(|i| json!({"id": i})).collect();
        let doc = json!({"status": "shipped", "items": items, "blob": "x".repeat(20_000)});
        let mapping = BTreeMap::from([
            ("order_status".to_owned(), "status".to_owned()),
            ("ids".to_owned(), "items[*].id".to_owned()),
            ("eta".to_owned(), "shipping.eta".to_owned()),
            ("blob".to_owned(), "blob".to_owned()),
        ]);
        let mapped = apply(&mapping, &doc);
        assert_eq!(mapped.values["order_status"], json!("shipped"));
        assert_eq!(mapped.values["ids"].as_array().unwrap().len(), MAX_LIST_ITEMS);
        assert_eq!(mapped.missing, vec!["shipping.eta".to_owned()]);
        assert!(!mapped.values.contains_key("blob"));
        assert_eq!(mapped.notes.len(), 2, "{:?}", mapped.notes);
    }
}
