//! The Model Context Protocol over streamable HTTP (revision 2025-06-18), as a client: each
//! JSON-RPC message is one POST to the server's URL through the same outbound client as
//! endpoint calls; the answer is JSON or a short event stream holding it. A server may open a
//! session at `initialize` (`Mcp-Session-Id`), sent back with every later message until the
//! server forgets it (404), when the session is opened again.

use std::collections::HashMap;
use std::sync::Mutex;

use sb_domain::{Connection, ConnectionId, Endpoint, McpTool, TenantId};
use sb_net::{Method, OutboundRequest, OutboundResponse, header};
use serde_json::{Value, json};

use crate::CallError;
use crate::auth::{AuthSecrets, apply_static};
use crate::template::Variables;

/// The protocol revision asked for; a server may answer with another it speaks.
pub const PROTOCOL_VERSION: &str = "2025-06-18";
/// Pages of `tools/list` read at most, and tools kept at most.
pub(crate) const MAX_PAGES: usize = 20;
pub const MAX_TOOLS: usize = 500;

/// An open session: its id (none when the server keeps none) and the revision agreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub id: Option<String>,
    pub version: String,
}

/// The sessions this node holds, per connection as last changed: a connection changed on any
/// node (its address, its credentials) has a new `updated_at`, so the old session is not used.
#[derive(Default)]
pub(crate) struct Sessions(Mutex<HashMap<(TenantId, ConnectionId), (i64, Session)>>);

impl Sessions {
    pub fn get(&self, connection: &Connection) -> Option<Session> {
        let key = (connection.tenant_id.clone(), connection.id.clone());
        let sessions = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (version, session) = sessions.get(&key)?;
        (*version == connection.updated_at.as_millisecond()).then(|| session.clone())
    }

    pub fn keep(&self, connection: &Connection, session: Session) {
        let key = (connection.tenant_id.clone(), connection.id.clone());
        let version = connection.updated_at.as_millisecond();
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key, (version, session));
    }

    /// Forgets the connection's session (expired, or the connection changed or went).
    pub fn forget(&self, tenant: &TenantId, connection: &ConnectionId) {
        let key = (tenant.clone(), connection.clone());
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
    }
}

/// A JSON-RPC request (`id` set) or notification to the server, as a POST with the
/// connection's fixed headers and static credentials (an OAuth token is added per attempt, the
/// session's headers by [`with_session`]).
pub(crate) fn message(
    connection: &Connection,
    secrets: &AuthSecrets,
    id: Option<u64>,
    method: &str,
    params: Value,
) -> Result<OutboundRequest, CallError> {
    let mut body = json!({"jsonrpc": "2.0", "method": method, "params": params});
    if let Some(id) = id {
        body["id"] = json!(id);
    }
    let mut request = OutboundRequest::new(Method::POST, &connection.base_url)?
        .header("accept", "application/json, text/event-stream")?
        .body("application/json", body.to_string())?;
    for (name, value) in &connection.headers {
        request = request.header(name, value)?;
    }
    apply_static(&connection.auth, secrets, request)
}

/// The request as sent within `session`.
pub(crate) fn with_session(
    request: OutboundRequest,
    session: &Session,
) -> Result<OutboundRequest, CallError> {
    let mut request = request.header("mcp-protocol-version", &session.version)?;
    if let Some(id) = &session.id {
        request = request.header("mcp-session-id", id)?;
    }
    Ok(request)
}

/// The id of a tool call's request: each is one request of its own POST.
pub(crate) const CALL_ID: u64 = 1;

/// The `tools/call` request `endpoint` makes with `vars` — the same bytes every time for the
/// same values, so an agreed call can be recognised (safe actions). A verified visitor's
/// `user_id` goes in the connection's identity header, when it names one (built-in values come
/// from the conversation alone: nothing a rule or an answer sets can stand in for them).
pub(crate) fn tool_request(
    connection: &Connection,
    secrets: &AuthSecrets,
    endpoint: &Endpoint,
    tool: &McpTool,
    vars: &Variables,
) -> Result<OutboundRequest, CallError> {
    crate::request::check_declared(endpoint, vars)?;
    let params = call_params(&tool.name, &tool.input_schema, vars)?;
    let mut request = message(connection, secrets, Some(CALL_ID), "tools/call", params)?;
    let verified = vars.get("visitor.verified").and_then(Value::as_bool) == Some(true);
    let user = vars.get("visitor.user_id").and_then(crate::template::value_text);
    if let (Some(header), true, Some(user)) = (&connection.identity_header, verified, user) {
        request = request.header(header, &user)?;
    }
    Ok(request)
}

/// What the server's answer to request `id` says: its `result`, or why not. A 404 to a
/// request in a session means the server forgot the session.
pub(crate) fn reply(
    response: &OutboundResponse,
    id: u64,
    in_session: bool,
) -> Result<Value, CallError> {
    match response.status.as_u16() {
        200..=299 => {}
        401 | 403 => {
            let message = format!("the MCP server refused the credentials ({})", response.status);
            return Err(CallError::new("auth_failed", message));
        }
        404 if in_session => {
            return Err(CallError::new("session_expired", "the MCP server forgot the session"));
        }
        _ => {
            let message = format!("the MCP server answered {}", response.status);
            return Err(CallError::new("http_error", message));
        }
    }
    let streamed = response
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
    let messages: Vec<Value> = if streamed {
        events(&response.body)?
    } else {
        let parsed: Value = serde_json::from_slice(&response.body).map_err(|err| {
            CallError::new("invalid_response", format!("the MCP answer is not JSON: {err}"))
        })?;
        match parsed {
            Value::Array(batch) => batch,
            one => vec![one],
        }
    };
    // The answer, not a request of the server's own that happens to carry the same id (an
    // event stream may hold those first); an error about an unreadable request has no id.
    let is_response = |m: &Value| m.get("method").is_none();
    let answer = messages
        .iter()
        .find(|m| is_response(m) && m.get("id").and_then(Value::as_u64) == Some(id))
        .or_else(|| messages.iter().find(|m| is_response(m) && m.get("id") == Some(&Value::Null)))
        .ok_or_else(|| CallError::new("invalid_response", "the MCP server sent no answer"))?;
    if let Some(error) = answer.get("error") {
        let message = error.get("message").and_then(Value::as_str).unwrap_or("unknown error");
        return Err(CallError::new("mcp_error", format!("the MCP server says: {message}")));
    }
    answer
        .get("result")
        .cloned()
        .ok_or_else(|| CallError::new("invalid_response", "the MCP answer has no result"))
}

/// The JSON messages of an event stream (each event's `data` lines joined; events with no
/// data, such as a priming event, skipped).
fn events(body: &[u8]) -> Result<Vec<Value>, CallError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| CallError::new("invalid_response", "the MCP event stream is not UTF-8"))?;
    let mut messages = Vec::new();
    let mut data = String::new();
    let mut finish = |data: &mut String| -> Result<(), CallError> {
        if !data.trim().is_empty() {
            let parsed = serde_json::from_str(data).map_err(|err| {
                CallError::new("invalid_response", format!("an MCP event is not JSON: {err}"))
            })?;
            messages.push(parsed);
        }
        data.clear();
        Ok(())
    };
    for line in text.lines() {
        if line.is_empty() {
            finish(&mut data)?;
        } else if let Some(value) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    finish(&mut data)?;
    Ok(messages)
}

/// The session an `initialize` answer opens.
pub(crate) fn opened(response: &OutboundResponse, result: &Value) -> Session {
    let id =
        response.headers.get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let version = result.get("protocolVersion").and_then(Value::as_str).unwrap_or(PROTOCOL_VERSION);
    Session { id, version: version.to_owned() }
}

/// The `initialize` request's parameters.
pub(crate) fn initialize_params() -> Value {
    json!({
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "switchboard", "version": env!("CARGO_PKG_VERSION")}
    })
}

/// One page of `tools/list`: its tools and the cursor of the next page.
pub(crate) fn tool_page(result: &Value) -> Result<(Vec<McpTool>, Option<String>), CallError> {
    let listed = result
        .get("tools")
        .and_then(Value::as_array)
        .ok_or_else(|| CallError::new("invalid_response", "the tool list has no tools"))?;
    let tools = listed
        .iter()
        .filter_map(|tool| {
            Some(McpTool {
                name: tool.get("name")?.as_str()?.to_owned(),
                description: tool
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                input_schema: tool
                    .get("inputSchema")
                    .cloned()
                    .unwrap_or_else(|| json!({"type": "object"})),
                output_schema: tool.get("outputSchema").cloned(),
                read_only: tool
                    .pointer("/annotations/readOnlyHint")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            })
        })
        .collect();
    let next = result.get("nextCursor").and_then(Value::as_str).map(str::to_owned);
    Ok((tools, next))
}

/// What a `tools/call` result says, as JSON a response mapping reads: the structured content
/// when there is some, else the text as JSON when it is JSON, else `{"text": …}`. A result the
/// server marks as an error is the tool's failure.
pub(crate) fn tool_answer(result: &Value) -> Result<Value, CallError> {
    let text: Vec<&str> = result
        .get("content")
        .and_then(Value::as_array)
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let text = text.join("\n");
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        let message = if text.is_empty() { "the tool failed".to_owned() } else { text };
        return Err(CallError::new("tool_error", message));
    }
    if let Some(structured) = result.get("structuredContent").filter(|v| !v.is_null()) {
        return Ok(structured.clone());
    }
    Ok(serde_json::from_str::<Value>(&text)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
        .unwrap_or_else(|| json!({"text": text})))
}

/// The `tools/call` parameters: each argument the schema declares, from `values` (strings as
/// the conversation keeps them), turned into the type the schema asks for.
pub(crate) fn call_params(
    tool: &str,
    input_schema: &Value,
    values: &Variables,
) -> Result<Value, CallError> {
    let mut arguments = serde_json::Map::new();
    let Some(properties) = input_schema.get("properties").and_then(Value::as_object) else {
        return Ok(json!({"name": tool, "arguments": {}}));
    };
    for (name, schema) in properties {
        let Some(value) = values.get(name).filter(|v| !v.is_null()) else { continue };
        arguments.insert(name.clone(), typed(name, schema, value)?);
    }
    Ok(json!({"name": tool, "arguments": arguments}))
}

/// The type a property's schema names besides `null`: `"integer"`, `["integer", "null"]` (as
/// Rust servers write an optional one) or `anyOf: [{"type": "integer"}, {"type": "null"}]` (as
/// Python servers do); `""` when it names none.
fn schema_type(schema: &Value) -> &str {
    let not_null = |t: &&str| *t != "null";
    match schema.get("type") {
        Some(Value::String(kind)) => Some(kind.as_str()),
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).find(not_null),
        _ => ["anyOf", "oneOf"].iter().find_map(|key| {
            let options = schema.get(*key)?.as_array()?;
            options.iter().map(schema_type).find(|kind| !kind.is_empty() && not_null(kind))
        }),
    }
    .unwrap_or("")
}

/// `value` as the type `schema` names (`integer`, `number`, `boolean`, `string`; anything else
/// as it is).
fn typed(name: &str, schema: &Value, value: &Value) -> Result<Value, CallError> {
    let kind = schema_type(schema);
    let text = crate::template::value_text(value);
    let wanted = match kind {
        "integer" | "array" | "object" => format!("an {kind}"),
        "boolean" => "true or false".to_owned(),
        other => format!("a {other}"),
    };
    let wrong = || CallError::new("invalid_variable", format!("{name} must be {wanted}"));
    Ok(match (kind, value) {
        ("integer", Value::Number(n)) if n.is_i64() || n.is_u64() => value.clone(),
        ("integer", _) => json!(text.and_then(|t| t.trim().parse::<i64>().ok()).ok_or_else(wrong)?),
        ("number", Value::Number(_)) => value.clone(),
        ("number", _) => json!(text.and_then(|t| t.trim().parse::<f64>().ok()).ok_or_else(wrong)?),
        ("boolean", Value::Bool(_)) => value.clone(),
        ("boolean", _) => match text.as_deref().map(str::trim) {
            Some("true") => json!(true),
            Some("false") => json!(false),
            _ => return Err(wrong()),
        },
        ("string", Value::String(_)) => value.clone(),
        ("string", _) => json!(text.ok_or_else(wrong)?),
        // Arrays and objects may come as JSON text from a template.
        ("array" | "object", Value::String(raw)) => {
            serde_json::from_str(raw).map_err(|_| wrong())?
        }
        _ => value.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_take_the_type_their_schema_names_however_it_is_written() {
        let schema = json!({"properties": {
            "plain": {"type": "integer"},
            "rust_optional": {"type": ["integer", "null"]},
            "python_optional": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
            "untyped": {},
        }});
        let mut values = Variables::new();
        for name in ["plain", "rust_optional", "python_optional", "untyped"] {
            let text = if name == "python_optional" { "true" } else { "17" };
            values.insert(name.into(), json!(text));
        }
        let params = call_params("t", &schema, &values).unwrap();
        assert_eq!(
            params["arguments"],
            json!({"plain": 17, "rust_optional": 17, "python_optional": true, "untyped": "17"})
        );
        values.insert("rust_optional".into(), json!("seventeen"));
        let err = call_params("t", &schema, &values).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            ("invalid_variable", "rust_optional must be an integer")
        );
    }
}
