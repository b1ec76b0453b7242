//! `{variable}` templates over session variables. `{name}` is replaced by the variable `name`;
//! `{name|formatter}` formats it first (see `format`); `{{` and `}}` are literal braces. Where a
//! rendered value goes decides how it is encoded: see the connectors crate for URLs, headers and
//! JSON bodies. In text (replies), a list reads as a sentence in the visitor's language.

mod format;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{ValidationError, validate_variable_name};
use format::Format;

/// Session variables: typed JSON values by name.
pub type Variables = BTreeMap<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(String, Option<Format>),
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
                    let (name, format) = match rest[..end].split_once('|') {
                        Some((name, format)) => {
                            let format = Format::parse(format.trim()).ok_or_else(|| {
                                invalid(format!(
                                    "unknown formatter {:?} in {{{}}}: use {}",
                                    format.trim(),
                                    rest[..end].trim(),
                                    Format::NAMES
                                ))
                            })?;
                            (name.trim(), Some(format))
                        }
                        None => (rest[..end].trim(), None),
                    };
                    validate_variable_name(field.to_owned(), name)
                        .map_err(|err| invalid(err.message))?;
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Var(name.to_owned(), format));
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
            Piece::Var(name, _) => Some(name.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// The variable, when the whole template is exactly one placeholder without a formatter:
    /// its typed value may be copied as it is.
    pub fn sole_variable(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [Piece::Var(name, None)] => Some(name),
            _ => None,
        }
    }

    /// Renders with each value passed through `encode`; names without a value are added to
    /// `missing` and render as nothing. Lists stay JSON unless a formatter says otherwise (a URL
    /// or a body wants the data, not a sentence).
    pub fn render(
        &self,
        vars: &Variables,
        missing: &mut Vec<String>,
        encode: impl Fn(&str) -> String,
    ) -> String {
        self.render_as(vars, missing, encode, false)
    }

    fn render_as(
        &self,
        vars: &Variables,
        missing: &mut Vec<String>,
        encode: impl Fn(&str) -> String,
        as_text: bool,
    ) -> String {
        let language = vars.get("visitor.language").and_then(Value::as_str).unwrap_or("en");
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Var(name, format) => {
                    let value = vars.get(name);
                    let shown = match (format, value) {
                        // A count of nothing is 0, not a missing value.
                        (Some(Format::Count), None) => Some("0".to_owned()),
                        (Some(format), Some(value)) => format.apply(value, language),
                        (None, Some(value)) if as_text => format::natural(value, language),
                        (None, Some(value)) => value_text(value),
                        (_, None) => None,
                    };
                    match shown {
                        Some(value) => out.push_str(&encode(&value)),
                        None => {
                            if !missing.contains(name) {
                                missing.push(name.clone());
                            }
                        }
                    }
                }
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
    /// Renders as plain text (for replies and variables), lists as sentences in the visitor's
    /// language; missing values render as nothing.
    pub fn render_text(&self, vars: &Variables) -> (String, Vec<String>) {
        let mut missing = Vec::new();
        let text = self.render_as(vars, &mut missing, str::to_owned, true);
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

    #[test]
    fn formatters_and_lists_in_replies() {
        let vars = Variables::from([
            ("items".to_owned(), json!(["Brass desk lamp", "LED bulb E27"])),
            ("total".to_owned(), json!(1249.5)),
            ("eta".to_owned(), json!("2026-12-01")),
            ("visitor.language".to_owned(), json!("de")),
        ]);
        let reply =
            Template::parse("text", "{items} ({items|count}, {total|number} €), {eta|date}")
                .unwrap()
                .render_text(&vars);
        assert_eq!(reply.0, "Brass desk lamp und LED bulb E27 (2, 1.249,5 €), 1. Dezember 2026");
        let mut missing = Vec::new();
        let url =
            Template::parse("path", "/{items}").unwrap().render(&vars, &mut missing, str::to_owned);
        assert_eq!(url, r#"/["Brass desk lamp","LED bulb E27"]"#, "data stays data outside text");
        assert_eq!(Template::parse("t", "{none|count}").unwrap().render_text(&vars).0, "0");
        assert_eq!(Template::parse("t", "{items|first}").unwrap().sole_variable(), None);
        let refused = Template::parse("text", "{items|upper}").unwrap_err();
        assert!(refused.message.contains("list, count, first, number or date"), "{refused:?}");
    }
}
