//! `$ref` resolution inside one document, and schemas flattened to what an endpoint needs: the
//! type, pattern, enum and description of a value, and the top-level properties of an object
//! (`allOf` parts merged). Every walk is bounded: reference chains, nesting and the number of
//! schemas one flattening may visit, so recursive and hostile schemas end quickly — and all the
//! walks of one conversion share one [`Work`] budget, so that a small document whose schemas
//! are referenced many times cannot make the conversion run for long.

use std::cell::Cell;
use std::collections::{BTreeSet, HashSet};
use std::fmt;

use serde_json::Value;

/// Longest chain of `$ref`s followed to reach a value.
const MAX_REF_HOPS: usize = 32;
/// Deepest `allOf` nesting merged.
const MAX_SCHEMA_DEPTH: usize = 16;
/// Most schemas one flattening visits (`allOf` of `allOf`s can fan out).
const MAX_SCHEMA_VISITS: usize = 1000;

/// Units of work one conversion may spend: a schema or reference visited, a property merged,
/// a parameter read, 32 bytes of a reference pointer each cost one. Real documents (GitHub's
/// 13 MB description) need well under a tenth of it.
pub const MAX_WORK: usize = 20_000_000;

/// The work budget of one conversion, shared by every walk.
#[derive(Debug)]
pub struct Work {
    left: Cell<usize>,
}

impl Work {
    pub fn new(units: usize) -> Self {
        Work { left: Cell::new(units) }
    }

    /// Spends `units`, or says the budget is gone (and leaves it empty).
    pub fn charge(&self, units: usize) -> Result<(), RefProblem> {
        match self.left.get().checked_sub(units) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => {
                self.left.set(0);
                Err(RefProblem::TooComplex(
                    "the document needs more work to convert than one import allows".into(),
                ))
            }
        }
    }

    /// True once a charge has failed: whatever was converted since may be incomplete.
    pub fn exhausted(&self) -> bool {
        self.left.get() == 0
    }
}

/// Why a reference could not be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefProblem {
    /// Another file or URL: not followed.
    External(String),
    /// Points at nothing in this document.
    Unresolved(String),
    /// A chain of references that comes back to itself.
    Cycle(String),
    /// Too many hops, too deep, or too many parts.
    TooComplex(String),
}

impl fmt::Display for RefProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefProblem::External(r) => {
                write!(
                    f,
                    "it refers to another document ({r}); external references are not followed"
                )
            }
            RefProblem::Unresolved(r) => write!(f, "the reference {r} points at nothing"),
            RefProblem::Cycle(r) => write!(f, "the reference {r} refers back to itself"),
            RefProblem::TooComplex(what) => write!(f, "{what}"),
        }
    }
}

/// One document, for resolving references within it.
#[derive(Clone, Copy)]
pub struct Doc<'a> {
    pub root: &'a Value,
    pub work: &'a Work,
}

/// Decodes a JSON pointer token (`~1` is `/`, `~0` is `~`) after URI percent-decoding.
fn token(raw: &str) -> String {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut input = raw.bytes();
    while let Some(b) = input.next() {
        if b == b'%' {
            let hex: Vec<u8> = input.clone().take(2).collect();
            if let Some(value) =
                std::str::from_utf8(&hex).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                bytes.push(value);
                input.nth(1);
                continue;
            }
        }
        bytes.push(b);
    }
    String::from_utf8_lossy(&bytes).replace("~1", "/").replace("~0", "~")
}

impl<'a> Doc<'a> {
    /// The value a local reference (`#/components/schemas/Pet`) points at.
    pub fn target(&self, reference: &str) -> Result<&'a Value, RefProblem> {
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(RefProblem::External(reference.to_owned()));
        };
        self.work.charge(1 + reference.len() / 32)?;
        let mut at = self.root;
        for raw in pointer.split('/').skip(1) {
            let key = token(raw);
            at = match at {
                Value::Object(map) => map.get(&key),
                Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            }
            .ok_or_else(|| RefProblem::Unresolved(reference.to_owned()))?;
        }
        if pointer.is_empty() || pointer == "/" {
            return Err(RefProblem::Cycle(reference.to_owned()));
        }
        Ok(at)
    }

    /// Follows `$ref`s until a value without one.
    pub fn resolve(&self, mut value: &'a Value) -> Result<&'a Value, RefProblem> {
        let mut seen: Vec<&str> = Vec::new();
        while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            if seen.contains(&reference) {
                return Err(RefProblem::Cycle(reference.to_owned()));
            }
            if seen.len() == MAX_REF_HOPS {
                return Err(RefProblem::TooComplex(format!(
                    "more than {MAX_REF_HOPS} references lead to one value"
                )));
            }
            seen.push(reference);
            value = self.target(reference)?;
        }
        Ok(value)
    }

    /// The schema flattened: `$ref`s followed, `allOf` parts merged.
    pub fn flatten(&self, schema: &'a Value) -> Result<Schema<'a>, RefProblem> {
        let mut out = Schema::default();
        let mut visits = 0;
        let mut known = HashSet::new();
        self.merge_into(&mut out, schema, 0, &mut Vec::new(), &mut visits, &mut known)?;
        Ok(out)
    }

    fn merge_into(
        &self,
        out: &mut Schema<'a>,
        schema: &'a Value,
        depth: usize,
        stack: &mut Vec<&'a str>,
        visits: &mut usize,
        known: &mut HashSet<&'a str>,
    ) -> Result<(), RefProblem> {
        *visits += 1;
        self.work.charge(1)?;
        if depth > MAX_SCHEMA_DEPTH || *visits > MAX_SCHEMA_VISITS {
            return Err(RefProblem::TooComplex(
                "the schema nests too many allOf parts or references".into(),
            ));
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            // A schema that includes itself (through allOf) adds nothing the second time.
            if stack.contains(&reference) {
                return Ok(());
            }
            let target = self.target(reference)?;
            stack.push(reference);
            let merged = self.merge_into(out, target, depth + 1, stack, visits, known);
            stack.pop();
            merged?;
            // OpenAPI 3.1 allows keywords beside $ref; they refine the target.
            return self.merge_own(out, schema, known);
        }
        self.merge_own(out, schema, known)?;
        for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            self.merge_into(out, part, depth + 1, stack, visits, known)?;
        }
        Ok(())
    }

    /// The schema's own keywords; what is already known (from the schema itself, or an earlier
    /// part) stays.
    fn merge_own(
        &self,
        out: &mut Schema<'a>,
        schema: &'a Value,
        known: &mut HashSet<&'a str>,
    ) -> Result<(), RefProblem> {
        let Some(map) = schema.as_object() else { return Ok(()) };
        match map.get("type") {
            Some(Value::String(t)) => out.add_type(t),
            Some(Value::Array(types)) => {
                types.iter().filter_map(Value::as_str).for_each(|t| out.add_type(t))
            }
            _ => {}
        }
        if map.get("nullable").and_then(Value::as_bool) == Some(true) {
            out.add_type("null");
        }
        if out.pattern.is_none() {
            out.pattern = map.get("pattern").and_then(Value::as_str);
        }
        if out.enumeration.is_none() {
            out.enumeration = map.get("enum").and_then(Value::as_array).map(Vec::as_slice);
            if out.enumeration.is_none() {
                out.enumeration = map.get("const").map(std::slice::from_ref);
            }
        }
        if out.description.is_none() {
            out.description = map
                .get("description")
                .or_else(|| map.get("title"))
                .and_then(Value::as_str)
                .filter(|d| !d.trim().is_empty());
        }
        if out.format.is_none() {
            out.format = map.get("format").and_then(Value::as_str);
        }
        out.read_only |= map.get("readOnly").and_then(Value::as_bool) == Some(true);
        out.composite |= ["oneOf", "anyOf", "not"].iter().any(|k| map.contains_key(*k));
        if let Some(properties) = map.get("properties").and_then(Value::as_object) {
            self.work.charge(properties.len())?;
            for (name, property) in properties {
                if known.insert(name.as_str()) {
                    out.properties.push((name.as_str(), property));
                }
            }
        }
        let required = map.get("required").and_then(Value::as_array);
        self.work.charge(required.map_or(0, Vec::len))?;
        for name in required.into_iter().flatten() {
            if let Some(name) = name.as_str() {
                out.required.insert(name);
            }
        }
        Ok(())
    }
}

/// What matters of a schema for declaring a variable or templating a body.
#[derive(Debug, Default, Clone)]
pub struct Schema<'a> {
    /// `type`s, with `null` for nullable ones.
    pub types: Vec<&'a str>,
    pub pattern: Option<&'a str>,
    pub enumeration: Option<&'a [Value]>,
    pub description: Option<&'a str>,
    pub format: Option<&'a str>,
    pub read_only: bool,
    /// `oneOf`, `anyOf` or `not`: the shape is one of several.
    pub composite: bool,
    /// Top-level properties, in document order, each schema as written (maybe a `$ref`).
    pub properties: Vec<(&'a str, &'a Value)>,
    pub required: BTreeSet<&'a str>,
}

impl<'a> Schema<'a> {
    fn add_type(&mut self, t: &'a str) {
        if !self.types.contains(&t) {
            self.types.push(t);
        }
    }

    pub fn is(&self, t: &str) -> bool {
        self.types.contains(&t)
    }

    /// An object whose properties can be templated one by one.
    pub fn is_object(&self) -> bool {
        self.is("object")
            || (self.types.iter().all(|t| *t == "null") && !self.properties.is_empty())
    }
}
