//! Reading an OpenAPI document from text, JSON or YAML, into a `serde_json::Value` — with bounds
//! that hostile input cannot get around.
//!
//! JSON goes through `serde_json` (nesting limited to 128 levels; the result is no larger than
//! the text). YAML goes through `yaml_serde`, which limits nesting to 128 levels and alias
//! *jumps* to 100 × the number of events — but an alias can stand for a large subtree, so
//! "billion laughs" documents (anchors of aliases of anchors) still expand to far more than their
//! text. Here the YAML is therefore built through a visitor that charges every node and every
//! string byte it creates against a budget proportional to the text, and gives up when it runs
//! out: expansion is bounded before it is allocated.
//!
//! The budget is in bytes of memory, roughly: a `serde_json::Value` (with `preserve_order`) and
//! its slot in an array or map take about 80 bytes, a map key as much again, and a string its
//! length besides. A document may use [`EXPANSION`] times its text, and never more than
//! [`MAX_BUDGET`] (512 MiB: 16 × the 32 MiB request body limit of the import).

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Deepest nesting accepted (serde_json and yaml_serde stop at 128 anyway).
pub const MAX_DEPTH: usize = 128;
/// Budget units (bytes) per node, value or map key (a string also costs its length).
const NODE_COST: usize = 80;
/// Budget units per byte of text: dense YAML (`[1, 2, 3]`, `a: b`) needs up to ~30.
const EXPANSION: usize = 32;
/// Whatever the text, a document may not expand to more than this many units (bytes).
pub const MAX_BUDGET: usize = 512 * 1024 * 1024;

/// The text is not JSON or YAML, or expands beyond the bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unparsable(pub String);

impl fmt::Display for Unparsable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a document written as JSON (when it starts with `{` or `[`) or YAML.
pub fn parse_text(text: &str) -> Result<Value, Unparsable> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(Unparsable("the document is empty".into()));
    }
    if trimmed.starts_with(['{', '[']) {
        return parse_json(trimmed);
    }
    parse_yaml(text)
}

fn budget_for(text: &str) -> Cell<usize> {
    Cell::new(text.len().saturating_mul(EXPANSION).saturating_add(1 << 20).min(MAX_BUDGET))
}

/// Parses JSON text, charging the budget too (`[0,0,0,…]` takes 40 times its text).
fn parse_json(text: &str) -> Result<Value, Unparsable> {
    let invalid =
        |err: serde_json::Error| Unparsable(format!("the document is not valid JSON: {err}"));
    let budget = budget_for(text);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let seed = Node { budget: &budget, depth: 0, yaml: false };
    let value = seed.deserialize(&mut deserializer).map_err(invalid)?;
    deserializer.end().map_err(invalid)?;
    Ok(value)
}

/// Parses YAML into JSON values, charging the budget for everything built.
pub fn parse_yaml(text: &str) -> Result<Value, Unparsable> {
    let budget = budget_for(text);
    let deserializer = yaml_serde::Deserializer::from_str(text);
    let seed = Node { budget: &budget, depth: 0, yaml: true };
    seed.deserialize(deserializer)
        .map_err(|err| Unparsable(format!("the document is not valid YAML: {err}")))
}

/// Builds one value, charging `budget`.
#[derive(Clone, Copy)]
struct Node<'b> {
    budget: &'b Cell<usize>,
    depth: usize,
    /// YAML: `<<` is a merge key.
    yaml: bool,
}

fn charge<E: de::Error>(budget: &Cell<usize>, units: usize) -> Result<(), E> {
    match budget.get().checked_sub(units) {
        Some(left) => {
            budget.set(left);
            Ok(())
        }
        None => Err(E::custom(
            "the document expands to far more than its text (YAML aliases, or very many \
                 small values); refused",
        )),
    }
}

fn float<E>(value: f64) -> Result<Value, E> {
    // JSON has no NaN or infinity (YAML's .nan, .inf): they carry no meaning here.
    Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON or YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        charge(self.budget, NODE_COST)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        charge(self.budget, NODE_COST)?;
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        charge(self.budget, NODE_COST)?;
        Ok(Value::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        charge(self.budget, NODE_COST)?;
        float(v as f64)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        charge(self.budget, NODE_COST)?;
        float(v as f64)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        charge(self.budget, NODE_COST)?;
        float(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        charge(self.budget, NODE_COST + v.len())?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        charge(self.budget, NODE_COST + v.len())?;
        Ok(Value::String(v))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Value, E> {
        Err(E::custom("binary values are not supported"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        charge(self.budget, NODE_COST)?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        charge(self.budget, NODE_COST)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        charge(self.budget, NODE_COST)?;
        let mut object = Map::new();
        let mut merged = Vec::new();
        while let Some(key) = map.next_key_seed(Key { budget: self.budget })? {
            let value = map.next_value_seed(inner)?;
            if self.yaml && key == "<<" {
                // A YAML merge key: its mappings' entries apply where the map has none.
                merged.push(value);
            } else {
                object.insert(key, value);
            }
        }
        for value in merged {
            let sources = match value {
                Value::Array(items) => items,
                other => vec![other],
            };
            for source in sources {
                let Value::Object(entries) = source else {
                    return Err(de::Error::custom("a YAML merge key (<<) must name mappings"));
                };
                for (key, value) in entries {
                    object.entry(key).or_insert(value);
                }
            }
        }
        Ok(Value::Object(object))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<Value, A::Error> {
        Err(de::Error::custom("YAML tags (!Name) are not supported in an OpenAPI document"))
    }
}

impl Node<'_> {
    fn deeper<E: de::Error>(self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!(
                "the document is nested deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(Self { depth: self.depth + 1, ..self })
    }
}

/// A mapping key: scalars become their text (`200:` is the key `"200"`).
struct Key<'b> {
    budget: &'b Cell<usize>,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        charge(self.budget, NODE_COST + v.len())?;
        Ok(v.to_owned())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        self.visit_str(if v { "true" } else { "false" })
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        self.visit_str("null")
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}
