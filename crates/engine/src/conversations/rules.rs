//! Managing rules, and the dry run that shows what rules would do with a message.

use sb_domain::{
    Action, Condition, MatchMode, Role, Rule, RuleDefinition, RuleId, Timestamp, Trigger,
    ValidationError, WidgetId, display_name,
};

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

/// The things a rule names, and the error code for each when the account has no such thing.
#[derive(Clone, Copy)]
enum Named {
    Widget,
    Endpoint,
    User,
    Team,
    Tool,
}

fn unknown(field: String, what: Named) -> EngineError {
    let (code, message) = match what {
        Named::Widget => ("unknown_widget", "no such widget in this account"),
        Named::Endpoint => ("unknown_endpoint", "no such endpoint in this account"),
        Named::User => ("unknown_user", "no such user in this account"),
        Named::Team => ("unknown_team", "no such team in this account"),
        Named::Tool => (
            "unknown_tool",
            "no such tool on this MCP connection of the account (read its tools first)",
        ),
    };
    ValidationError::new(field, code, message).into()
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
            return Err(unknown("widget_id".into(), Named::Widget));
        }
        let mut stack: Vec<(String, &Action)> = definition
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("actions[{i}]"), a))
            .collect();
        while let Some((at, action)) = stack.pop() {
            match action {
                Action::CallApi { arguments, on_error, .. }
                | Action::CallTool { arguments, on_error, .. } => {
                    let endpoint = match action {
                        Action::CallApi { endpoint_id, .. } => {
                            let Ok(endpoint) = self.connections.endpoint(tenant, endpoint_id).await
                            else {
                                return Err(unknown(format!("{at}.endpoint_id"), Named::Endpoint));
                            };
                            endpoint
                        }
                        Action::CallTool { connection_id, tool, response_mapping, .. } => {
                            let found =
                                self.connections.tool_endpoint(tenant, connection_id, tool).await;
                            let Ok(Some(endpoint)) = found else {
                                return Err(unknown(format!("{at}.tool"), Named::Tool));
                            };
                            crate::connections::response_mapping(response_mapping).map_err(
                                |mut err| {
                                    err.field = format!("{at}.{}", err.field).into();
                                    err
                                },
                            )?;
                            endpoint
                        }
                        _ => continue,
                    };
                    let inputs = endpoint.inputs();
                    if let Some(name) = arguments.keys().find(|name| !inputs.contains(name)) {
                        let known = if inputs.is_empty() {
                            "it takes none".to_owned()
                        } else {
                            format!("its inputs are {}", inputs.join(", "))
                        };
                        return Err(ValidationError::new(
                            format!("{at}.arguments.{name}"),
                            "unknown_input",
                            format!("{} has no input called {name}: {known}", endpoint.name),
                        )
                        .into());
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
                    return Err(unknown(format!("{at}.user_id"), Named::User));
                }
                Action::AssignToOperator { team_id: Some(team), .. }
                    if self.accounts.team(tenant, team).await.is_err() =>
                {
                    return Err(unknown(format!("{at}.team_id"), Named::Team));
                }
                Action::AddLabel { label } => {
                    let labels = self.store.labels.list_labels(tenant).await?;
                    if !labels.iter().any(|l| &l.name == label) {
                        let message =
                            format!("the account has no label “{label}”: create it first");
                        return Err(ValidationError::new(
                            format!("{at}.label"),
                            "unknown_label",
                            message,
                        )
                        .into());
                    }
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
}
