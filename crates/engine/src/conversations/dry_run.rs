//! The dry run: which rules would fire for a message and what they would do, without calling,
//! replying or saving anything.

use std::collections::BTreeSet;

use sb_domain::action::Approval;
use sb_domain::template::{Template, Variables};
use sb_domain::{Action, Role, RuleId, WidgetId};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{Actor, ConversationsService, EngineError};

/// A rule that would fire.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FiredRule {
    pub rule_id: RuleId,
    pub name: String,
    /// What each action would do: values extracted, the request an API call would make, the
    /// text a reply would send.
    pub actions: Vec<Value>,
}

/// What the rules would do with a message, without doing it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DryRun {
    pub fired: Vec<FiredRule>,
    /// The session variables afterwards.
    pub variables: Variables,
    /// The rule that ended the walk, if one did.
    pub stopped_by: Option<RuleId>,
}

impl ConversationsService {
    /// The endpoint a `CALL_API` or `CALL_TOOL` would call (if it exists), and its arguments.
    async fn called<'a>(
        &self,
        tenant: &sb_domain::TenantId,
        action: &'a Action,
    ) -> Option<(sb_domain::Endpoint, &'a std::collections::BTreeMap<String, sb_domain::Argument>)>
    {
        match action {
            Action::CallApi { endpoint_id, arguments, .. } => {
                Some((self.connections.endpoint(tenant, endpoint_id).await.ok()?, arguments))
            }
            Action::CallTool { connection_id, tool, arguments, .. } => {
                let found = self.connections.tool_endpoint(tenant, connection_id, tool).await;
                Some((found.ok()??, arguments))
            }
            _ => None,
        }
    }

    /// Which rules would fire for `message` and what they would do — without calling anything,
    /// replying or saving. Variable-setting actions are simulated so later rules see them.
    /// Admins only: the preview shows the rendered requests of connections operators may not
    /// read.
    pub async fn dry_run(
        &self,
        actor: &Actor,
        widget: &WidgetId,
        message: &str,
        mut variables: Variables,
    ) -> Result<DryRun, EngineError> {
        actor.require(Role::Admin)?;
        let tenant = &actor.tenant_id;
        let widget = self.store.widgets.get_widget(tenant, widget).await?.widget;
        let config = self.config(tenant).await?;
        let rules = self.cached_rules(&config, tenant, &widget.id).await?;
        variables.insert("message.text".into(), json!(message));
        variables.insert("widget.id".into(), json!(widget.id));
        variables.insert("widget.name".into(), json!(widget.name));
        let first_message =
            !variables.contains_key(crate::conversations::VISITOR_MESSAGES_VARIABLE);
        let (mut changed, intents) = (BTreeSet::new(), BTreeSet::new());
        let mut result =
            DryRun { fired: Vec::new(), variables: Variables::new(), stopped_by: None };
        let prepared = sb_rules::MessageText::new(message);
        for rule in rules.iter() {
            let situation = sb_rules::Situation {
                text: message,
                prepared: &prepared,
                first_message,
                variables: &variables,
                changed: &changed,
                intents: &intents,
                operator_online: true,
            };
            if !sb_rules::fires(rule, &situation) {
                continue;
            }
            let mut actions = Vec::new();
            let mut hands_over = false;
            for action in &rule.definition.actions {
                actions
                    .push(self.preview(actor, action, message, &mut variables, &mut changed).await);
                hands_over |= matches!(action, Action::AssignToOperator { .. });
            }
            result.fired.push(FiredRule {
                rule_id: rule.id.clone(),
                name: rule.name.clone(),
                actions,
            });
            if hands_over || rule.definition.stop {
                result.stopped_by = Some(rule.id.clone());
                break;
            }
        }
        result.variables = variables;
        Ok(result)
    }

    async fn preview(
        &self,
        actor: &Actor,
        action: &Action,
        message: &str,
        vars: &mut Variables,
        changed: &mut BTreeSet<String>,
    ) -> Value {
        let mut shown = serde_json::to_value(action).unwrap_or(Value::Null);
        match action {
            Action::SetVariable { name, value, from_regex, .. } => {
                let found = match (value, from_regex) {
                    (Some(Value::String(text)), _) => {
                        Template::parse("value", text).ok().map(|t| json!(t.render_text(vars).0))
                    }
                    (Some(literal), _) => Some(literal.clone()),
                    (_, Some(from)) => sb_rules::capture(from, message).map(Value::String),
                    _ => None,
                };
                shown["result"] =
                    found.clone().unwrap_or(json!("not set (needs AI or nothing matched)"));
                if let Some(value) = found {
                    changed.insert(name.clone());
                    vars.insert(name.clone(), value);
                }
            }
            Action::CallApi { .. } | Action::CallTool { .. } => {
                if let Some((endpoint, arguments)) = self.called(&actor.tenant_id, action).await {
                    shown["endpoint"] = json!(endpoint.name);
                    if let Some(stop) =
                        preview_inputs(arguments, message, vars, changed, &mut shown)
                    {
                        shown["would_send"] = json!(false);
                        shown["request"] = json!({"method": endpoint.request.method.as_str(), "path": endpoint.request.path});
                        shown[stop.0] = stop.1;
                        return shown;
                    }
                    match self.render_request(actor, &endpoint, vars).await {
                        Ok(request) if endpoint.approval != Approval::None => {
                            // Nothing would be sent yet: the visitor (or a person) is asked.
                            let summary = super::action_proposal::summary(&endpoint, vars);
                            shown["request"] = json!(request);
                            shown["would_send"] = json!(false);
                            shown["would_ask"] = json!({
                                "approval": endpoint.approval,
                                "summary": summary,
                                "text": format!("would ask {} to confirm: {summary}", asked(endpoint.approval)),
                            });
                        }
                        Ok(request) => {
                            shown["request"] = json!(request);
                            shown["would_send"] = json!(true);
                        }
                        Err(error) => {
                            shown["request"] = json!({"method": endpoint.request.method.as_str(), "path": endpoint.request.path});
                            shown["would_send"] = json!(false);
                            shown["error"] = json!(error);
                        }
                    }
                }
            }
            Action::ReplyText { text } => {
                shown["preview"] = json!(
                    Template::parse("text", text)
                        .map(|t| t.render_text(vars).0)
                        .unwrap_or_default()
                );
            }
            _ => {}
        }
        shown
    }

    /// The request a call would send with `vars`, rendered (credentials as `***`), not sent.
    async fn render_request(
        &self,
        actor: &Actor,
        endpoint: &sb_domain::Endpoint,
        vars: &Variables,
    ) -> Result<sb_connectors::RequestLine, sb_connectors::CallError> {
        let unavailable = |err: String| sb_connectors::CallError::new("connection_not_found", err);
        let stored = self
            .connections
            .connection(&actor.tenant_id, &endpoint.connection_id)
            .await
            .map_err(|err| unavailable(err.to_string()))?;
        let secrets =
            self.connections.open_secrets(&stored).map_err(|err| unavailable(err.to_string()))?;
        let target =
            sb_connectors::CallTarget { connection: &stored.connection, secrets: &secrets };
        sb_connectors::would_send(target, endpoint, vars)
    }
}

/// Fills a call's inputs as the run would, showing each (`inputs`); when one is missing, what
/// the run would do instead: `("would_ask_for", …)` or `("error", …)`.
fn preview_inputs(
    arguments: &std::collections::BTreeMap<String, sb_domain::Argument>,
    message: &str,
    vars: &mut Variables,
    changed: &mut BTreeSet<String>,
    shown: &mut Value,
) -> Option<(&'static str, Value)> {
    use super::arguments::{Filled, fill};
    let mut inputs = serde_json::Map::new();
    for (name, argument) in arguments {
        match fill(name, argument, message, vars) {
            Filled::Found(value) => {
                inputs.insert(name.clone(), json!({"value": value, "from": "found"}));
                changed.insert(name.clone());
                vars.insert(name.clone(), value);
            }
            Filled::Reused(value) => {
                inputs.insert(name.clone(), json!({"value": value, "from": "earlier"}));
            }
            Filled::Ask(question) => {
                shown["inputs"] = Value::Object(inputs);
                let text =
                    format!("would ask the visitor \"{question}\" and go on with the answer");
                return Some((
                    "would_ask_for",
                    json!({"input": name, "question": question, "text": text}),
                ));
            }
            Filled::Missing(why) => {
                shown["inputs"] = Value::Object(inputs);
                return Some(("error", json!({"code": "missing_input", "message": why})));
            }
        }
    }
    if !inputs.is_empty() {
        shown["inputs"] = Value::Object(inputs);
    }
    None
}

/// Who is asked before a call under `approval`, in the dry run's words.
fn asked(approval: Approval) -> &'static str {
    match approval {
        Approval::Operator => "a person of the team",
        Approval::VisitorAndOperator => "the visitor and a person of the team",
        _ => "the visitor",
    }
}
