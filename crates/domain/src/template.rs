//! `{variable}` templates over session variables. `{name}` is replaced by the variable `name`;
//! `{{` and `}}` are literal braces. Where a rendered value goes decides how it is encoded: see
//! the connectors crate for URLs, headers and JSON bodies.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{ValidationError, validate_variable_name};

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
    pub fn sole_variable(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [Piece::Var(name)] => Some(name),
            _ => None,
        }
    }

    /// Renders with each value passed through `encode`; names without a value are added to
    /// `missing` and render as nothing.
    pub fn render(
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

impl Template {
    /// Renders as plain text (for replies and variables); missing values render as nothing.
    pub fn render_text(&self, vars: &Variables) -> (String, Vec<String>) {
        let mut missing = Vec::new();
        let text = self.render(vars, &mut missing, str::to_owned);
        (text, missing)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_rendering_reports_what_was_missing() {
        let t = Template::parse("text", "Order {order.id} is {status}{{!}}").unwrap();
        let vars = Variables::from([
            ("order.id".to_owned(), json!(4521)),
            ("status".to_owned(), json!("shipped")),
        ]);
        assert_eq!(t.render_text(&vars), ("Order 4521 is shipped{!}".to_owned(), vec![]));
        assert_eq!(
            t.render_text(&Variables::new()).1,
            vec!["order.id".to_owned(), "status".to_owned()]
        );
        assert_eq!(t.variables().collect::<Vec<_>>(), ["order.id", "status"]);
    }
}
