//! MCP calls through the one outbound path: the session each connection opens (`initialize`,
//! then `notifications/initialized`), the tool list page by page, and tool calls — every
//! message under the call's deadline, with the connection's credentials (OAuth tokens fetched,
//! refreshed once) and the same SSRF policy as endpoint calls.

use std::time::Instant;

use sb_domain::{ConnectionId, McpTool, TenantId};
use sb_net::{OutboundRequest, OutboundResponse};
use serde_json::{Value, json};

use crate::CallError;
use crate::execute::{CallTarget, Connector};
use crate::mcp::{self, Session};
use crate::shown::RequestLine;

/// A server's tools, and whether that is all of them (a list cut at the page or tool limit
/// is not: tools missing from it were not dropped by the server).
#[derive(Debug, Clone)]
pub struct ToolList {
    pub tools: Vec<McpTool>,
    pub complete: bool,
}

/// What the messages of one MCP exchange did, for the outcome that reports them.
#[derive(Debug, Default)]
pub(crate) struct Trail {
    pub attempts: u32,
    pub token_refreshed: bool,
    /// OAuth access tokens sent: an answer echoing one must not show it.
    pub tokens_sent: Vec<String>,
    /// The last message sent, as shown (credentials as `***`).
    pub request: Option<RequestLine>,
    pub status: Option<u16>,
}

impl Trail {
    /// Every form of a credential the messages carried: what no answer shown may hold.
    fn secrets_sent(&self, target: CallTarget<'_>) -> Vec<String> {
        let mut sent = self.tokens_sent.clone();
        sent.extend(target.secrets.sent_forms(&target.connection.auth));
        sent
    }
}

/// What a message is answered with.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A notification: 202 and nothing.
    Nothing,
    /// The answer to request `id`; a 404 `in_session` means the session is gone.
    Reply { id: u64, in_session: bool },
}

impl Connector {
    /// Forgets the MCP session held for the connection on this node (its address or
    /// credentials changed, or it was deleted).
    pub fn forget_mcp_session(&self, tenant: &TenantId, connection: &ConnectionId) {
        self.sessions().forget(tenant, connection);
    }

    /// Sends one message and reads the answer it expects.
    async fn send(
        &self,
        target: CallTarget<'_>,
        request: OutboundRequest,
        expect: Expect,
        retry_safe: bool,
        deadline: Instant,
        trail: &mut Trail,
    ) -> Result<(Value, OutboundResponse), CallError> {
        trail.request = Some(RequestLine::of(&request, target.uses_oauth()));
        let exchange = self.exchange(target, request, retry_safe, deadline).await;
        trail.attempts += exchange.attempts;
        trail.token_refreshed |= exchange.token_refreshed;
        trail.tokens_sent.extend(exchange.tokens_sent);
        let response = exchange.response?;
        trail.status = Some(response.status.as_u16());
        let Expect::Reply { id, in_session } = expect else {
            // A notification is answered 202 with nothing, or refused.
            if !response.status.is_success() {
                let message = format!("the MCP server refused the session ({})", response.status);
                return Err(CallError::new("mcp_error", message));
            }
            return Ok((Value::Null, response));
        };
        let result = mcp::reply(&response, id, in_session)?;
        Ok((result, response))
    }

    /// The connection's session: the one held, or a new one.
    async fn session(
        &self,
        target: CallTarget<'_>,
        deadline: Instant,
        trail: &mut Trail,
    ) -> Result<Session, CallError> {
        if let Some(session) = self.sessions().get(target.connection) {
            return Ok(session);
        }
        let (connection, secrets) = (target.connection, target.secrets);
        let hello =
            mcp::message(connection, secrets, Some(0), "initialize", mcp::initialize_params())?;
        let expect = Expect::Reply { id: 0, in_session: false };
        let (result, response) = self.send(target, hello, expect, true, deadline, trail).await?;
        let session = mcp::opened(&response, &result);
        let ready =
            mcp::message(connection, secrets, None, "notifications/initialized", json!({}))?;
        let ready = mcp::with_session(ready, &session)?;
        self.send(target, ready, Expect::Nothing, true, deadline, trail).await?;
        self.sessions().keep(connection, session.clone());
        Ok(session)
    }

    /// Sends `request` (request `id`) in the connection's session, opening one first when
    /// there is none, and once more if the server forgot it.
    pub(crate) async fn in_session(
        &self,
        target: CallTarget<'_>,
        request: OutboundRequest,
        id: u64,
        retry_safe: bool,
        deadline: Instant,
        trail: &mut Trail,
    ) -> Result<Value, CallError> {
        let mut reopened = false;
        loop {
            let session = self.session(target, deadline, trail).await?;
            let attempt = mcp::with_session(request.clone(), &session)?;
            let expect = Expect::Reply { id, in_session: true };
            match self.send(target, attempt, expect, retry_safe, deadline, trail).await {
                Err(err) if err.code == "session_expired" && !reopened => {
                    let connection = target.connection;
                    self.sessions().forget(&connection.tenant_id, &connection.id);
                    reopened = true;
                }
                answered => return answered.map(|(result, _)| result),
            }
        }
    }

    /// The tools the server lists (every page, up to [`mcp::MAX_TOOLS`]), under one deadline;
    /// `complete` is false when the list was cut there. An error never carries a credential.
    pub async fn list_tools(&self, target: CallTarget<'_>) -> Result<ToolList, CallError> {
        let deadline = Instant::now() + self.deadline(target.connection, None);
        let mut trail = Trail::default();
        let listed = self.tools_listed(target, deadline, &mut trail).await;
        let sent = trail.secrets_sent(target);
        listed.map_err(|err| err.scrubbed(&sent.iter().map(String::as_str).collect::<Vec<_>>()))
    }

    /// An MCP connection's test: a new session, and the tool list read through.
    pub(crate) async fn test_mcp(&self, target: CallTarget<'_>) -> crate::CallOutcome {
        let started = Instant::now();
        let connection = target.connection;
        self.tokens().forget_connection(&connection.tenant_id, &connection.id);
        self.sessions().forget(&connection.tenant_id, &connection.id);
        let deadline = started + self.deadline(connection, None);
        let mut trail = Trail::default();
        let listed = self.tools_listed(target, deadline, &mut trail).await;
        let mut outcome = crate::CallOutcome {
            request: trail.request.clone(),
            status: trail.status,
            attempts: trail.attempts,
            token_refreshed: trail.token_refreshed,
            ..Default::default()
        };
        match listed {
            Ok(ToolList { tools, .. }) => {
                let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
                outcome.notes.push(format!(
                    "The MCP server answered and lists {} tool(s): {}",
                    tools.len(),
                    names.join(", ")
                ));
            }
            Err(err) => outcome.error = Some(err),
        }
        let sent = trail.secrets_sent(target);
        crate::scrub::scrub_outcome(&mut outcome, &sent);
        outcome.ok = outcome.error.is_none();
        outcome.latency_ms = started.elapsed().as_millis() as u64;
        outcome
    }

    async fn tools_listed(
        &self,
        target: CallTarget<'_>,
        deadline: Instant,
        trail: &mut Trail,
    ) -> Result<ToolList, CallError> {
        let mut tools: Vec<McpTool> = Vec::new();
        let mut complete = true;
        let mut cursor: Option<String> = None;
        for page in 1.. {
            let params = match &cursor {
                Some(cursor) => json!({"cursor": cursor}),
                None => json!({}),
            };
            let id = page as u64;
            let (connection, secrets) = (target.connection, target.secrets);
            let request = mcp::message(connection, secrets, Some(id), "tools/list", params)?;
            let result = self.in_session(target, request, id, true, deadline, trail).await?;
            let (listed, next) = mcp::tool_page(&result)?;
            // A name listed twice is one tool (the first description counts).
            for tool in listed {
                if !tools.iter().any(|t| t.name == tool.name) {
                    tools.push(tool);
                }
            }
            match next {
                Some(next) if page < mcp::MAX_PAGES && tools.len() < mcp::MAX_TOOLS => {
                    cursor = Some(next)
                }
                Some(_) => {
                    complete = false;
                    break;
                }
                None => break,
            }
        }
        complete &= tools.len() <= mcp::MAX_TOOLS;
        tools.truncate(mcp::MAX_TOOLS);
        Ok(ToolList { tools, complete })
    }
}

/// Judges a tool's result and fills in the preview, the answer and the mapped values: the
/// structured content (or the text, as JSON when it is) is what a response mapping reads.
pub(crate) fn interpret(
    result: &Value,
    endpoint: &sb_domain::Endpoint,
    outcome: &mut crate::CallOutcome,
) -> Result<(), CallError> {
    outcome.body_preview = crate::execute::preview(result.to_string().as_bytes());
    let answer = mcp::tool_answer(result)?;
    outcome.found = Some(true);
    if !endpoint.response_mapping.is_empty() {
        let mapped = crate::mapping::apply(&endpoint.response_mapping, &answer);
        outcome.mapped = mapped.values;
        outcome.missing = mapped.missing;
        outcome.notes = mapped.notes;
    }
    let small = answer.to_string().len() <= crate::BODY_JSON_BYTES;
    outcome.body_json = small.then_some(answer);
    Ok(())
}
