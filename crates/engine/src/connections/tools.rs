//! The tools of an MCP connection: read from its server (`POST /connections/{id}/tools/refresh`)
//! and kept as endpoints of the connection — so the AI's tools, rules, approvals (safe
//! actions), traces, statistics and budgets treat a tool call exactly as an endpoint call.
//! A tool starts switched off; the account turns on the ones the AI may call.

use std::collections::BTreeMap;

use sb_connectors::CallTarget;
use sb_domain::action::Approval;
use sb_domain::{
    ConnectionId, ConnectionKind, Endpoint, EndpointRequest, HttpMethod, McpTool, Role, Timestamp,
    ValidationError, VariableSpec,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ConnectionsService;
use crate::{Actor, EngineError};

/// A tool of an MCP connection, as the account sees it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ToolView {
    /// The server's name for it.
    pub name: String,
    pub description: String,
    pub input_schema: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// The server says it changes nothing.
    pub read_only: bool,
    /// Whether the AI may call it.
    pub enabled: bool,
    pub approval: Approval,
    pub approval_summary: String,
    pub response_mapping: BTreeMap<String, String>,
    /// The endpoint that calls it: its name is the AI's tool name; its statistics and last
    /// calls are the tool's.
    pub endpoint_id: sb_domain::EndpointId,
    pub endpoint_name: String,
}

impl ToolView {
    fn of(endpoint: &Endpoint, tool: &McpTool) -> Self {
        Self {
            name: tool.name.clone(),
            description: tool.description.clone(),
            input_schema: tool.input_schema.clone(),
            output_schema: tool.output_schema.clone(),
            read_only: tool.read_only,
            enabled: endpoint.ai_tool,
            approval: endpoint.approval,
            approval_summary: endpoint.approval_summary.clone(),
            response_mapping: endpoint.response_mapping.clone(),
            endpoint_id: endpoint.id.clone(),
            endpoint_name: endpoint.name.clone(),
        }
    }
}

/// What may be changed of a tool (`PATCH /connections/{id}/tools/{name}`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolPatch {
    pub enabled: Option<bool>,
    pub approval: Option<Approval>,
    pub approval_summary: Option<String>,
    /// Variable name → dot path into the tool's structured result (or its text, read as JSON).
    pub response_mapping: Option<BTreeMap<String, String>>,
}

/// The variables a tool takes, from its input schema: each property, required when the schema
/// says so, with its description and (for strings) its pattern.
fn variables_of(schema: &Value) -> Vec<VariableSpec> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| VariableSpec {
            name: name.clone(),
            description: property
                .get("description")
                .or_else(|| property.get("title"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            required: required.contains(&name.as_str()),
            pattern: property.get("pattern").and_then(Value::as_str).map(str::to_owned),
        })
        .collect()
}

/// A valid AI tool name for the server's tool, not yet taken in the account.
fn endpoint_name(tool: &str, taken: &[String]) -> String {
    let base: String = tool
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .take(60)
        .collect();
    let base = if base.is_empty() { "tool".to_owned() } else { base };
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

impl ConnectionsService {
    /// The MCP connection's tools as last read from its server.
    pub async fn list_tools(
        &self,
        actor: &Actor,
        connection: &ConnectionId,
    ) -> Result<Vec<ToolView>, EngineError> {
        actor.require(Role::Admin)?;
        self.mcp_connection(actor, connection).await?;
        let endpoints =
            self.store.connections.connection_endpoints(&actor.tenant_id, connection).await?;
        Ok(endpoints.iter().filter_map(|e| Some(ToolView::of(e, e.tool.as_ref()?))).collect())
    }

    /// Reads the tool list from the server again: new tools are added (switched off), changed
    /// ones take the server's description and schemas (the account's settings stay), tools the
    /// server no longer lists are removed.
    pub async fn refresh_tools(
        &self,
        actor: &Actor,
        connection: &ConnectionId,
    ) -> Result<Vec<ToolView>, EngineError> {
        actor.require(Role::Admin)?;
        let stored = self.mcp_connection(actor, connection).await?;
        self.sync_tools(&stored, false).await?;
        self.list_tools(actor, connection).await
    }

    /// Every account's MCP tool lists read again (see the server's background tasks): a server
    /// that added, changed or dropped tools is seen without anyone pressing the button. How many
    /// connections were read; one that fails is logged and left as it was.
    pub async fn refresh_all_tools(&self) -> Result<usize, EngineError> {
        let mut read = 0;
        for (tenant, id) in self.store.connections.mcp_connections(10_000).await? {
            let synced = match self.store.connections.get_connection(&tenant, &id).await {
                Ok(stored) => self.sync_tools(&stored, true).await,
                // Deleted meanwhile.
                Err(sb_store::StoreError::NotFound) => continue,
                Err(err) => Err(err.into()),
            };
            match synced {
                Ok(()) => read += 1,
                Err(err) => {
                    tracing::debug!(connection = %id, error = %err, "could not read an MCP server's tools");
                }
            }
        }
        Ok(read)
    }

    /// Reads the server's tool list into the connection's endpoints. `unattended` (the periodic
    /// read) keeps the tools when the server suddenly lists none: more likely a server having a
    /// bad moment than one that dropped every tool, and the account's settings would be lost.
    async fn sync_tools(
        &self,
        stored: &sb_store::StoredConnection,
        unattended: bool,
    ) -> Result<(), EngineError> {
        let secrets = self.open_secrets(stored)?;
        let target = CallTarget { connection: &stored.connection, secrets: &secrets };
        let sb_connectors::ToolList { tools: listed, complete } =
            self.connector.list_tools(target).await?;
        let (tenant, connection) = (&stored.connection.tenant_id, &stored.connection.id);
        let existing = self.store.connections.connection_endpoints(tenant, connection).await?;
        let mut taken = self.store.connections.endpoint_names(tenant).await?;
        let now = Timestamp::now();
        for tool in &listed {
            let known =
                existing.iter().find(|e| e.tool.as_ref().is_some_and(|t| t.name == tool.name));
            match known {
                Some(endpoint) if endpoint.tool.as_ref() == Some(tool) => {}
                Some(endpoint) => {
                    let mut endpoint = endpoint.clone();
                    endpoint.description = tool.description.clone();
                    endpoint.request.variables = variables_of(&tool.input_schema);
                    endpoint.tool = Some(tool.clone());
                    endpoint.updated_at = now;
                    self.store.connections.update_endpoint(&endpoint).await?;
                }
                None => {
                    let name = endpoint_name(&tool.name, &taken);
                    taken.push(name.clone());
                    let request = EndpointRequest {
                        method: HttpMethod::Post,
                        path: String::new(),
                        variables: variables_of(&tool.input_schema),
                        ..EndpointRequest::default()
                    };
                    let mut endpoint = Endpoint::new(tenant, connection, name, request);
                    endpoint.description = tool.description.clone();
                    // Every tool waits for the visitor until the account says otherwise: a
                    // server's read-only hint is the server's word, not a guarantee (the
                    // protocol says so), and so it neither lifts approval nor allows retries.
                    endpoint.approval = Approval::Visitor;
                    endpoint.expected_statuses = Vec::new();
                    endpoint.tool = Some(tool.clone());
                    self.store.connections.create_endpoint(&endpoint).await?;
                }
            }
        }
        // Only a whole list says what the server dropped.
        if !complete || (unattended && listed.is_empty()) {
            return Ok(());
        }
        for gone in existing
            .iter()
            .filter(|e| e.tool.as_ref().is_some_and(|t| !listed.iter().any(|l| l.name == t.name)))
        {
            self.store.connections.delete_endpoint(tenant, &gone.id).await?;
        }
        Ok(())
    }

    /// Switches a tool on or off for the AI, and sets its approval and mapping.
    pub async fn update_tool(
        &self,
        actor: &Actor,
        connection: &ConnectionId,
        name: &str,
        patch: ToolPatch,
    ) -> Result<ToolView, EngineError> {
        actor.require(Role::Admin)?;
        self.mcp_connection(actor, connection).await?;
        let endpoints =
            self.store.connections.connection_endpoints(&actor.tenant_id, connection).await?;
        let mut endpoint = endpoints
            .into_iter()
            .find(|e| e.tool.as_ref().is_some_and(|t| t.name == name))
            .ok_or(EngineError::NotFound("tool"))?;
        if let Some(enabled) = patch.enabled {
            endpoint.ai_tool = enabled;
        }
        if let Some(approval) = patch.approval {
            endpoint.approval = approval;
        }
        if let Some(summary) = patch.approval_summary {
            endpoint.approval_summary = super::validate::text("approval_summary", &summary, 300)?;
        }
        if let Some(mapping) = patch.response_mapping {
            super::endpoints::response_mapping(&mapping)?;
            endpoint.response_mapping = mapping;
        }
        endpoint.updated_at = Timestamp::now();
        self.store.connections.update_endpoint(&endpoint).await?;
        let tool = endpoint.tool.clone().ok_or(EngineError::NotFound("tool"))?;
        Ok(ToolView::of(&endpoint, &tool))
    }

    /// The account's connection, when it is an MCP connection.
    async fn mcp_connection(
        &self,
        actor: &Actor,
        connection: &ConnectionId,
    ) -> Result<sb_store::StoredConnection, EngineError> {
        let stored = self.store.connections.get_connection(&actor.tenant_id, connection).await?;
        if stored.connection.kind != ConnectionKind::Mcp {
            let message = "this connection is not an MCP server: its endpoints are its own";
            return Err(ValidationError::new("kind", "not_mcp", message).into());
        }
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_become_free_ai_tool_names() {
        let taken = vec!["order_status".to_owned(), "order_status_2".to_owned()];
        assert_eq!(endpoint_name("order_status", &taken), "order_status_3");
        assert_eq!(endpoint_name("shop.orders/get", &taken), "shop_orders_get");
        assert_eq!(endpoint_name("", &taken), "tool");
    }

    #[test]
    fn a_tools_schema_gives_its_variables() {
        let schema = serde_json::json!({"type": "object", "required": ["order_id"],
            "properties": {"order_id": {"type": "string", "pattern": "^[0-9]+$", "title": "Order Id"},
                           "verbose": {"type": "boolean", "description": "More detail"}}});
        let variables = variables_of(&schema);
        assert_eq!(variables.len(), 2);
        assert_eq!(
            (variables[0].name.as_str(), variables[0].required, variables[0].pattern.as_deref()),
            ("order_id", true, Some("^[0-9]+$"))
        );
        assert_eq!(
            (variables[1].description.as_str(), variables[1].required),
            ("More detail", false)
        );
    }
}
