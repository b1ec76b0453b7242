//! Running a rule's actions against one message.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use sb_connectors::{CallError, CallSink, CallTarget};
use sb_domain::action::{Approval, ProposedBy};
use sb_domain::analytics::ReplySource;
use sb_domain::template::Template;
use sb_domain::{Action, Author, EndpointId, MAX_VARIABLE_BYTES, MAX_VARIABLES_BYTES};
use serde_json::{Value, json};

use super::action_proposal::Continuation;
use super::arguments::Inputs;
use super::process::Run;
use super::routing::AssignTarget;
use super::trace::{TraceSink, entry, shorten};
use crate::{ConversationsService, EngineError};

type Step<'a> = Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send + 'a>>;

/// What became of a `CALL_API`.
#[derive(Debug, PartialEq)]
pub(crate) enum Called {
    /// The backend answered; its values are in the session.
    Answered,
    /// The backend answered normally that there is nothing (an expected status such as 404).
    NotFound,
    /// The endpoint needs agreement: the call is proposed, and the rest of the rule waits.
    WaitingForAgreement,
}

/// A `CALL_API` or `CALL_TOOL` as the rule gives it.
pub(crate) struct CallStep<'a> {
    pub arguments: &'a BTreeMap<String, sb_domain::Argument>,
    pub on_error: &'a [Action],
    /// `CALL_TOOL`'s mapping over the tool's result (none for `CALL_API`).
    pub mapping: &'a BTreeMap<String, String>,
}

impl ConversationsService {
    /// Fills the call's inputs and makes it (or proposes it); runs `on_error` if it fails.
    /// Whether the rule stops here: it waits (for an answer or an agreement), or its
    /// `on_error` branch ran instead of the rest. `from_here` is this action and the rest.
    async fn call_step(
        &self,
        run: &mut Run<'_>,
        endpoint_id: &EndpointId,
        call: CallStep<'_>,
        from_here: &[Action],
    ) -> Result<bool, EngineError> {
        let continuation = Continuation {
            then: from_here[1..].to_vec(),
            on_error: call.on_error.to_vec(),
            mapping: call.mapping.clone(),
        };
        let called = match self.fill_arguments(run, call.arguments, from_here).await {
            Inputs::Ready => self.call_api(run, endpoint_id, Some(&continuation)).await,
            // The rest of the rule runs with the visitor's answer.
            Inputs::Asked => return Ok(true),
            Inputs::Missing(error) => Err(self.fail_before_call(run, endpoint_id, error).await),
        };
        let code = match &called {
            // The rest of the rule waits with the action.
            Ok(Called::WaitingForAgreement) => return Ok(true),
            Ok(Called::Answered) => {
                self.map_tool_result(run, endpoint_id, call.mapping).await;
                return Ok(false);
            }
            Ok(Called::NotFound) => "not_found",
            Err(err) => err.code,
        };
        if call.on_error.is_empty() {
            return Ok(false);
        }
        let data = json!({"endpoint_id": endpoint_id, "code": code});
        self.note(run, "on_error", data).await;
        // The branch replaces the rest of the rule: what came next counted on the answer.
        self.run_actions(run, call.on_error).await?;
        Ok(true)
    }

    pub(crate) async fn note(&self, run: &Run<'_>, kind: &str, data: Value) {
        let (tenant, conversation) = (&run.tenant.id, &run.conversation.id);
        run.turn.trace(entry(tenant, conversation, Some(&run.message.id), kind, data));
    }

    /// Runs `actions` in order. Boxed because `on_error` branches recurse (at most two levels,
    /// which rule validation enforces).
    pub(crate) fn run_actions<'a>(
        &'a self,
        run: &'a mut Run<'_>,
        actions: &'a [Action],
    ) -> Step<'a> {
        Box::pin(async move {
            for (i, action) in actions.iter().enumerate() {
                match action {
                    Action::SetVariable { name, value, from_regex, from_ai } => {
                        let found = match (value, from_regex, from_ai) {
                            (Some(Value::String(text)), _, _) => {
                                Some(render_value(text, &run.vars))
                            }
                            (Some(literal), _, _) => Some(literal.clone()),
                            (_, Some(from), _) => {
                                sb_rules::capture(from, &run.message.text).map(Value::String)
                            }
                            (_, _, Some(what)) => self.extract(run, what).await,
                            _ => None,
                        };
                        match found {
                            Some(value) => self.set_variable(run, name, value, "rule").await,
                            None => {
                                self.note(
                                    run,
                                    "variable_not_set",
                                    json!({"name": name, "reason": "nothing matched"}),
                                )
                                .await
                            }
                        }
                    }
                    Action::CallApi { endpoint_id, arguments, on_error } => {
                        let call = CallStep { arguments, on_error, mapping: &BTreeMap::new() };
                        if self.call_step(run, endpoint_id, call, &actions[i..]).await? {
                            return Ok(());
                        }
                    }
                    Action::CallTool {
                        connection_id,
                        tool,
                        arguments,
                        response_mapping,
                        on_error,
                    } => {
                        let call = CallStep { arguments, on_error, mapping: response_mapping };
                        let endpoint_id = match self.tool_endpoint(run, connection_id, tool).await {
                            Ok(endpoint) => endpoint,
                            Err(error) => {
                                let data = json!({"connection_id": connection_id, "tool": tool, "ok": false, "error": error});
                                self.note(run, "api_call", data).await;
                                if on_error.is_empty() {
                                    continue;
                                }
                                let data = json!({"tool": tool, "code": error.code});
                                self.note(run, "on_error", data).await;
                                return self.run_actions(run, on_error).await;
                            }
                        };
                        if self.call_step(run, &endpoint_id, call, &actions[i..]).await? {
                            return Ok(());
                        }
                    }
                    Action::ReplyText { text } => {
                        let (reply, missing) = Template::parse("text", text)
                            .map(|t| t.render_text(&run.vars))
                            .unwrap_or_else(|_| (text.clone(), vec![]));
                        if !missing.is_empty() {
                            self.note(run, "reply_missing_variables", json!({"missing": missing}))
                                .await;
                        }
                        let source = match (run.catch_all, run.api_answered) {
                            (true, _) => ReplySource::Fallback,
                            (false, true) => ReplySource::Api,
                            (false, false) => ReplySource::Rule,
                        };
                        self.reply(run, &reply, source).await?;
                    }
                    Action::ReplyAi { instructions, fallback } => {
                        self.reply_ai(run, instructions.as_deref(), fallback.as_deref()).await?;
                    }
                    Action::ReplyKb { fallback } => {
                        self.reply_kb(run, fallback.as_deref()).await?;
                    }
                    Action::AssignToOperator { user_id, team_id, note } => {
                        let target = match (user_id, team_id) {
                            (Some(user), _) => AssignTarget::User(user.clone()),
                            (_, Some(team)) => AssignTarget::Team(team.clone()),
                            _ => AssignTarget::AnyAvailable,
                        };
                        self.hand_over(run, target, note.as_deref()).await?;
                    }
                    Action::AddLabel { label } => self.add_label(run, label).await?,
                }
            }
            Ok(())
        })
    }

    /// Sets a session variable within the size limits; records the change in the trace.
    pub(crate) async fn set_variable(
        &self,
        run: &mut Run<'_>,
        name: &str,
        value: Value,
        source: &str,
    ) {
        // Switchboard's own values (who the visitor is, above all) come from the conversation
        // alone: nothing a rule, an answer or the AI sets may pass for them.
        if sb_domain::is_built_in(name) {
            self.note(
                run,
                "variable_refused",
                json!({"name": name, "reason": "built_in", "source": source}),
            )
            .await;
            return;
        }
        let size = value.to_string().len();
        if size > MAX_VARIABLE_BYTES {
            self.note(
                run,
                "variable_too_large",
                json!({"name": name, "bytes": size, "limit": MAX_VARIABLE_BYTES}),
            )
            .await;
            return;
        }
        let total: usize = run
            .vars
            .iter()
            .filter(|(k, _)| k.as_str() != name)
            .map(|(k, v)| k.len() + v.to_string().len())
            .sum();
        if total + size > MAX_VARIABLES_BYTES {
            self.note(run, "variables_full", json!({"name": name, "limit": MAX_VARIABLES_BYTES}))
                .await;
            return;
        }
        if run.vars.get(name) != Some(&value) {
            run.changed.insert(name.to_owned());
        }
        self.note(
            run,
            "variable_set",
            json!({"name": name, "value": shorten(&value), "source": source}),
        )
        .await;
        run.vars.insert(name.to_owned(), value);
    }

    /// Calls an endpoint of the tenant's with the session variables and maps the answer in.
    /// On failure `api.<endpoint>.error` holds the error code, for templates and the AI. An
    /// endpoint that needs agreement is not called: the call is proposed, and a rule's
    /// `continuation` runs once it is agreed to (or not); the AI's calls have none.
    pub(crate) async fn call_api(
        &self,
        run: &mut Run<'_>,
        endpoint_id: &EndpointId,
        continuation: Option<&Continuation>,
    ) -> Result<Called, CallError> {
        let tenant = run.tenant.id.clone();
        let endpoint = match self.cached_endpoint(&run.config, &tenant, endpoint_id).await {
            Ok(endpoint) => endpoint,
            Err(err) => {
                let error =
                    CallError::new("endpoint_not_found", format!("endpoint {endpoint_id}: {err}"));
                self.note(
                    run,
                    "api_call",
                    json!({"endpoint_id": endpoint_id, "ok": false, "error": error}),
                )
                .await;
                return Err(error);
            }
        };
        let result = if endpoint.requires_verified_visitor && !run.conversation.visitor.verified {
            let error = CallError::new(
                "visitor_not_verified",
                "this endpoint answers only visitors whose identity the site signed",
            );
            Err(self.refuse(run, &endpoint, error).await)
        } else if endpoint.approval != Approval::None {
            if run.waiting_for_agreement {
                // One question at a time: a model asking again proposes nothing more.
                return Ok(Called::WaitingForAgreement);
            }
            let by = match (continuation, &run.rule) {
                (Some(_), Some(rule_id)) => ProposedBy::Rule { rule_id: rule_id.clone() },
                _ => ProposedBy::Ai,
            };
            let continuation = continuation.cloned().unwrap_or_default();
            match self.propose_action(run, &endpoint, by, &continuation).await {
                Ok(_) => return Ok(Called::WaitingForAgreement),
                Err(error) => Err(self.refuse(run, &endpoint, error).await),
            }
        } else {
            self.execute_for(run, &endpoint).await
        };
        let found = self.take_answer(run, &endpoint, result).await?;
        Ok(if found { Called::Answered } else { Called::NotFound })
    }

    /// A call that could not be made for want of an input: like a failed call, it leaves its
    /// error code for templates and no values from an earlier answer.
    async fn fail_before_call(
        &self,
        run: &mut Run<'_>,
        endpoint_id: &EndpointId,
        error: CallError,
    ) -> CallError {
        let tenant = run.tenant.id.clone();
        match self.cached_endpoint(&run.config, &tenant, endpoint_id).await {
            Ok(endpoint) => self.take_answer(run, &endpoint, Err(error)).await.unwrap_err(),
            Err(_) => error,
        }
    }

    /// Maps a call's answer into the session (`api.<endpoint>.found` says whether it found
    /// anything), or records its failure (see `call_api`). Returns whether it found anything.
    pub(crate) async fn take_answer(
        &self,
        run: &mut Run<'_>,
        endpoint: &sb_domain::Endpoint,
        result: Result<Answer, CallError>,
    ) -> Result<bool, CallError> {
        let error_var = format!("api.{}.error", endpoint.name);
        let found_var = format!("api.{}.found", endpoint.name);
        // Values from an earlier answer must not pass for this one's.
        let answered: Vec<&String> = match &result {
            Ok(answer) => answer.mapped.keys().collect(),
            Err(_) => Vec::new(),
        };
        for name in endpoint.response_mapping.keys().filter(|name| !answered.contains(name)) {
            if run.vars.remove(name).is_some() {
                run.changed.insert(name.clone());
            }
        }
        match result {
            Ok(answer) => {
                run.api_answered = true;
                run.tool_result = answer.tool_result.filter(|_| endpoint.tool.is_some());
                run.vars.remove(&error_var);
                for (name, value) in answer.mapped {
                    self.set_variable(run, &name, value, &endpoint.name).await;
                }
                // Said by the call's own trace entry; and every answer counts as news, so a
                // rule can follow each lookup.
                run.vars.insert(found_var.clone(), json!(answer.found));
                run.changed.insert(found_var);
                Ok(answer.found)
            }
            Err(error) => {
                run.vars.remove(&found_var);
                self.set_variable(run, &error_var, json!(error.code), &endpoint.name).await;
                Err(error)
            }
        }
    }

    /// A call refused before anything was sent: in the trace, and counted as an error.
    pub(crate) async fn refuse(
        &self,
        run: &Run<'_>,
        endpoint: &sb_domain::Endpoint,
        error: CallError,
    ) -> CallError {
        let data = json!({"endpoint_id": endpoint.id, "endpoint": endpoint.name, "ok": false, "error": error});
        self.note(run, "api_call", data).await;
        run.turn.count(crate::ConnectionsService::refusal_delta(endpoint, &error));
        error
    }

    async fn execute_for(
        &self,
        run: &Run<'_>,
        endpoint: &sb_domain::Endpoint,
    ) -> Result<Answer, CallError> {
        let tenant = &run.tenant.id;
        let (stored, secrets) = match self.call_target_for(run, endpoint).await {
            Ok(found) => found,
            Err(error) => return Err(self.refuse(run, endpoint, error).await),
        };
        let sink = TraceSink {
            turn: run.turn,
            tenant,
            conversation: &run.conversation.id,
            message: Some(&run.message.id),
        };
        let target = CallTarget { connection: &stored.connection, secrets: &secrets };
        if let Some(fakes) = &self.fakes {
            let outcome = fakes.answer(target, endpoint, &run.vars, &run.conversation.id).await;
            sink.record(&stored.connection, endpoint, &outcome).await;
            return Answer::of(outcome);
        }
        // A cached answer costs the backend nothing, so it is not held to the budget either.
        let slot = self.connector.cache_slot(target, endpoint, &run.vars);
        if let Some(hit) = slot.as_ref().and_then(|slot| self.connector.cached(slot)) {
            sink.record(&stored.connection, endpoint, &hit).await;
            return Answer::of(hit);
        }
        if !self.outbound_budget.take(tenant) {
            let error = CallError::new(
                "budget_exceeded",
                "this account's backend calls for this minute are used up",
            );
            return Err(self.refuse(run, endpoint, error).await);
        }
        let outcome = self.connector.execute(target, endpoint, &run.vars, &sink).await;
        if let Some(slot) = slot {
            self.connector.remember(slot, &outcome);
        }
        Answer::of(outcome)
    }

    /// The assistant says `text`, which came from `source`.
    pub(crate) async fn reply(
        &self,
        run: &mut Run<'_>,
        text: &str,
        source: ReplySource,
    ) -> Result<(), EngineError> {
        let text = text.trim();
        if text.is_empty() {
            self.note(run, "reply_empty", json!({})).await;
            return Ok(());
        }
        let id = run.turn.reply(Author::Bot, text, Some(source));
        let data = json!({"message_id": id, "text": shorten(&json!(text)), "source": source});
        self.note(run, "reply", data).await;
        run.replied = true;
        Ok(())
    }
}

/// What a call brought back: the mapped values, whether it found anything, and — for an MCP
/// tool, whose answer is written for a model — the tool's result.
pub(crate) struct Answer {
    pub mapped: BTreeMap<String, Value>,
    pub found: bool,
    pub tool_result: Option<Value>,
}

impl Answer {
    pub(crate) fn of(outcome: sb_connectors::CallOutcome) -> Result<Self, CallError> {
        match outcome.error {
            None => Ok(Answer {
                mapped: outcome.mapped,
                found: outcome.found != Some(false),
                tool_result: outcome.body_json,
            }),
            Some(error) => Err(error),
        }
    }
}

/// A template that is exactly one `{variable}` copies that variable's JSON value (a number stays
/// a number); anything else renders to text.
fn render_value(text: &str, vars: &sb_domain::template::Variables) -> Value {
    match Template::parse("value", text) {
        Ok(template) => match template.sole_variable().and_then(|name| vars.get(name)) {
            Some(value) => value.clone(),
            None => Value::String(template.render_text(vars).0),
        },
        Err(_) => Value::String(text.to_owned()),
    }
}
