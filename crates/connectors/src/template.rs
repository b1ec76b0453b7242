//! `{variable}` templates and how their values are encoded for each place they go.
//!
//! `{name}` is replaced by the session variable `name`; `{{` and `}}` are literal braces. A value
//! can never change the shape of the request: in a path it is percent-encoded as one segment
//! (`/` and `..` stay data), in a query it is form-encoded, in a header it may not contain line
//! breaks, and in a JSON body it is a JSON value or part of a JSON string — never raw JSON text.

use std::collections::BTreeMap;

use sb_domain::{ValidationError, validate_variable_name};
use serde_json::Value;

use crate::CallError;

/// Session variables: typed JSON values by name.
pub type Variables = BTreeMap<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `text`, reporting syntax errors against `field`.
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
        let invalid =
            |message: String| ValidationError::new(field.to_owned(), "invalid_template", message);
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &text[at + 1..];
                    let end = rest.find('}').ok_or_else(|| {
                        invalid(format!(
                            "unclosed {{ at character {at}; write {{{{ for a literal brace"
                        ))
                    })?;
                    let name = rest[..end].trim();
                    validate_variable_name(field.to_owned(), name)
                        .map_err(|err| invalid(err.message))?;
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Var(name.to_owned()));
                    for _ in 0..=rest[..end].chars().count() {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(invalid(format!(
                        "unmatched }} at character {at}; write }}}} for a literal brace"
                    )));
                }
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Self { pieces })
    }

    /// The variables this template uses, in order of appearance.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var(name) => Some(name.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// The variable, when the whole template is exactly one placeholder.
    fn sole_variable(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [Piece::Var(name)] => Some(name),
            _ => None,
        }
    }

    fn render(
        &self,
        vars: &Variables,
        missing: &mut Vec<String>,
        encode: impl Fn(&str) -> String,
    ) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Var(name) => match vars.get(name).and_then(value_text) {
                    Some(value) => out.push_str(&encode(&value)),
                    None => {
                        if !missing.contains(name) {
                            missing.push(name.clone());
                        }
                    }
                },
            }
        }
        out
    }
}

/// The text form of a variable: strings as they are, numbers and booleans printed, objects and
/// arrays as JSON. `null` counts as missing.
pub fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        Value::Array(_) | Value::Object(_) => Some(value.to_string()),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters: the value stays one segment.
fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn missing_error(missing: Vec<String>) -> CallError {
    CallError::new("missing_variable", format!("no value for {}", missing.join(", ")))
}

/// Renders a path template. Every value is one percent-encoded segment (dots included), and a
/// path whose segments would still be `.` or `..` is refused.
pub fn render_path(template: &Template, vars: &Variables) -> Result<String, CallError> {
    // An empty value would silently address the collection instead of an item.
    if let Some(name) = template
        .variables()
        .find(|name| vars.get(*name).and_then(value_text).is_some_and(|v| v.is_empty()))
    {
        return Err(CallError::new(
            "invalid_variable",
            format!("{name} is empty but is part of the path"),
        ));
    }
    let mut missing = Vec::new();
    let path = template.render(vars, &mut missing, encode_segment);
    if !missing.is_empty() {
        return Err(missing_error(missing));
    }
    let traverses = path.split('/').any(|segment| {
        let decoded = segment.replace("%2E", ".").replace("%2e", ".");
        decoded == "." || decoded == ".."
    });
    if traverses {
        return Err(CallError::new(
            "invalid_variable",
            "a value would turn into a \".\" or \"..\" path segment",
        ));
    }
    Ok(path)
}

/// Renders query parameters. A parameter that is exactly one placeholder of a variable without
/// a value is left out when the variable is optional.
pub fn render_query(
    templates: &[(String, Template)],
    vars: &Variables,
    optional: &dyn Fn(&str) -> bool,
) -> Result<Vec<(String, String)>, CallError> {
    let mut missing = Vec::new();
    let mut pairs = Vec::new();
    for (name, template) in templates {
        if let Some(var) = template.sole_variable()
            && vars.get(var).and_then(value_text).is_none()
            && optional(var)
        {
            continue;
        }
        // Form encoding happens when the pairs are put on the URL.
        pairs.push((name.clone(), template.render(vars, &mut missing, str::to_owned)));
    }
    if missing.is_empty() { Ok(pairs) } else { Err(missing_error(missing)) }
}

/// Renders header values, refusing control characters (CR, LF, NUL, …) that could split headers.
pub fn render_headers(
    templates: &[(String, Template)],
    vars: &Variables,
) -> Result<Vec<(String, String)>, CallError> {
    let mut missing = Vec::new();
    let mut headers = Vec::new();
    for (name, template) in templates {
        let value = template.render(vars, &mut missing, str::to_owned);
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(CallError::new(
                "invalid_variable",
                format!("the value for header {name} contains a line break or control character"),
            ));
        }
        headers.push((name.clone(), value));
    }
    if missing.is_empty() { Ok(headers) } else { Err(missing_error(missing)) }
}

/// Checks every string in a JSON body template; returns the first syntax error.
pub fn parse_body(field: &str, body: &Value) -> Result<(), ValidationError> {
    match body {
        Value::String(text) => Template::parse(field, text).map(drop),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| parse_body(&format!("{field}[{i}]"), item)),
        Value::Object(map) => {
            map.iter().try_for_each(|(key, item)| parse_body(&format!("{field}.{key}"), item))
        }
        _ => Ok(()),
    }
}

/// Renders a JSON body: a string that is exactly `"{name}"` becomes the variable's JSON value
/// (a number stays a number); other strings get values spliced in as text. Keys are literal.
pub fn render_body(
    body: &Value,
    vars: &Variables,
    optional: &dyn Fn(&str) -> bool,
) -> Result<Value, CallError> {
    let mut missing = Vec::new();
    let rendered = render_value(body, vars, optional, &mut missing);
    if missing.is_empty() { Ok(rendered) } else { Err(missing_error(missing)) }
}

fn render_value(
    value: &Value,
    vars: &Variables,
    optional: &dyn Fn(&str) -> bool,
    missing: &mut Vec<String>,
) -> Value {
    match value {
        Value::String(text) => {
            // Syntax was checked when the endpoint was saved; a bad string is sent as written.
            let Ok(template) = Template::parse("body", text) else { return value.clone() };
            if let Some(var) = template.sole_variable() {
                return match vars.get(var).filter(|v| !v.is_null()) {
                    Some(found) => found.clone(),
                    None => {
                        if !optional(var) && !missing.iter().any(|m| m == var) {
                            missing.push(var.to_owned());
                        }
                        Value::Null
                    }
                };
            }
            Value::String(template.render(vars, missing, str::to_owned))
        }
        Value::Array(items) => Value::Array(
            items.iter().map(|item| render_value(item, vars, optional, missing)).collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), render_value(v, vars, optional, missing)))
                .collect(),
        ),
        other => other.clone(),
    }
}
