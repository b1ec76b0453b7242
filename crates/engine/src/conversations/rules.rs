//! Managing rules, and the dry run that shows what rules would do with a message.

use std::collections::BTreeSet;

use sb_domain::action::Approval;
use sb_domain::template::{Template, Variables};
use sb_domain::{
    Action, Condition, MatchMode, Role, Rule, RuleDefinition, RuleId, Timestamp, Trigger,
    ValidationError, WidgetId, display_name,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{Actor, ConversationsService, EngineError};

/// A rule as submitted; on update, absent fields keep their value.
#[derive(Debug, Default)]
pub struct RuleDraft {
    pub name: Option<String>,
    /// `Some(None)`: the rule applies to every widget.
    pub widget_id: Option<Option<WidgetId>>,
    pub priority: Option<i32>,
    pub enabled: Option<bool>,
    pub trigger: Option<Trigger>,
    pub conditions: Option<Vec<Condition>>,
    pub match_mode: Option<MatchMode>,
    pub actions: Option<Vec<Action>>,
    pub stop: Option<bool>,
    pub suppress_ai_reply: Option<bool>,
}

impl RuleDraft {
    /// Applies the behaviour fields to `definition`.
    fn merge_into(self, definition: &mut RuleDefinition) {
        if let Some(trigger) = self.trigger {
            definition.trigger = trigger;
        }
        if let Some(conditions) = self.conditions {
            definition.conditions = conditions;
        }
        definition.match_mode = self.match_mode.unwrap_or(definition.match_mode);
        if let Some(actions) = self.actions {
            definition.actions = actions;
        }
        definition.stop = self.stop.unwrap_or(definition.stop);
        definition.suppress_ai_reply =
            self.suppress_ai_reply.unwrap_or(definition.suppress_ai_reply);
    }
}

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

fn unknown(field: String, what: &str) -> EngineError {
    ValidationError::new(
        field,
        format!("unknown_{what}").leak(),
        format!("no such {what} in this account"),
    )
    .into()
}

impl ConversationsService {
    /// Every id a rule mentions must name one of the tenant's own objects.
    async fn check_references(
        &self,
        actor: &Actor,
        widget: Option<&WidgetId>,
        definition: &RuleDefinition,
    ) -> Result<(), EngineError> {
        let tenant = &actor.tenant_id;
        if let Some(widget) = widget
            && self.store.widgets.get_widget(tenant, widget).await.is_err()
        {
            return Err(unknown("widget_id".into(), "widget"));
        }
        let mut stack: Vec<(String, &Action)> = definition
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("actions[{i}]"), a))
            .collect();
        while let Some((at, action)) = stack.pop() {
            match action {
                Action::CallApi { endpoint_id, on_error } => {
                    if self.connections.endpoint(tenant, endpoint_id).await.is_err() {
                        return Err(unknown(format!("{at}.endpoint_id"), "endpoint"));
                    }
                    stack.extend(
                        on_error
                            .iter()
                            .enumerate()
                            .map(|(i, a)| (format!("{at}.on_error[{i}]"), a)),
                    );
                }
                Action::AssignToOperator { user_id: Some(user), .. }
                    if self.accounts.user(tenant, user).await.is_err() =>
                {
                    return Err(unknown(format!("{at}.user_id"), "user"));
                }
                Action::AssignToOperator { team_id: Some(team), .. }
                    if self.accounts.team(tenant, team).await.is_err() =>
                {
                    return Err(unknown(format!("{at}.team_id"), "team"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub async fn create_rule(&self, actor: &Actor, draft: RuleDraft) -> Result<Rule, EngineError> {
        actor.require(Role::Admin)?;
        let missing = |field: &'static str| {
            ValidationError::new(field, "missing_field", format!("missing field `{field}`"))
        };
        let name = draft.name.clone().ok_or_else(|| missing("name"))?;
        let trigger = draft.trigger.clone().ok_or_else(|| missing("trigger"))?;
        let actions = draft.actions.clone().ok_or_else(|| missing("actions"))?;
        let now = Timestamp::now();
        let mut rule = Rule {
            id: RuleId::new(),
            tenant_id: actor.tenant_id.clone(),
            name: display_name(&name, "name", 100)?,
            widget_id: draft.widget_id.clone().flatten(),
            priority: draft.priority.unwrap_or(100),
            enabled: draft.enabled.unwrap_or(true),
            definition: RuleDefinition {
                trigger,
                conditions: Vec::new(),
                match_mode: MatchMode::All,
                actions,
                stop: false,
                suppress_ai_reply: false,
            },
            created_at: now,
            updated_at: now,
        };
        draft.merge_into(&mut rule.definition);
        sb_rules::validate_definition(&rule.definition)?;
        self.check_references(actor, rule.widget_id.as_ref(), &rule.definition).await?;
        self.store.rules.create_rule(&rule).await?;
        Ok(rule)
    }

    pub async fn update_rule(
        &self,
        actor: &Actor,
        id: &RuleId,
        draft: RuleDraft,
    ) -> Result<Rule, EngineError> {
        actor.require(Role::Admin)?;
        let mut rule = self.store.rules.get_rule(&actor.tenant_id, id).await?;
        if let Some(name) = &draft.name {
            rule.name = display_name(name, "name", 100)?;
        }
        if let Some(widget) = draft.widget_id.clone() {
            rule.widget_id = widget;
        }
        rule.priority = draft.priority.unwrap_or(rule.priority);
        rule.enabled = draft.enabled.unwrap_or(rule.enabled);
        draft.merge_into(&mut rule.definition);
        sb_rules::validate_definition(&rule.definition)?;
        self.check_references(actor, rule.widget_id.as_ref(), &rule.definition).await?;
        rule.updated_at = Timestamp::now();
        self.store.rules.update_rule(&rule).await?;
        Ok(rule)
    }

    pub async fn get_rule(&self, actor: &Actor, id: &RuleId) -> Result<Rule, EngineError> {
        Ok(self.store.rules.get_rule(&actor.tenant_id, id).await?)
    }

    pub async fn list_rules(&self, actor: &Actor) -> Result<Vec<Rule>, EngineError> {
        Ok(self.store.rules.list_rules(&actor.tenant_id).await?)
    }

    pub async fn delete_rule(&self, actor: &Actor, id: &RuleId) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.rules.delete_rule(&actor.tenant_id, id).await?)
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
            Action::CallApi { endpoint_id, .. } => {
                if let Ok(endpoint) = self.connections.endpoint(&actor.tenant_id, endpoint_id).await
                {
                    shown["endpoint"] = json!(endpoint.name);
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

/// Who is asked before a call under `approval`, in the dry run's words.
fn asked(approval: Approval) -> &'static str {
    match approval {
        Approval::Operator => "a person of the team",
        Approval::VisitorAndOperator => "the visitor and a person of the team",
        _ => "the visitor",
    }
}
