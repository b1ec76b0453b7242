use sb_domain::{
    Action, Argument, Condition, Op, RuleDefinition, Trigger, ValidationError, is_built_in,
    validate_variable_name,
};

use crate::triggers::regex_for;

fn pattern(field: String, pattern: &str, flags: Option<&str>) -> Result<(), ValidationError> {
    regex_for(pattern, flags)
        .map(drop)
        .map_err(|why| ValidationError::new(field, "invalid_pattern", why))
}

fn template(field: String, text: &str) -> Result<(), ValidationError> {
    sb_domain::template::Template::parse(&field, text).map(drop)
}

fn actions(prefix: &str, list: &[Action], depth: usize) -> Result<(), ValidationError> {
    if list.is_empty() && depth == 0 {
        return Err(ValidationError::new(
            prefix.to_owned(),
            "required",
            "a rule needs at least one action",
        ));
    }
    for (i, action) in list.iter().enumerate() {
        let at = format!("{prefix}[{i}]");
        match action {
            Action::SetVariable { name, value, from_regex, from_ai } => {
                validate_variable_name(format!("{at}.name"), name)?;
                if is_built_in(name) {
                    return Err(ValidationError::new(
                        format!("{at}.name"),
                        "read_only_variable",
                        format!("{name} is set by Switchboard and cannot be changed by rules"),
                    ));
                }
                let sources = [value.is_some(), from_regex.is_some(), from_ai.is_some()]
                    .iter()
                    .filter(|s| **s)
                    .count();
                if sources != 1 {
                    return Err(ValidationError::new(
                        at,
                        "invalid_action",
                        "SET_VARIABLE needs exactly one of value, from_regex, from_ai",
                    ));
                }
                if let Some(serde_json::Value::String(text)) = value {
                    template(format!("{at}.value"), text)?;
                }
                if let Some(from) = from_regex {
                    pattern(
                        format!("{at}.from_regex.pattern"),
                        &from.pattern,
                        from.flags.as_deref(),
                    )?;
                }
            }
            Action::CallApi { arguments, on_error, .. }
            | Action::CallTool { arguments, on_error, .. } => {
                for (name, argument) in arguments {
                    self::argument(&format!("{at}.arguments.{name}"), name, argument)?;
                }
                if depth >= 2 {
                    return Err(ValidationError::new(
                        format!("{at}.on_error"),
                        "too_deep",
                        "on_error actions can nest two levels deep",
                    ));
                }
                actions(&format!("{at}.on_error"), on_error, depth + 1)?;
            }
            Action::ReplyText { text } => template(format!("{at}.text"), text)?,
            Action::ReplyAi { fallback: Some(text), .. }
            | Action::ReplyKb { fallback: Some(text) } => template(format!("{at}.fallback"), text)?,
            Action::ReplyAi { .. } | Action::ReplyKb { .. } => {}
            Action::AssignToOperator { user_id, team_id, .. } => {
                if user_id.is_some() && team_id.is_some() {
                    return Err(ValidationError::new(
                        at,
                        "invalid_action",
                        "assign to a user or to a team, not both",
                    ));
                }
            }
            Action::AddLabel { label } => {
                let field = format!("{at}.label");
                if sb_domain::label_name(label, field.clone())? != *label {
                    let message =
                        format!("write the label as it is named: {}", label.trim().to_lowercase());
                    return Err(ValidationError::new(field, "invalid_label", message));
                }
            }
        }
    }
    Ok(())
}

/// One input of a `CALL_API`: a writable variable name, exactly one source, and a question only
/// where the answer can be read (with the message pattern).
fn argument(at: &str, name: &str, argument: &Argument) -> Result<(), ValidationError> {
    validate_variable_name(at.to_owned(), name)?;
    if is_built_in(name) {
        return Err(ValidationError::new(
            at.to_owned(),
            "read_only_variable",
            format!("{name} is set by Switchboard; an endpoint input needs a name of its own"),
        ));
    }
    let input = argument.input();
    match (&input.value, &input.from_message) {
        (Some(text), None) => template(format!("{at}.value"), text)?,
        (None, Some(from)) => {
            pattern(format!("{at}.from_message.pattern"), &from.pattern, from.flags.as_deref())?
        }
        _ => {
            return Err(ValidationError::new(
                at.to_owned(),
                "invalid_argument",
                "fill an input from a template (value) or from the message (from_message), one of the two",
            ));
        }
    }
    if let Some(ask) = &input.ask {
        if input.from_message.is_none() {
            return Err(ValidationError::new(
                format!("{at}.ask"),
                "invalid_argument",
                "a question needs from_message: the visitor's answer is read with that pattern",
            ));
        }
        if ask.trim().is_empty() {
            return Err(ValidationError::new(
                format!("{at}.ask"),
                "required",
                "write the question, e.g. \"Which order number?\", or leave ask out",
            ));
        }
        template(format!("{at}.ask"), ask)?;
    }
    Ok(())
}

/// Checks what can be checked without the database: patterns compile (with size limits),
/// templates parse, variable names are valid and writable. References to endpoints, users,
/// teams and widgets are checked by the engine against the tenant's own objects.
pub fn validate_definition(definition: &RuleDefinition) -> Result<(), ValidationError> {
    match &definition.trigger {
        Trigger::Keywords { any } if any.iter().all(|k| k.trim().is_empty()) => {
            return Err(ValidationError::new(
                "trigger.any",
                "required",
                "list at least one keyword",
            ));
        }
        Trigger::Regex { pattern: p, flags } => {
            pattern("trigger.pattern".into(), p, flags.as_deref())?
        }
        Trigger::Intent { description } if description.trim().is_empty() => {
            return Err(ValidationError::new(
                "trigger.description",
                "required",
                "describe the intent in plain words",
            ));
        }
        Trigger::Variable { name } => validate_variable_name("trigger.name", name)?,
        _ => {}
    }
    for (i, condition) in definition.conditions.iter().enumerate() {
        if let Condition::Variable { variable, op, value } = condition {
            validate_variable_name(format!("conditions[{i}].variable"), variable)?;
            let needs_value = !matches!(op, Op::Set | Op::Unset);
            if needs_value && value.is_none() {
                return Err(ValidationError::new(
                    format!("conditions[{i}].value"),
                    "missing_field",
                    "this operator compares with a value",
                ));
            }
            if *op == Op::In && !value.as_ref().is_some_and(|v| v.is_array()) {
                return Err(ValidationError::new(
                    format!("conditions[{i}].value"),
                    "invalid_field",
                    "\"in\" needs a list of values",
                ));
            }
            if let (Op::Matches, Some(v)) = (op, value) {
                pattern(format!("conditions[{i}].value"), v.as_str().unwrap_or_default(), None)?;
            }
        }
    }
    actions("actions", &definition.actions, 0)
}
