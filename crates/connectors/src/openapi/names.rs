//! Names, patterns and descriptions made to fit what endpoints accept.

use serde_json::Value;

use super::refs::Schema;

/// Longest endpoint and variable name.
pub const MAX_NAME: usize = 64;
/// Longest endpoint description (as the endpoint validation counts it, in characters).
pub const MAX_DESCRIPTION: usize = 2000;
/// Longest variable description.
pub const MAX_VARIABLE_DESCRIPTION: usize = 1000;

/// Keeps the characters `keep` allows, turns runs of others into one `_`, trims `_` at both ends.
fn squash(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if keep(c) {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        while text.ends_with('_') {
            text.pop();
        }
    }
}

/// An endpoint name (1–64 letters, digits, `_`, `-`) from an `operationId`.
pub fn endpoint_name(operation_id: &str) -> Option<String> {
    let mut name = squash(operation_id, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    truncate(&mut name, MAX_NAME);
    (!name.is_empty()).then_some(name)
}

/// `get /pets/{petId}/photos` → `get_pets_petId_photos`.
pub fn name_from_path(method: &str, path: &str) -> String {
    let mut name = squash(&format!("{method}_{path}"), |c| c.is_ascii_alphanumeric());
    truncate(&mut name, MAX_NAME);
    name
}

/// `name`, or `name_2`, `name_3`… — the first that `taken` refuses, within 64 characters.
pub fn unique(name: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(name) {
        return name.to_owned();
    }
    (2..)
        .map(|n| {
            let suffix = format!("_{n}");
            let mut base = name.to_owned();
            truncate(&mut base, MAX_NAME - suffix.len());
            base + &suffix
        })
        .find(|candidate| !taken(candidate))
        .unwrap_or_else(|| name.to_owned())
}

/// A session variable name (letters, digits, `_`, starting with a letter or `_`) from a
/// parameter or property name: `X-Request-Id` → `X_Request_Id`, `page[size]` → `page_size`.
pub fn variable_name(raw: &str) -> String {
    let mut name = squash(raw, |c| c.is_ascii_alphanumeric());
    if name.is_empty() {
        name = "value".into();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    truncate(&mut name, MAX_NAME);
    name
}

/// `text` trimmed and cut to `max` characters (with an ellipsis when cut).
pub fn cap(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Escapes what the regex syntax treats as special.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A whole-value pattern (as endpoint variables use) for an ECMA-262 `pattern`, which matches
/// anywhere in the value unless anchored.
fn whole_value(pattern: &str) -> String {
    let anchored_start = pattern.starts_with('^');
    let body = pattern.strip_prefix('^').unwrap_or(pattern);
    let escaped_end = body.ends_with("\\$") && !body.ends_with("\\\\$");
    let anchored_end = body.ends_with('$') && !escaped_end;
    let body = if anchored_end { &body[..body.len() - 1] } else { body };
    let mut out = String::new();
    if !anchored_start {
        out.push_str("(?s:.*)");
    }
    out.push_str(&format!("(?:{body})"));
    if !anchored_end {
        out.push_str("(?s:.*)");
    }
    out
}

/// The pattern a variable gets from its schema: the enum's values, else the schema's pattern,
/// else one for its type (integers, numbers, booleans). A pattern the project's regex
/// validation refuses is dropped: `Err` tells why.
pub fn pattern(schema: &Schema<'_>) -> Result<Option<String>, String> {
    let candidate = if let Some(values) = schema.enumeration {
        let alternatives: Vec<String> = values
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(escape(s)),
                Value::Number(n) => Some(escape(&n.to_string())),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect();
        (!alternatives.is_empty()).then(|| alternatives.join("|"))
    } else if let Some(pattern) = schema.pattern {
        Some(whole_value(pattern))
    } else if schema.is("integer") {
        Some("-?[0-9]+".into())
    } else if schema.is("number") {
        Some(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?".into())
    } else if schema.is("boolean") {
        Some("true|false".into())
    } else {
        None
    };
    match candidate {
        Some(pattern) => match sb_domain::pattern::compile(&pattern) {
            Ok(_) => Ok(Some(pattern)),
            Err(why) => Err(why),
        },
        None => Ok(None),
    }
}
