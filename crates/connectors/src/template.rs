//! `{variable}` templates and how their values are encoded for each place they go.
//!
//! `{name}` is replaced by the session variable `name`; `{{` and `}}` are literal braces. A value
//! can never change the shape of the request: in a path it is percent-encoded as one segment
//! (`/` and `..` stay data), in a query it is form-encoded, in a header it may not contain line
//! breaks, and in a JSON body it is a JSON value or part of a JSON string — never raw JSON text.

use sb_domain::ValidationError;
pub use sb_domain::template::{Template, Variables, value_text};
use serde_json::Value;

use crate::CallError;

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
