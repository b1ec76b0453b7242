//! A `CALL_API`'s inputs: each filled from a template or from what a pattern captures in the
//! message being answered. A lookup never goes out with a value the visitor did not just give
//! unless the rule allows it: an input the message lacks is asked for (the rule goes on with the
//! answer, see `questions`), reused only where the owner said it may be, or the call fails.

use std::collections::BTreeMap;

use sb_connectors::CallError;
use sb_domain::template::{Template, Variables};
use sb_domain::{Action, Argument};
use serde_json::{Value, json};

use super::process::Run;
use super::questions::Question;
use crate::ConversationsService;

/// What became of one input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filled {
    /// Found in the message or rendered from the session.
    Found(Value),
    /// The message holds none; the conversation's earlier value stands (`reuse`).
    Reused(Value),
    /// Nothing found: the visitor is asked this (rendered) question.
    Ask(String),
    /// Nothing found and nothing to ask.
    Missing(String),
}

/// Fills the input `name` for a message with text `message`, the session being `vars`.
pub(crate) fn fill(name: &str, argument: &Argument, message: &str, vars: &Variables) -> Filled {
    let input = argument.input();
    let found = match (&input.value, &input.from_message) {
        (Some(text), _) => render_complete(text, vars),
        (None, Some(from)) => sb_rules::capture(from, message).map(Value::String),
        (None, None) => None,
    };
    if let Some(value) = found {
        return Filled::Found(value);
    }
    if input.reuse
        && let Some(earlier) = vars.get(name)
    {
        return Filled::Reused(earlier.clone());
    }
    if let Some(ask) = &input.ask {
        let question = Template::parse("ask", ask)
            .map(|t| t.render_text(vars).0)
            .unwrap_or_else(|_| ask.clone());
        return Filled::Ask(question);
    }
    let why = if input.from_message.is_some() {
        format!("the message holds no {name}")
    } else {
        format!("{name} has no value yet")
    };
    Filled::Missing(why)
}

/// A template rendered only when every variable it names has a value; one that is exactly a
/// single `{variable}` keeps that variable's JSON value (a number stays a number).
fn render_complete(text: &str, vars: &Variables) -> Option<Value> {
    let Ok(template) = Template::parse("value", text) else {
        return Some(Value::String(text.to_owned()));
    };
    if let Some(value) = template.sole_variable().and_then(|name| vars.get(name)) {
        return Some(value.clone());
    }
    let (rendered, missing) = template.render_text(vars);
    missing.is_empty().then_some(Value::String(rendered))
}

/// Whether a call may go ahead once its inputs are filled.
pub(crate) enum Inputs {
    Ready,
    /// The visitor was asked; the rule waits for the answer.
    Asked,
    Missing(CallError),
}

impl ConversationsService {
    /// Fills the inputs of the `CALL_API` at `rest[0]` into the session. When one is missing
    /// and has a question, asks it and remembers `rest` to run with the answer.
    pub(crate) async fn fill_arguments(
        &self,
        run: &mut Run<'_>,
        arguments: &BTreeMap<String, Argument>,
        rest: &[Action],
    ) -> Inputs {
        for (name, argument) in arguments {
            match fill(name, argument, &run.message.text, &run.vars) {
                Filled::Found(value) => self.set_variable(run, name, value, "input").await,
                Filled::Reused(value) => {
                    let data = json!({"name": name, "value": super::trace::shorten(&value)});
                    self.note(run, "input_reused", data).await;
                }
                Filled::Ask(question) => {
                    self.note(run, "input_asked", json!({"name": name, "question": question}))
                        .await;
                    let asked = Question {
                        rule_id: run.rule.clone(),
                        input: name.clone(),
                        then: rest.to_vec(),
                    };
                    self.ask(run, asked, &question).await;
                    return Inputs::Asked;
                }
                Filled::Missing(why) => {
                    self.note(run, "input_missing", json!({"name": name, "reason": why})).await;
                    let message = format!("{why}; the call was not made");
                    return Inputs::Missing(CallError::new("missing_input", message));
                }
            }
        }
        Inputs::Ready
    }
}

#[cfg(test)]
mod tests {
    use sb_domain::{ArgumentInput, FromRegex};

    use super::*;

    fn order_number(ask: Option<&str>, reuse: bool) -> Argument {
        Argument::Input(ArgumentInput {
            from_message: Some(FromRegex {
                pattern: r"#?(\d{4,})".into(),
                group: None,
                flags: None,
            }),
            ask: ask.map(str::to_owned),
            reuse,
            ..ArgumentInput::default()
        })
    }

    fn earlier() -> Variables {
        Variables::from([("orderId".to_owned(), json!("4521"))])
    }

    #[test]
    fn a_message_without_the_value_never_reuses_an_older_one_unless_allowed() {
        let strict = order_number(None, false);
        let text = "and where is the other one?";
        assert_eq!(
            fill("orderId", &strict, "order #7788", &earlier()),
            Filled::Found(json!("7788"))
        );
        assert!(matches!(fill("orderId", &strict, text, &earlier()), Filled::Missing(_)));
        let asking = order_number(Some("Which order number?"), false);
        assert_eq!(
            fill("orderId", &asking, text, &earlier()),
            Filled::Ask("Which order number?".into())
        );
        let reusing = order_number(Some("Which order number?"), true);
        assert_eq!(fill("orderId", &reusing, text, &earlier()), Filled::Reused(json!("4521")));
        assert_eq!(
            fill("orderId", &reusing, text, &Variables::new()),
            Filled::Ask("Which order number?".into())
        );
    }

    #[test]
    fn templates_fill_only_when_every_variable_has_a_value() {
        let vars = Variables::from([("n".to_owned(), json!(42))]);
        let sole = Argument::Template("{n}".into());
        assert_eq!(fill("x", &sole, "", &vars), Filled::Found(json!(42)));
        let prefixed = Argument::Template("ORD-{n}".into());
        assert_eq!(fill("x", &prefixed, "", &vars), Filled::Found(json!("ORD-42")));
        let unknown = Argument::Template("ORD-{m}".into());
        assert!(matches!(fill("x", &unknown, "", &vars), Filled::Missing(_)));
    }
}
